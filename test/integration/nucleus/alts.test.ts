// The launch directories under <root>/alts on a real file system: the loader's link reconciliation
// [CF-87], the stage they show at boot [CF-98], the rollback flip [CF-89, CF-99], and the
// installation of a Tendril package as alts/new [CF-96, CF-97] from a component's ZIP artifact.
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import {
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readlinkSync,
  realpathSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseRecipe } from '../../../src/recipe/index.js';
import type { ResolvedComponent } from '../../../src/deployment/index.js';
import {
  installationDir,
  kernelStage,
  linkTarget,
  prepareRollback,
  reconcileLinks,
  removeLaunchDir,
} from '../../../src/nucleus/alts.js';
import { AltsSelfUpdate, launchDirName, touchRestartPanic } from '../../../src/nucleus/self-update.js';
import { TENDRIL_VERSION } from '../../../src/nucleus/index.js';

const PLATFORM = { os: 'linux', architecture: 'amd64' };

/** A fake Tendril installation (package.json + dist/cli/tendril.js). */
function installation(dir: string, version: string, name = 'tendril'): string {
  mkdirSync(join(dir, 'dist', 'cli'), { recursive: true });
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name, version }));
  writeFileSync(join(dir, 'dist', 'cli', 'tendril.js'), `console.log(${JSON.stringify(version)});\n`);
  return dir;
}

function nucleusComponent(version: string, uri: string, unarchive?: 'ZIP'): ResolvedComponent {
  const r = parseRecipe(
    JSON.stringify({
      RecipeFormatVersion: '2020-01-25',
      ComponentName: 'aws.greengrass.Nucleus',
      ComponentVersion: version,
      ComponentType: 'aws.greengrass.nucleus',
      Manifests: [
        { Platform: { os: 'linux' }, Artifacts: [{ Uri: uri, ...(unarchive && { Unarchive: unarchive }) }] },
      ],
    }),
  );
  if (!r.ok) throw new Error(JSON.stringify(r.problems));
  return { name: 'aws.greengrass.Nucleus', version, recipe: r.recipe, requirements: [], rootOf: [] };
}

/** Zips `dir`'s entries (python3's zipfile; no zip writer for Node is installed). */
function zip(file: string, dir: string, entries: string[]): void {
  execFileSync('python3', ['-m', 'zipfile', '-c', file, ...entries], { cwd: dir });
}

