import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  mergeRunWith,
  parseRecipe,
  previousVersionFor,
  recipeToServiceConfig,
  type Recipe,
} from '../../../src/recipe/index.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const recipes = path.resolve(repoRoot, '../shared/fixtures/recipes');
const nucleusIT =
  'aws-greengrass-nucleus__src__integrationtests__resources__com__aws__greengrass__integrationtests__deployment__local_store_content__recipes__';

function fixture(name: string): Recipe {
  const r = parseRecipe(readFileSync(path.join(recipes, name)));
  if (!r.ok) throw new Error(JSON.stringify(r.problems));
  return r.recipe;
}

const linux = { os: 'linux', architecture: 'amd64' };

describe('recipeToServiceConfig', () => {
  it('[RC-28][RC-31][SC-25] SystemConfigTest: interpolated lifecycle, GENERIC, deps, version, configuration', () => {
    const r = fixture(`${nucleusIT}aws.iot.gg.test.integ.SystemConfigTest-0.0.1.yaml`);
    const out = recipeToServiceConfig(r, linux, {
      rootPath: '/gg',
      dependencies: { GreenSignal: { name: 'GreenSignal', version: '1.0.0' } },
    });
    if (!out.ok) expect.fail(out.message);
    expect(out.config.componentType).to.equal('GENERIC');
    expect(out.config.version).to.equal('0.0.1');
    expect(out.config.dependencies).to.deep.equal(['GreenSignal:HARD']);
    const text = JSON.stringify(out.config.lifecycle);
    expect(text).to.contain('/gg/packages/artifacts/aws.iot.gg.test.integ.SystemConfigTest/0.0.1');
    expect(text).to.contain('/gg/packages/artifacts-unarchived/GreenSignal/1.0.0');
    expect(text).to.not.match(/\{(kernel|artifacts|GreenSignal):/);
  });

  it('[RC-28][RC-10] SOFT and default HARD dependencies render as name:TYPE; plugin type is PLUGIN', () => {
    const r = fixture(
      'aws-greengrass-nucleus__src__test__resources__com__aws__greengrass__componentmanager__converter__sample_recipe_with_all_fields.yaml',
    );
    const out = recipeToServiceConfig(r, linux, { rootPath: '/gg' });
    if (!out.ok) expect.fail(out.message);
    expect(out.config.componentType).to.equal('PLUGIN');
    expect(out.config.dependencies).to.deep.equal(['BarService:SOFT', 'BazService:HARD']);
    expect(out.config.lifecycle).to.deep.equal({ install: 'echo install', run: 'echo run' });
  });

  it('[RC-06][RC-35] the Nucleus recipe maps to NUCLEUS and interpolates {configuration:/jvmOptions}', () => {
    const r = fixture('aws-greengrass-nucleus__conf__recipe.yaml');
    const out = recipeToServiceConfig(r, linux, {
      rootPath: '/gg',
      configuration: { jvmOptions: '-Xmx64m' },
    });
    if (!out.ok) expect.fail(out.message);
    expect(out.config.componentType).to.equal('NUCLEUS');
    const text = JSON.stringify(out.config.lifecycle);
    expect(text).to.contain('-Xmx64m');
    expect(text).to.contain('/gg/packages/artifacts-unarchived/aws.greengrass.Nucleus/');
  });

  it('[RC-31][RC-32] CustomerApp: {configuration:/sampleText} from the resolved configuration', () => {
    const r = fixture(`${nucleusIT}CustomerApp-1.0.0.yaml`);
    const out = recipeToServiceConfig(r, linux, {
      rootPath: '/gg',
      configuration: { sampleText: 'resolved!' },
    });
    if (!out.ok) expect.fail(out.message);
    expect(JSON.stringify(out.config.lifecycle)).to.contain('resolved!');
    expect(out.config.configuration).to.deep.equal({ sampleText: 'resolved!' });
  });

  it('[RC-33] {iot:thingName} in accessControl only when interpolateComponentConfiguration is on', () => {
    const text = readFileSync(
      path.join(recipes, 'aws-greengrass-labs-certificate-rotator__recipe.yaml'),
      'utf8',
    )
      .replace('COMPONENT_VERSION', '1.0.0')
      .replace('COMPONENT_NAME', 'aws.greengrass.labs.CertificateRotator');
    const p = parseRecipe(text);
    if (!p.ok) expect.fail(JSON.stringify(p.problems));
    const off = recipeToServiceConfig(p.recipe, linux, { rootPath: '/gg', thingName: 'T1' });
    const on = recipeToServiceConfig(p.recipe, linux, {
      rootPath: '/gg',
      thingName: 'T1',
      interpolateComponentConfiguration: true,
    });
    if (!off.ok || !on.ok) expect.fail();
    expect(JSON.stringify(off.config.configuration)).to.contain('{iot:thingName}');
    expect(JSON.stringify(on.config.configuration))
      .to.contain('$aws/things/T1/jobs/+/get')
      .and.not.contain('{iot:thingName}');
  });

  it('[RC-24] returns the manifest error when no manifest matches', () => {
    const r = fixture(
      'aws-greengrass-nucleus__src__test__resources__com__aws__greengrass__componentmanager__converter__sample_recipe_with_no_matching_platform.yaml',
    );
    const out = recipeToServiceConfig(r, linux, { rootPath: '/gg' });
    expect(out.ok).to.equal(false);
    if (!out.ok) expect(out.error).to.equal('NO_MATCHING_PLATFORM');
  });
});

describe('runWith and previousVersion rules', () => {
  it('[RC-28] mergeRunWith: absent keeps, empty string removes, value replaces; PascalCase accepted', () => {
    const existing = {
      posixUser: 'ggc_user:ggc_group',
      windowsUser: 'gg',
      systemResourceLimits: { memory: 1024 },
    };
    expect(mergeRunWith(existing, { PosixUser: 'nobody', WindowsUser: '' })).to.deep.equal({
      posixUser: 'nobody',
      systemResourceLimits: { memory: 1024 },
    });
    expect(
      mergeRunWith(existing, { systemResourceLimits: { cpus: 0.5 } }).systemResourceLimits,
    ).to.deep.equal({ cpus: 0.5 });
    expect(mergeRunWith(undefined, { posixUser: 'a', other: 'ignored' })).to.deep.equal({ posixUser: 'a' });
    expect(existing.windowsUser).to.equal('gg');
  });

  it('[RC-28] previousVersion is the old version when the version changes, kept otherwise', () => {
    expect(previousVersionFor({ version: '1.0.0' }, '2.0.0')).to.equal('1.0.0');
    expect(previousVersionFor({ version: '2.0.0', previousVersion: '1.0.0' }, '2.0.0')).to.equal('1.0.0');
    expect(previousVersionFor(undefined, '1.0.0')).to.equal(undefined);
  });
});
