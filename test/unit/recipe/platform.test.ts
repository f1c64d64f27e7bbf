import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  devicePlatform,
  manifestMatches,
  parseRecipe,
  selectManifest,
  templateMatches,
  type Recipe,
} from '../../../src/recipe/index.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const recipes = path.resolve(repoRoot, '../shared/fixtures/recipes');

function fixture(suffix: string): Recipe {
  const r = parseRecipe(readFileSync(path.join(recipes, suffix)));
  if (!r.ok) throw new Error(JSON.stringify(r.problems));
  return r.recipe;
}

const linuxHost = { platform: 'linux', arch: 'x64', machine: 'x86_64', hasProc: true };

describe('devicePlatform', () => {
  it('[RC-18][RC-19] maps a Linux x64 host to os linux, architecture amd64, no detail', () => {
    expect(devicePlatform(undefined, linuxHost)).to.deep.equal({ os: 'linux', architecture: 'amd64' });
  });

  it('[RC-19][RC-20] maps arm64 to aarch64 and adds architecture.detail only for listed uname values', () => {
    expect(devicePlatform(undefined, { ...linuxHost, arch: 'arm64', machine: 'armv8l' })).to.deep.equal({
      os: 'linux',
      architecture: 'aarch64',
      'architecture.detail': 'armv8l',
    });
    expect(devicePlatform(undefined, { ...linuxHost, arch: 'arm64', machine: 'aarch64' })).to.deep.equal({
      os: 'linux',
      architecture: 'aarch64',
    });
    expect(
      devicePlatform(undefined, { ...linuxHost, arch: 'arm', machine: 'armv7l' })['architecture.detail'],
    ).to.equal('armv7l');
    // detail only for arm/aarch64, even when uname says armv7l
    expect(devicePlatform(undefined, { ...linuxHost, machine: 'armv7l' })).to.not.have.property(
      'architecture.detail',
    );
  });

  it('[RC-18][RC-19] maps windows, darwin, no-/proc and unknown architectures', () => {
    expect(
      devicePlatform(undefined, { platform: 'win32', arch: 'ia32', machine: 'i686', hasProc: false }),
    ).to.deep.equal({
      os: 'windows',
      architecture: 'x86',
    });
    expect(
      devicePlatform(undefined, { platform: 'darwin', arch: 'arm64', machine: 'arm64', hasProc: false }).os,
    ).to.equal('darwin');
    expect(
      devicePlatform(undefined, { platform: 'freebsd', arch: 'riscv64', machine: 'riscv64', hasProc: false }),
    ).to.deep.equal({ os: 'unknown', architecture: 'unknown' });
  });

  it('[RC-21] platformOverride replaces and adds attributes', () => {
    expect(devicePlatform({ os: 'raspbian', runtime: 'tendril' }, linuxHost)).to.deep.equal({
      os: 'raspbian',
      architecture: 'amd64',
      runtime: 'tendril',
    });
  });

  it('[RC-18] reads this host (linux here) without an override', () => {
    const p = devicePlatform();
    expect(p.os).to.equal(process.platform === 'linux' ? 'linux' : p.os);
    expect(['amd64', 'aarch64', 'arm', 'x86', 'unknown']).to.include(p.architecture);
  });
});

