// Version resolution over groups' roots and recipe dependencies (deployment.md section 3, DP-23).
import { expect } from 'chai';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  resolveComponentVersions,
  resolveFromSource,
  type ComponentCandidate,
  type ComponentSource,
  type ResolveInput,
} from '../../../src/deployment/index.js';
import { parseRecipe, type Recipe } from '../../../src/recipe/index.js';

const LINUX = { os: 'linux', architecture: 'amd64' };

function recipe(name: string, version: string, deps: Record<string, string> = {}, os = 'linux'): Recipe {
  const r = parseRecipe(
    JSON.stringify({
      RecipeFormatVersion: '2020-01-25',
      ComponentName: name,
      ComponentVersion: version,
      ComponentDependencies: Object.fromEntries(
        Object.entries(deps).map(([n, v]) => [n, { VersionRequirement: v }]),
      ),
      Manifests: [{ Platform: { os }, Lifecycle: { run: 'true' } }],
    }),
  );
  if (!r.ok) throw new Error(JSON.stringify(r.problems));
  return r.recipe;
}

/** An in-memory catalog: name -> candidates. */
function catalog(...recipes: Recipe[]): Map<string, ComponentCandidate[]> {
  const m = new Map<string, ComponentCandidate[]>();
  for (const r of recipes) {
    m.set(r.componentName, [...(m.get(r.componentName) ?? []), { version: r.componentVersion, recipe: r }]);
  }
  return m;
}

function resolve(input: Partial<ResolveInput>, cat: Map<string, ComponentCandidate[]>) {
  const step = resolveComponentVersions(
    { groups: {}, installed: {}, platform: LINUX, ...input },
    (n) => cat.get(n) ?? [],
  );
  return step;
}

function versions(step: ReturnType<typeof resolve>): Record<string, string> {
  if (step.status !== 'resolved') throw new Error(JSON.stringify(step));
  return Object.fromEntries(Object.values(step.components).map((c) => [c.name, c.version]));
}

describe('resolveComponentVersions', () => {
  const cat = catalog(
    recipe('com.example.App', '1.0.0', { 'com.example.Lib': '^1.0.0' }),
    recipe('com.example.Lib', '1.0.0'),
    recipe('com.example.Lib', '1.2.0'),
    recipe('com.example.Lib', '2.0.0'),
  );

  it('resolves roots and transitive dependencies to the greatest satisfying version', () => {
    const step = resolve({ groups: { 'thinggroup/A': { 'com.example.App': '1.0.0' } } }, cat);
    expect(versions(step)).to.deep.equal({ 'com.example.App': '1.0.0', 'com.example.Lib': '1.2.0' });
    if (step.status !== 'resolved') return;
    expect(step.components['com.example.App'].rootOf).to.deep.equal(['thinggroup/A']);
    expect(step.components['com.example.Lib'].rootOf).to.deep.equal([]);
    expect(step.components['com.example.Lib'].requirements).to.deep.equal([
      { range: '^1.0.0', from: 'com.example.App@1.0.0' },
    ]);
  });

  it('prefers the installed version when it satisfies every requirement', () => {
    const step = resolve(
      {
        groups: { 'thinggroup/A': { 'com.example.App': '1.0.0' } },
        installed: { 'com.example.Lib': '1.0.0' },
      },
      cat,
    );
    expect(versions(step)['com.example.Lib']).to.equal('1.0.0');
  });

  it('names the component, each requirement and who made it on a conflict', () => {
    const step = resolve(
      {
        groups: {
          'thinggroup/A': { 'com.example.App': '1.0.0', 'com.example.Lib': '>=2.0.0' },
        },
      },
      cat,
    );
    expect(step).to.deep.equal({
      status: 'failed',
      error: {
        code: 'VERSION_CONFLICT',
        component: 'com.example.Lib',
        message:
          'com.example.Lib: no version satisfies ">=2.0.0" (from group thinggroup/A root) and "^1.0.0" ' +
          '(from com.example.App@1.0.0); available for this platform: 1.0.0, 1.2.0, 2.0.0',
      },
    });
  });

  it('[DP-02] two groups pinning different versions of one root conflict, naming both groups', () => {
    const step = resolve(
      {
        groups: { 'thinggroup/A': { 'com.example.Lib': '1.0.0' }, 'thing/T': { 'com.example.Lib': '2.0.0' } },
      },
      cat,
    );
    expect(step.status).to.equal('failed');
    if (step.status !== 'failed') return;
    expect(step.error.message).to.equal(
      'com.example.Lib: no version satisfies "2.0.0" (from group thing/T root) and "1.0.0" (from group thinggroup/A root); ' +
        'available for this platform: 1.0.0, 1.2.0, 2.0.0',
    );
  });

  it('a version with no manifest for the platform is not a candidate [RC-22, RC-24]', () => {
    const c = catalog(
      recipe('com.example.App', '1.0.0', { 'com.example.Lib': '>=1.0.0' }),
      recipe('com.example.Lib', '1.0.0'),
      recipe('com.example.Lib', '3.0.0', {}, 'windows'),
    );
    expect(
      versions(resolve({ groups: { g: { 'com.example.App': '1.0.0' } } }, c))['com.example.Lib'],
    ).to.equal('1.0.0');
    const only = catalog(recipe('com.example.Win', '1.0.0', {}, 'windows'));
    expect(resolve({ groups: { g: { 'com.example.Win': '1.0.0' } } }, only)).to.deep.equal({
      status: 'failed',
      error: {
        code: 'NO_MATCHING_PLATFORM',
        component: 'com.example.Win',
        message:
          'com.example.Win: no version has a manifest for the platform os=linux, architecture=amd64 (versions: 1.0.0)',
      },
    });
  });

  it('an unknown component is named with who required it', () => {
    const step = resolve({ groups: { g: { 'com.example.Nope': '1.0.0' } } }, cat);
    expect(step.status === 'failed' && step.error).to.deep.equal({
      code: 'COMPONENT_NOT_FOUND',
      component: 'com.example.Nope',
      message: 'com.example.Nope: no version is available; required "1.0.0" (from group g root)',
    });
  });

  it('re-chooses a component when a new requirement rules its version out, dropping its old dependencies', () => {
    const c = catalog(
      recipe('com.example.App', '1.0.0', { 'com.example.Lib': '>=2.0.0' }),
      recipe('com.example.Lib', '1.0.0', { 'com.example.Legacy': '*' }),
      recipe('com.example.Lib', '2.1.0'),
      recipe('com.example.Legacy', '1.0.0'),
    );
    const step = resolve(
      {
        groups: {
          'thinggroup/A': { 'com.example.Lib': '>=1.0.0' },
          'thinggroup/B': { 'com.example.App': '1.0.0' },
        },
        installed: { 'com.example.Lib': '1.0.0' },
      },
      c,
    );
    expect(versions(step)).to.deep.equal({ 'com.example.Lib': '2.1.0', 'com.example.App': '1.0.0' });
  });

  it('names a dependency cycle', () => {
    const c = catalog(
      recipe('com.example.A', '1.0.0', { 'com.example.B': '*' }),
      recipe('com.example.B', '1.0.0', { 'com.example.C': '*' }),
      recipe('com.example.C', '1.0.0', { 'com.example.A': '*' }),
    );
    const step = resolve({ groups: { g: { 'com.example.A': '1.0.0' } } }, c);
    expect(step.status === 'failed' && step.error).to.deep.equal({
      code: 'CIRCULAR_DEPENDENCY',
      component: 'com.example.A',
      message: 'dependency cycle: com.example.A -> com.example.B -> com.example.C -> com.example.A',
    });
  });

  it('asks for the candidates it has not seen yet', () => {
    const step = resolveComponentVersions(
      { groups: { g: { 'com.example.App': '1.0.0' } }, installed: {}, platform: LINUX },
      (n) => (n === 'com.example.App' ? cat.get(n) : undefined),
    );
    expect(step).to.deep.equal({ status: 'need', names: ['com.example.Lib'] });
  });
});

