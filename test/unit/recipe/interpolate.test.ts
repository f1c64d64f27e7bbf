import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  configurationText,
  interpolate,
  interpolateTree,
  jsonPointer,
  parseRecipe,
  type InterpolationContext,
} from '../../../src/recipe/index.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const recipes = path.resolve(repoRoot, '../shared/fixtures/recipes');

// DefaultConfiguration of the ComponentConfigTestService fixture [SC-24].
function configTestServiceDefaults() {
  const file = path.join(
    recipes,
    'aws-greengrass-nucleus__src__integrationtests__resources__com__aws__greengrass__integrationtests__deployment__local_store_content__recipes__aws.iot.gg.test.integ.ComponentConfigTestService-1.0.0.yaml',
  );
  const r = parseRecipe(readFileSync(file));
  if (!r.ok) throw new Error('fixture did not parse');
  return r.recipe.defaultConfiguration!;
}

const ctx: InterpolationContext = {
  rootPath: '/greengrass/v2',
  thingName: 'MyThing',
  self: {
    name: 'com.example.App',
    version: '1.2.3',
    configuration: { Message: 'hi', n: 3, on: true, nil: null },
  },
  dependencies: {
    GreenSignal: { name: 'GreenSignal', version: '1.0.0', configuration: { NumApprovals: 2 } },
  },
  namespaces: 'all',
};

describe('interpolate', () => {
  it('[RC-31] system variables: artifacts, decompressedPath, work, kernel, iot', () => {
    const r = interpolate(
      '{artifacts:path}|{artifacts:decompressedPath}|{work:path}|{kernel:rootPath}|{iot:thingName}',
      ctx,
    );
    expect(r.value).to.equal(
      '/greengrass/v2/packages/artifacts/com.example.App/1.2.3|/greengrass/v2/packages/artifacts-unarchived/com.example.App/1.2.3|/greengrass/v2/work/com.example.App|/greengrass/v2|MyThing',
    );
    expect(r.warnings).to.deep.equal([]);
  });

  it('[RC-31] configuration pointers: string, number, boolean, null as text', () => {
    expect(
      interpolate('{configuration:/Message} {configuration:/n} {configuration:/on} {configuration:/nil}', ctx)
        .value,
    ).to.equal('hi 3 true null');
  });

  it('[RC-31][SC-24] ComponentConfigTestService defaults: container as sorted compact JSON, list index, empty values', () => {
    const conf = configTestServiceDefaults();
    const c: InterpolationContext = { ...ctx, self: { name: 'S', version: '1.0.0', configuration: conf } };
    for (const [ptr, v] of Object.entries(conf)) {
      const out = interpolate(`{configuration:/${ptr}}`, c).value;
      expect(out).to.equal(configurationText(v));
    }
    expect(configurationText({ b: 1, a: { d: [1, { z: 1, y: 2 }], c: '' } })).to.equal(
      '{"a":{"c":"","d":[1,{"y":2,"z":1}]},"b":1}',
    );
    expect(configurationText([])).to.equal('[]');
    expect(configurationText({})).to.equal('{}');
  });

  it('[RC-31][BH-07] a missing pointer is left verbatim with a warning', () => {
    const r = interpolate('x {configuration:/nope/deeper} y', ctx);
    expect(r.value).to.equal('x {configuration:/nope/deeper} y');
    expect(r.warnings).to.deep.equal([
      '{configuration:/nope/deeper}: no configuration value at pointer "/nope/deeper"; left unchanged',
    ]);
  });

  it('[RC-31] cross-component placeholders resolve for a direct dependency only', () => {
    const r = interpolate(
      '{GreenSignal:configuration:/NumApprovals} {GreenSignal:artifacts:path} {Other:work:path}',
      ctx,
    );
    expect(r.value).to.equal('2 /greengrass/v2/packages/artifacts/GreenSignal/1.0.0 {Other:work:path}');
    expect(r.warnings).to.deep.equal([
      '{Other:work:path}: Other is not a direct dependency of com.example.App; left unchanged',
    ]);
  });

  it('[RC-34] unknown namespaces and keys are left unchanged with a warning', () => {
    const r = interpolate('{secrets:token} {artifacts:elsewhere} {iot:region}', ctx);
    expect(r.value).to.equal('{secrets:token} {artifacts:elsewhere} {iot:region}');
    expect(r.warnings).to.have.length(3);
    expect(r.warnings[0]).to.contain('unknown namespace "secrets"');
    expect(r.warnings[1]).to.contain('unknown key "elsewhere" in namespace "artifacts"');
  });

  it('[RC-33] component configuration: system namespaces only, configuration left verbatim', () => {
    const tree = { resources: ['$aws/things/{iot:thingName}/jobs/+', '{configuration:/Message}'], n: 1 };
    const r = interpolateTree(tree, { ...ctx, namespaces: 'system' });
    expect(r.value).to.deep.equal({
      resources: ['$aws/things/MyThing/jobs/+', '{configuration:/Message}'],
      n: 1,
    });
    expect(r.warnings[0]).to.contain(
      'namespace "configuration" is not interpolated in component configuration',
    );
  });

  it('[RC-30] substituted text is not interpolated again, and text without placeholders is unchanged', () => {
    const c: InterpolationContext = { ...ctx, self: { ...ctx.self, configuration: { a: '{work:path}' } } };
    expect(interpolate('{configuration:/a}', c).value).to.equal('{work:path}');
    expect(interpolate('echo {not a placeholder} ${HOME}', ctx).value).to.equal(
      'echo {not a placeholder} ${HOME}',
    );
  });

  it('[RC-31] unknown thing name leaves {iot:thingName} verbatim with a warning', () => {
    const r = interpolate('{iot:thingName}', { ...ctx, thingName: undefined });
    expect(r.value).to.equal('{iot:thingName}');
    expect(r.warnings[0]).to.contain('thing name is not known');
  });

  it('RFC 6901 pointers: whole document, escapes, list index bounds', () => {
    const doc = { 'a/b': { 'm~n': [10, 20] } };
    expect(jsonPointer(doc, '')).to.deep.equal({ found: true, value: doc });
    expect(jsonPointer(doc, '/a~1b/m~0n/1')).to.deep.equal({ found: true, value: 20 });
    expect(jsonPointer(doc, '/a~1b/m~0n/2')).to.deep.equal({ found: false });
    expect(jsonPointer(doc, '/a~1b/m~0n/01')).to.deep.equal({ found: false });
    expect(jsonPointer(doc, 'nope')).to.deep.equal({ found: false });
  });
});
