// Data-driven conformance over the shared recipe fixtures: the README's table says which recipes are
// INVALID (and why) and which are TEMPLATEs; every other recipe must parse.
import { expect } from 'chai';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DOCUMENT_PATH, parseRecipe, type RecipeProblem } from '../../../src/recipe/index.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const fixtures = path.resolve(repoRoot, '../shared/fixtures');
const recipesDir = path.join(fixtures, 'recipes');

interface Row {
  file: string;
  note: string;
}

function recipeRows(): Row[] {
  const readme = readFileSync(path.join(fixtures, 'README.md'), 'utf8');
  const section = readme.split(/^## /m).find((s) => s.startsWith('Recipes'));
  if (!section) throw new Error('fixtures README has no Recipes section');
  const rows: Row[] = [];
  for (const line of section.split('\n')) {
    const cells = line.split(' | ');
    const file = /^\| `([^`]+)`$/.exec(cells[0] ?? '')?.[1];
    if (file) rows.push({ file, note: cells[cells.length - 1].replace(/ \|$/, '') });
  }
  return rows;
}

// The precise refusal expected for each INVALID fixture [RC-01, RC-03..RC-17].
const EXPECTED_PROBLEMS: Record<string, Array<{ path: string; reason: RegExp }>> = {
  'InvalidRecipe-1.0.0.yaml': [
    { path: DOCUMENT_PATH, reason: /^YAML syntax error: .* at line 21, column 12$/ },
  ],
  'Cool-Database-1.0.0.yaml': [
    { path: DOCUMENT_PATH, reason: /^YAML syntax error: bad indentation .* at line 10, column 3$/ },
  ],
  'ComponentWithCircularDependency-1.0.0.yaml': [
    { path: 'ComponentDependencies.ComponentWithCircularDependency', reason: /cannot depend on itself/ },
  ],
  'AppInvalidRecipe-1.0.0.yaml': [
    { path: DOCUMENT_PATH, reason: /^YAML syntax error: .* at line 2, column 20$/ },
  ],
  'error-recipe-contains-null-element-in-artifacts.yaml': [
    { path: 'Manifests[0].Artifacts[0]', reason: /^null artifact entries are not allowed$/ },
  ],
  'error-recipe-contains-null-element-in-manifests.yaml': [
    { path: 'Manifests[0]', reason: /^null manifest entries are not allowed$/ },
  ],
  'sample-recipe-fail-missing-uri.yaml': [{ path: 'Manifests[0].Artifacts[0].Uri', reason: /^is required$/ }],
  'sample-recipe-fail-missing-versionRequirement.yaml': [
    { path: 'ComponentDependencies.abc.VersionRequirement', reason: /^is required$/ },
    { path: 'Manifests[0]', reason: /^null manifest entries are not allowed$/ },
  ],
  'sample-recipe-with-illegal-component-name.yaml': [
    { path: 'ComponentName', reason: /may contain only letters.*"aws.greengrass.foo bar service"/ },
  ],
  'sample-recipe-with-long-component-version.yaml': [
    { path: 'ComponentVersion', reason: /^must be at most 64 characters, got 84$/ },
  ],
  'supported_lifecyle_types__2.json': [{ path: DOCUMENT_PATH, reason: /^JSON syntax error: .*position 4\b/ }],
  'invalid_component_recipe.yaml': [
    { path: DOCUMENT_PATH, reason: /^YAML syntax error: .* at line 13, column 5$/ },
  ],
  'recipe_missing_comma.json': [{ path: DOCUMENT_PATH, reason: /^JSON syntax error: .*position 178\b/ }],
  'hello_world_recipe_invalid.yaml': [
    { path: 'RecipeFormatVersion', reason: /^must be 2020-01-25, got "20-01-25"$/ },
  ],
};

// Fixtures the README does not mark INVALID that Tendril nevertheless refuses, and why.
// iot_mqtt_publisher.yaml: its artifact uses the greengrass-testing framework's own `classpath:`
// scheme, which that framework rewrites to s3: before upload; a device would refuse it [RC-39], and
// Tendril refuses it at parse time rather than at download.
const DEVIATIONS: Record<string, Array<{ path: string; reason: RegExp }>> = {
  'iot_mqtt_publisher.yaml': [
    { path: 'Manifests[0].Artifacts[0].Uri', reason: /^unsupported scheme "classpath"/ },
  ],
};

const PLACEHOLDERS: Array<[string, string]> = [
  ['{COMPONENT_VERSION}', '1.0.0'],
  ['COMPONENT_VERSION', '1.0.0'],
  ['COMPONENT_NAME', 'com.example.Templated'],
];

function expectProblems(problems: RecipeProblem[], expected: Array<{ path: string; reason: RegExp }>): void {
  expect(problems.map((p) => p.path)).to.deep.equal(expected.map((e) => e.path));
  problems.forEach((p, i) => expect(p.reason).to.match(expected[i].reason));
}

function lookup<T>(table: Record<string, T>, file: string): T | undefined {
  const key = Object.keys(table).find((k) => file.endsWith(`__${k}`));
  return key === undefined ? undefined : table[key];
}

describe('recipe fixtures (shared/fixtures/recipes, README table)', () => {
  const rows = recipeRows();

  it('[RC-01] the README lists every recipe fixture file, and each listed file exists', () => {
    expect(rows.map((r) => r.file).sort()).to.deep.equal(readdirSync(recipesDir).sort());
  });

  it('[RC-01] every INVALID fixture has an expected refusal in this test', () => {
    const invalid = rows.filter((r) => r.note.startsWith('INVALID'));
    expect(invalid.length).to.equal(14);
    for (const r of invalid) expect(lookup(EXPECTED_PROBLEMS, r.file), r.file).to.not.equal(undefined);
  });

  for (const row of rows) {
    const text = readFileSync(path.join(recipesDir, row.file));
    if (row.note.startsWith('INVALID')) {
      it(`[RC-01][RC-03..RC-17] refuses INVALID ${row.file} precisely`, () => {
        const r = parseRecipe(text);
        if (r.ok) expect.fail(`${row.file} parsed but the README marks it INVALID: ${row.note}`);
        expectProblems(r.problems, lookup(EXPECTED_PROBLEMS, row.file)!);
      });
    } else if (row.note.includes('TEMPLATE')) {
      // TEMPLATE files: placeholders may make the name or version invalid as-is. Accept the file as-is
      // or refuse it only on those fields; after substitution it must parse.
      it(`[RC-04][RC-05] TEMPLATE ${row.file}: only placeholder fields fail, substituted it parses`, () => {
        const r = parseRecipe(text);
        if (!r.ok) {
          for (const p of r.problems) expect(['ComponentName', 'ComponentVersion']).to.include(p.path);
        }
        let substituted = text.toString('utf8');
        for (const [from, to] of PLACEHOLDERS) substituted = substituted.split(from).join(to);
        const s = parseRecipe(substituted);
        expect(s.ok, JSON.stringify(s.ok ? [] : s.problems)).to.equal(true);
      });
    } else if (lookup(DEVIATIONS, row.file)) {
      it(`[RC-39] refuses ${row.file} (documented deviation: non-standard artifact scheme)`, () => {
        const r = parseRecipe(text);
        if (r.ok) expect.fail('expected a refusal');
        expectProblems(r.problems, lookup(DEVIATIONS, row.file)!);
      });
    } else {
      it(`[RC-01] parses ${row.file}`, () => {
        const r = parseRecipe(text);
        if (!r.ok) expect.fail(r.problems.map((p) => `${p.path}: ${p.reason}`).join('\n'));
        expect(r.recipe.componentName).to.match(/^[a-zA-Z0-9-_.]+$/);
        expect(r.recipe.recipeFormatVersion).to.equal('2020-01-25');
      });
    }
  }
});
