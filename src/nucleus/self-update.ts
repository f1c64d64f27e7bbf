// Nucleus self-update over `<root>/alts` (spec/config.md CF-96..CF-99 with Tendril's package format,
// docs/install.md): a deployment of the nucleus component at another version brings a Tendril
// package among its artifacts: a ZIP whose root (or single top folder) holds `package.json` (name
// `tendril`, version = the component version) and `dist/`, optionally `node_modules/`. It is
// installed as `alts/<deployment>/` and linked as `alts/new`; the launcher makes it `current` on the
// restart. Without its own node_modules the package uses the running installation's.
import {
  existsSync,
  readdirSync,
  realpathSync,
  rmSync,
  symlinkSync,
  writeFileSync,
  mkdirSync,
} from 'node:fs';
import { cp, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import {
  extractZipSafely,
  type KernelStage as DeploymentKernelStage,
  type NucleusSelfUpdate,
  type PrepareOutcome,
  type ResolvedComponent,
} from '../deployment/index.js';
import {
  artifactFileName,
  artifactsDir,
  selectManifest,
  unarchivedArtifactDir,
  type DevicePlatform,
} from '../recipe/index.js';
import {
  dropLink,
  installationDir,
  kernelStage,
  linkExists,
  linkTarget,
  prepareRollback,
  readInstallation,
  relink,
  removeLaunchDir,
  restartPanicFile,
  type KernelStage,
} from './alts.js';
import { TENDRIL_VERSION } from './nucleus-config.js';

const NOT_A_PACKAGE =
  'no artifact holds a Tendril package (a ZIP with package.json named "tendril" and dist/cli/tendril.js)';

/** A launch directory name from a deployment id: letters, digits, `.`, `_`, `-` only. */
export function launchDirName(deploymentId: string): string {
  const safe = deploymentId.replace(/[^A-Za-z0-9._-]/g, '_').replace(/^\.+/, '_');
  return safe.slice(0, 200) || 'update';
}

/** The installation inside an unpacked package: its root, or its single top-level folder. */
function packageRoot(dir: string): string | undefined {
  if (readInstallation(dir) && existsSync(join(dir, 'dist', 'cli', 'tendril.js'))) return dir;
  const entries = readdirSync(dir, { withFileTypes: true }).filter((e) => !e.name.startsWith('.'));
  if (entries.length === 1 && entries[0].isDirectory()) {
    const inner = join(dir, entries[0].name);
    if (readInstallation(inner) && existsSync(join(inner, 'dist', 'cli', 'tendril.js'))) return inner;
  }
  return undefined;
}

export class AltsSelfUpdate implements NucleusSelfUpdate {
  readonly runningVersion = TENDRIL_VERSION;
  private current: KernelStage;

  constructor(
    private readonly root: string,
    private readonly alts: string,
    private readonly platform: DevicePlatform,
    private readonly log: (msg: string) => void,
  ) {
    this.current = kernelStage(alts);
  }

  stage(): DeploymentKernelStage {
    return this.current;
  }

  async prepare(c: ResolvedComponent, deploymentId: string): Promise<PrepareOutcome> {
    const sel = selectManifest(c.recipe, this.platform);
    if (!sel.ok) return { ok: false, notTendril: false, reason: sel.message };
    const dest = join(this.alts, launchDirName(deploymentId));
    const unpack = `${dest}.unpack`;
    await rm(dest, { recursive: true, force: true });
    await rm(unpack, { recursive: true, force: true });
    let found: { dir: string; extracted: boolean } | undefined;
    for (const a of sel.manifest.artifacts) {
      const file = artifactFileName(a.uri);
      const unarchived = unarchivedArtifactDir(this.root, c.name, c.version, file);
      if (a.unarchive === 'ZIP' && existsSync(unarchived)) {
        const dir = packageRoot(unarchived);
        if (dir) {
          found = { dir, extracted: false };
          break;
        }
        continue;
      }
      const raw = join(artifactsDir(this.root, c.name, c.version), file);
      if (!/\.zip$/i.test(file) || !existsSync(raw)) continue;
      try {
        await extractZipSafely(raw, unpack);
      } catch (e) {
        return { ok: false, notTendril: false, reason: `${file}: ${(e as Error).message}` };
      }
      const dir = packageRoot(unpack);
      if (dir) {
        found = { dir, extracted: true };
        break;
      }
      await rm(unpack, { recursive: true, force: true });
    }
    if (!found) return { ok: false, notTendril: true, reason: NOT_A_PACKAGE };
    const version = readInstallation(found.dir)?.version;
    if (version !== c.version) {
      await rm(unpack, { recursive: true, force: true });
      return {
        ok: false,
        notTendril: false,
        reason: `the package's package.json says version ${version}, the component version is ${c.version}`,
      };
    }
    const staging = `${dest}.partial`;
    await rm(staging, { recursive: true, force: true });
    if (found.extracted && found.dir === unpack) await rename(unpack, staging);
    else await cp(found.dir, staging, { recursive: true, verbatimSymlinks: true });
    await rm(unpack, { recursive: true, force: true });
    if (!existsSync(join(staging, 'node_modules'))) {
      const own = join(installationDir(), 'node_modules');
      if (existsSync(own)) symlinkSync(realpathSync(own), join(staging, 'node_modules'));
    }
    await rename(staging, dest);
    // [CF-96 step 2] the running installation must be reachable again: `current` designates it
    if (!linkExists(this.alts, 'current')) {
      if (!linkExists(this.alts, 'init')) relink(this.alts, 'init', installationDir());
      relink(this.alts, 'current', join(this.alts, 'init'));
    }
    rmSync(restartPanicFile(this.root), { force: true }); // [CF-96 step 5]
    relink(this.alts, 'new', dest);
    this.log(`installed Tendril ${version} in ${dest} as alts/new`);
    return { ok: true, dir: dest };
  }

  async commit(): Promise<void> {
    const old = linkTarget(this.alts, 'old');
    dropLink(this.alts, 'old');
    removeLaunchDir(this.alts, old);
    this.current = kernelStage(this.alts);
    this.log(`nucleus update complete: alts/current -> ${linkTarget(this.alts, 'current')}`);
  }

  async prepareRollback(): Promise<void> {
    prepareRollback(this.alts);
    this.log(
      `nucleus update failed: alts/current -> ${linkTarget(this.alts, 'current')}, the new version is alts/broken`,
    );
  }

  async finishRollback(): Promise<{ restartPanic: boolean }> {
    const broken = linkTarget(this.alts, 'broken');
    dropLink(this.alts, 'broken');
    removeLaunchDir(this.alts, broken);
    const panic = restartPanicFile(this.root);
    const restartPanic = existsSync(panic);
    rmSync(panic, { force: true });
    this.current = kernelStage(this.alts);
    return { restartPanic };
  }
}

/** [CF-89] Marks that the launcher gave up on a version (reported as NUCLEUS_RESTART_FAILURE). */
export function touchRestartPanic(root: string): void {
  const f = restartPanicFile(root);
  mkdirSync(join(f, '..'), { recursive: true, mode: 0o700 });
  writeFileSync(f, `${new Date().toISOString()}\n`);
}