describe('manifest matching', () => {
  const device = { os: 'linux', architecture: 'aarch64', 'architecture.detail': 'armv8l' };

  it('[RC-23] * and null match anything, even a missing label', () => {
    expect(templateMatches('runtime', '*', undefined)).to.equal(true);
    expect(templateMatches('runtime', null, undefined)).to.equal(true);
  });

  it('[RC-23] /regex/ is a full match, not a substring search', () => {
    expect(templateMatches('os', '/darwin|linux/', 'linux')).to.equal(true);
    expect(templateMatches('architecture', '/x86|aarch64|amd64|arm/', 'aarch64')).to.equal(true);
    expect(templateMatches('os', '/lin/', 'linux')).to.equal(false);
    expect(templateMatches('os', '/linux/', '')).to.equal(false);
  });

  it('[RC-23] all/any are wildcards only for os and architecture', () => {
    expect(templateMatches('os', 'all', 'linux')).to.equal(true);
    expect(templateMatches('architecture', 'any', 'amd64')).to.equal(true);
    expect(templateMatches('runtime', 'all', 'lite')).to.equal(false);
    expect(templateMatches('runtime', 'all', 'all')).to.equal(true);
  });

  it('[RC-23] alphanumeric templates are exact and case-sensitive; other symbols never match', () => {
    expect(templateMatches('os', 'linux', 'linux')).to.equal(true);
    expect(templateMatches('os', 'Linux', 'linux')).to.equal(false);
    expect(templateMatches('os', '$linux', '$linux')).to.equal(false);
    expect(templateMatches('os', 'linux', undefined)).to.equal(false);
  });

  it('[RC-22] a manifest without or with empty Platform matches everything; all attributes must match', () => {
    expect(manifestMatches(undefined, device)).to.equal(true);
    expect(manifestMatches({}, device)).to.equal(true);
    expect(manifestMatches({ os: 'linux', architecture: 'amd64' }, device)).to.equal(false);
    expect(manifestMatches({ os: 'linux', 'architecture.detail': 'armv8l' }, device)).to.equal(true);
  });

  it('[RC-22] the first matching manifest wins: BreakingService2 windows then all', () => {
    const r = fixture(
      'aws-greengrass-nucleus__src__integrationtests__resources__com__aws__greengrass__integrationtests__deployment__local_store_content__recipes__BreakingService2-1.0.0.yaml',
    );
    const sel = selectManifest(r, { os: 'linux', architecture: 'amd64' });
    expect(sel.ok && sel.index).to.equal(1);
    const win = selectManifest(r, { os: 'windows', architecture: 'amd64' });
    expect(win.ok && win.index).to.equal(0);
  });

  it('[RC-22][RC-23] multi-architecture JSON (variant.DLR): arm, amd64 and aarch64 pick their own manifest', () => {
    const text = readFileSync(
      path.join(recipes, 'aws-greengrass-labs-ml-components__dlr__variant.DLR__recipe.json'),
      'utf8',
    );
    const r = parseRecipe(text.replace('{COMPONENT_VERSION}', '1.0.0'));
    if (!r.ok) expect.fail(JSON.stringify(r.problems));
    const pick = (architecture: string) => {
      const s = selectManifest(r.recipe, { os: 'linux', architecture });
      return s.ok ? s.manifest.platform?.architecture : s.error;
    };
    expect(pick('arm')).to.equal('arm');
    expect(pick('amd64')).to.equal('amd64');
    expect(pick('aarch64')).to.equal('aarch64');
    expect(pick('x86')).to.equal('NO_MATCHING_PLATFORM');
  });

  it('[RC-24] no matching manifest => NO_MATCHING_PLATFORM (raspbian-only fixture on linux)', () => {
    const r = fixture(
      'aws-greengrass-nucleus__src__test__resources__com__aws__greengrass__componentmanager__converter__sample_recipe_with_no_matching_platform.yaml',
    );
    const sel = selectManifest(r, { os: 'linux', architecture: 'amd64' });
    expect(sel.ok).to.equal(false);
    if (!sel.ok) {
      expect(sel.error).to.equal('NO_MATCHING_PLATFORM');
      expect(sel.message).to.contain('FooService@1.0.0').and.contain('os=linux');
    }
    expect(selectManifest(r, { os: 'raspbian', architecture: 'arm' }).ok).to.equal(true);
  });

  it('[RC-11] a recipe without manifests => RECIPE_MISSING_MANIFEST', () => {
    const r = parseRecipe("RecipeFormatVersion: '2020-01-25'\nComponentName: a\nComponentVersion: 1.0.0\n");
    if (!r.ok) expect.fail();
    const sel = selectManifest(r.recipe, { os: 'linux' });
    expect(!sel.ok && sel.error).to.equal('RECIPE_MISSING_MANIFEST');
  });
});
