import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseRecipe, selectLifecycle, selectManifest, type Recipe } from '../../../src/recipe/index.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const recipes = path.resolve(repoRoot, '../shared/fixtures/recipes');

function load(text: string): Recipe {
  const r = parseRecipe(text);
  if (!r.ok) throw new Error(JSON.stringify(r.problems));
  return r.recipe;
}

function lifecycleFor(recipe: Recipe, device: Record<string, string>) {
  const sel = selectManifest(recipe, device);
  if (!sel.ok) throw new Error(sel.message);
  return selectLifecycle(recipe, sel.manifest);
}

describe('selectLifecycle', () => {
  const multi = load(
    readFileSync(
      path.join(
        recipes,
        'aws-greengrass-nucleus__src__test__resources__com__aws__greengrass__componentmanager__converter__sample_recipe_with_global_lifecycle_multiplatform.yaml',
      ),
      'utf8',
    ),
  );

  it('[RC-26] Selections [testPlatform] choose the testPlatform branch of the global Lifecycle', () => {
    expect(lifecycleFor(multi, { os: 'testOs', architecture: 'testArch' }).lifecycle).to.deep.equal({
      install: 'echo install',
    });
  });

  it('[RC-26] a manifest without Selections (no Platform) falls back to all', () => {
    expect(lifecycleFor(multi, { os: 'linux', architecture: 'amd64' }).lifecycle).to.deep.equal({
      install: 'echo "default install"',
    });
  });

  it('[RC-25] a non-empty manifest Lifecycle is used verbatim, even with a global Lifecycle', () => {
    const r = load(`RecipeFormatVersion: '2020-01-25'
ComponentName: a
ComponentVersion: 1.0.0
Manifests:
  - Selections: [linux]
    Lifecycle: { run: manifest }
Lifecycle:
  linux: { run: global }
`);
    expect(lifecycleFor(r, { os: 'linux' }).lifecycle).to.deep.equal({ run: 'manifest' });
  });

  it('[RC-26] priority order of Selections, nested keyword levels, dropped siblings, unmatched levels removed', () => {
    const r = load(`RecipeFormatVersion: '2020-01-25'
ComponentName: a
ComponentVersion: 1.0.0
Manifests:
  - Platform: { os: linux }
    Selections: [ubuntu, linux]
  - Platform: { os: windows }
    Selections: [windows]
Lifecycle:
  install:
    linux: apt-get install x
    ubuntu:
      Script: ubuntu install
      Skipif:
        windows: never
        all: onpath apt
    windows: choco install x
  run:
    all: run it
  shutdown:
    windows: stop it
  setenv:
    PATH: /bin
  extra:
    linux: only linux
    notAKeyword: ignored
`);
    const out = lifecycleFor(r, { os: 'linux' });
    expect(out.lifecycle).to.deep.equal({
      install: { Script: 'ubuntu install', Skipif: 'onpath apt' },
      run: 'run it',
      setenv: { PATH: '/bin' },
      extra: 'only linux',
    });
    expect(out.warnings).to.deep.equal([
      'Lifecycle.extra.notAKeyword: ignored, not a selection keyword at a selection level',
    ]);
    expect(lifecycleFor(r, { os: 'windows' }).lifecycle).to.deep.equal({
      install: 'choco install x',
      run: 'run it',
      shutdown: 'stop it',
      setenv: { PATH: '/bin' },
    });
  });

  it('[RC-26][RC-17] Greengrass Lite list-form global Lifecycle with `all` and an empty manifest Lifecycle', () => {
    const r = load(
      readFileSync(
        path.join(recipes, 'aws-greengrass-lite__docs__examples__supported_lifecyle_types__3.yaml'),
        'utf8',
      ),
    );
    const lc = lifecycleFor(r, { os: 'linux', runtime: 'aws_nucleus_lite' }).lifecycle;
    expect(lc).to.have.keys(['Setenv', 'run']);
  });

  it('[RC-26] a recipe with neither manifest nor global Lifecycle selects an empty lifecycle', () => {
    const r = load(
      "RecipeFormatVersion: '2020-01-25'\nComponentName: a\nComponentVersion: 1.0.0\nManifests:\n  - Platform: {}\n",
    );
    expect(lifecycleFor(r, { os: 'linux' })).to.deep.equal({ lifecycle: {}, warnings: [] });
  });
});