describe('nucleus launch directories (alts)', () => {
  let dir: string;
  let alts: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'tendril-alts-'));
    alts = join(dir, 'root', 'alts');
    mkdirSync(alts, { recursive: true });
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const link = (name: string, target: string) => symlinkSync(target, join(alts, name));
  const links = () =>
    ['current', 'old', 'new', 'broken']
      .filter((n) => existsSync(join(alts, n)) || lstatSafe(join(alts, n)))
      .map((n) => `${n}->${readlinkSync(join(alts, n))}`);
  const lstatSafe = (p: string) => {
    try {
      return lstatSync(p).isSymbolicLink();
    } catch {
      return false;
    }
  };

  it('[CF-87] a pending new becomes current and the previous current is kept as old', () => {
    installation(join(alts, 'a'), '1.0.0');
    installation(join(alts, 'b'), '2.0.0');
    link('current', 'a');
    link('new', 'b');
    expect(kernelStage(alts)).to.equal('DEFAULT');
    expect(reconcileLinks(alts)).to.deep.equal(['current -> old', 'new -> current']);
    expect(links()).to.deep.equal(['current->b', 'old->a']);
    expect(kernelStage(alts)).to.equal('KERNEL_ACTIVATION'); // [CF-98]
    expect(reconcileLinks(alts)).to.deep.equal([]); // idempotent
  });

  it('[CF-87] broken with old: old becomes current; old without current: old becomes current', () => {
    link('broken', 'b');
    link('old', 'a');
    expect(reconcileLinks(alts)).to.deep.equal(['old -> current']);
    expect(links()).to.deep.equal(['current->a', 'broken->b']);
    expect(kernelStage(alts)).to.equal('KERNEL_ROLLBACK'); // [CF-98]
    rmSync(join(alts, 'broken'));
    rmSync(join(alts, 'current'));
    link('old', 'a');
    expect(reconcileLinks(alts)).to.deep.equal(['old -> current']);
    expect(links()).to.deep.equal(['current->a']);
  });

  it('[CF-89][CF-99] the rollback flip: current -> broken, old -> current', () => {
    link('current', 'b');
    link('old', 'a');
    prepareRollback(alts);
    expect(links()).to.deep.equal(['current->a', 'broken->b']);
    expect(kernelStage(alts)).to.equal('KERNEL_ROLLBACK');
  });

  it('removes only unlinked launch folders inside alts, never the initial installation', () => {
    const outside = installation(join(dir, 'elsewhere'), '1.0.0');
    link('init', outside);
    link('current', 'a');
    installation(join(alts, 'a'), '1.0.0');
    installation(join(alts, 'b'), '2.0.0');
    removeLaunchDir(alts, outside);
    removeLaunchDir(alts, join(alts, 'a'));
    expect(existsSync(outside) && existsSync(join(alts, 'a'))).to.equal(true);
    removeLaunchDir(alts, join(alts, 'b'));
    expect(existsSync(join(alts, 'b'))).to.equal(false);
  });

  it('[CF-96][CF-97] installs a Tendril package from the ZIP artifact as alts/new, linking the running installation as current', async () => {
    const root = join(dir, 'root');
    const art = join(root, 'packages', 'artifacts', 'aws.greengrass.Nucleus', '9.9.9');
    mkdirSync(art, { recursive: true });
    const pkg = installation(join(dir, 'pkg'), '9.9.9');
    zip(join(art, 'tendril.zip'), pkg, ['package.json', 'dist']);
    touchRestartPanic(root);
    const logs: string[] = [];
    const su = new AltsSelfUpdate(root, alts, PLATFORM, (m) => logs.push(m));
    expect(su.runningVersion).to.equal(TENDRIL_VERSION);
    const r = await su.prepare(nucleusComponent('9.9.9', 's3://bucket/tendril.zip'), 'dep/1:x');
    expect(r).to.deep.equal({ ok: true, dir: join(alts, launchDirName('dep/1:x')) });
    expect(launchDirName('dep/1:x')).to.equal('dep_1_x');
    const installed = join(alts, 'dep_1_x');
    expect(readFileSync(join(installed, 'dist', 'cli', 'tendril.js'), 'utf8')).to.include('9.9.9');
    // without node_modules of its own, the package uses the running installation's
    expect(realpathSync(join(installed, 'node_modules'))).to.equal(
      realpathSync(join(installationDir(), 'node_modules')),
    );
    expect(readlinkSync(join(alts, 'new'))).to.equal('dep_1_x');
    expect(linkTarget(alts, 'init')).to.equal(installationDir());
    expect(readlinkSync(join(alts, 'current'))).to.equal('init');
    expect(existsSync(join(root, 'work', 'aws.greengrass.Nucleus', 'restart_panic'))).to.equal(false); // [CF-96 step 5]
    // the launcher's turn [CF-87], then the new version commits [CF-99]: old link and folder go
    reconcileLinks(alts);
    const after = new AltsSelfUpdate(root, alts, PLATFORM, () => undefined);
    expect(after.stage()).to.equal('KERNEL_ACTIVATION');
    await after.commit();
    expect(after.stage()).to.equal('DEFAULT');
    expect(links()).to.deep.equal(['current->dep_1_x']);
    expect(existsSync(installationDir())).to.equal(true); // init is never removed
  });

  it('[CF-97] refuses a package whose version is not the component version, and reports a non-Tendril artifact as such', async () => {
    const root = join(dir, 'root');
    const art = join(root, 'packages', 'artifacts', 'aws.greengrass.Nucleus', '9.9.9');
    mkdirSync(art, { recursive: true });
    zip(join(art, 'tendril.zip'), installation(join(dir, 'pkg'), '9.9.8'), ['package.json', 'dist']);
    const su = new AltsSelfUpdate(root, alts, PLATFORM, () => undefined);
    const wrong = await su.prepare(nucleusComponent('9.9.9', 's3://b/tendril.zip'), 'd1');
    expect(wrong).to.deep.equal({
      ok: false,
      notTendril: false,
      reason: "the package's package.json says version 9.9.8, the component version is 9.9.9",
    });
    // the Java nucleus distribution, unarchived by the component store (Unarchive: ZIP)
    const java = join(root, 'packages', 'artifacts-unarchived', 'aws.greengrass.Nucleus', '9.9.9', 'nucleus');
    mkdirSync(join(java, 'lib'), { recursive: true });
    writeFileSync(join(java, 'lib', 'Greengrass.jar'), 'jar');
    const notOurs = await su.prepare(nucleusComponent('9.9.9', 's3://b/nucleus.zip', 'ZIP'), 'd2');
    expect(notOurs).to.include({ ok: false, notTendril: true });
    expect(existsSync(join(alts, 'new'))).to.equal(false);
    expect(existsSync(join(alts, 'd1')) || existsSync(join(alts, 'd2'))).to.equal(false);
  });
});