describe('resolveFromSource over the reference local-store recipes', () => {
  const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
  const dir = path.resolve(repoRoot, '../shared/fixtures/recipes');

  /** A ComponentSource over the fixture files named `...local_store_content__recipes__<Name>-<ver>.yaml`. */
  class FixtureSource implements ComponentSource {
    readonly asked: string[] = [];
    async listVersions(name: string): Promise<ComponentCandidate[]> {
      this.asked.push(name);
      const out: ComponentCandidate[] = [];
      for (const f of readdirSync(dir).filter((x) => x.includes('local_store_content__recipes__'))) {
        const r = parseRecipe(readFileSync(path.join(dir, f)));
        if (r.ok && r.recipe.componentName === name)
          out.push({ version: r.recipe.componentVersion, recipe: r.recipe });
      }
      return out;
    }
  }

  it('CustomerApp pulls Mosquitto, ClassService and GreenSignal; each name is fetched once', async () => {
    const source = new FixtureSource();
    const r = await resolveFromSource(
      { groups: { 'thinggroup/group1': { CustomerApp: '1.0.0' } }, installed: {}, platform: LINUX },
      source,
    );
    if (!r.ok) expect.fail(r.error.message);
    expect(Object.keys(r.components).sort()).to.deep.equal([
      'ClassService',
      'CustomerApp',
      'GreenSignal',
      'Mosquitto',
    ]);
    expect(r.components.GreenSignal.requirements).to.deep.equal([
      { range: '=1.0.0', from: 'Mosquitto@1.0.0' },
    ]);
    expect([...source.asked].sort()).to.deep.equal([
      'ClassService',
      'CustomerApp',
      'GreenSignal',
      'Mosquitto',
    ]);
  });

  it('DependencyRollback roots: DependencyOnDependency 1.0.1 is not in the store', async () => {
    const r = await resolveFromSource(
      {
        groups: { g: { BreakingService2: '1.0.0', DependencyOnDependency: '1.0.1' } },
        installed: {},
        platform: LINUX,
      },
      new FixtureSource(),
    );
    expect(!r.ok && r.error.code).to.equal('COMPONENT_NOT_FOUND');
    expect(!r.ok && r.error.component).to.equal('DependencyOnDependency');
  });
});
