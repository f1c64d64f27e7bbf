// The launch directories under `<root>/alts` [CF-62, CF-87, CF-98] in Tendril's layout (DESIGN's
// decision on the self-update layout): `alts/<name>/` holds a complete Tendril installation
// (package.json, dist/, node_modules); `current`, `old`, `new` and `broken` are relative symlinks to
// such folders; `init` is an absolute symlink to the installation the nucleus first ran from. Every
// change of a link is a rename over it (atomic), followed by an fsync of `alts/`.
import {
  closeSync,
  existsSync,
  fsyncSync,
  lstatSync,
  openSync,
  readFileSync,
  readlinkSync,
  realpathSync,
  renameSync,
  rmSync,
  symlinkSync,
  unlinkSync,
} from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export type AltsLink = 'current' | 'old' | 'new' | 'broken' | 'init';
export type KernelStage = 'DEFAULT' | 'KERNEL_ACTIVATION' | 'KERNEL_ROLLBACK';

/** The Tendril installation this code runs from (the folder of its package.json). */
export function installationDir(): string {
  // src/nucleus/alts.ts and dist/nucleus/alts.js are both two levels below it
  return fileURLToPath(new URL('../..', import.meta.url)).replace(/\/$/, '');
}

/** The entry script of an installation. */
export function entryScript(dir: string): string {
  return join(dir, 'dist', 'cli', 'tendril.js');
}

/** name/version of a Tendril installation in `dir`, or undefined (absent, not Tendril, no dist/). */
export function readInstallation(dir: string): { version: string } | undefined {
  try {
    const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {
      name?: unknown;
      version?: unknown;
    };
    if (pkg.name !== 'tendril' || typeof pkg.version !== 'string') return undefined;
    if (!existsSync(entryScript(dir)) && !existsSync(join(dir, 'src', 'cli', 'tendril.ts'))) return undefined;
    return { version: pkg.version };
  } catch {
    return undefined;
  }
}

export function linkExists(alts: string, name: AltsLink): boolean {
  try {
    return lstatSync(join(alts, name)).isSymbolicLink();
  } catch {
    return false;
  }
}

/** Absolute path a link points at, or undefined when it is not a link. */
export function linkTarget(alts: string, name: AltsLink): string | undefined {
  try {
    return resolve(alts, readlinkSync(join(alts, name)));
  } catch {
    return undefined;
  }
}

function syncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Points `name` at `target` (relative when it is inside `alts/`), replacing it atomically. */
export function relink(alts: string, name: AltsLink, target: string): void {
  const abs = resolve(alts, target);
  const text = dirname(abs) === alts ? basename(abs) : abs;
  const tmp = join(alts, `.${name}.tmp`);
  rmSync(tmp, { force: true });
  symlinkSync(text, tmp);
  renameSync(tmp, join(alts, name));
  syncDir(alts);
}

/** Renames link `from` over link `to` (atomic). */
export function moveLink(alts: string, from: AltsLink, to: AltsLink): void {
  renameSync(join(alts, from), join(alts, to));
  syncDir(alts);
}

export function dropLink(alts: string, name: AltsLink): void {
  try {
    unlinkSync(join(alts, name));
    syncDir(alts);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
}

/**
 * Removes a launch directory that is no longer linked: only a folder directly inside `alts/`, never
 * the one `current` or `init` points at (the initial installation may live anywhere).
 */
export function removeLaunchDir(alts: string, dir: string | undefined): void {
  if (!dir || dirname(dir) !== alts || dir === linkTarget(alts, 'current')) return;
  if (dir === linkTarget(alts, 'init') || ['init', 'current', 'old', 'new', 'broken'].includes(basename(dir)))
    return;
  rmSync(dir, { recursive: true, force: true });
}

/**
 * [CF-87] Link reconciliation before a launch: a pending `new` becomes `current` (the previous
 * `current` kept as `old`); after a rollback (`broken`) a remaining `old` becomes `current`; an
 * `old` without `current` becomes `current`. Returns what it did, for the log.
 */
export function reconcileLinks(alts: string): string[] {
  const did: string[] = [];
  if (linkExists(alts, 'new')) {
    if (!linkExists(alts, 'old') && linkExists(alts, 'current')) {
      moveLink(alts, 'current', 'old');
      did.push('current -> old');
    }
    moveLink(alts, 'new', 'current');
    did.push('new -> current');
  }
  if (linkExists(alts, 'broken') && linkExists(alts, 'old')) {
    moveLink(alts, 'old', 'current');
    did.push('old -> current');
  }
  if (linkExists(alts, 'old') && !linkExists(alts, 'current')) {
    moveLink(alts, 'old', 'current');
    did.push('old -> current');
  }
  return did;
}

/** [CF-98] The stage the links show (bootstrap stages are tracked by the deployment itself). */
export function kernelStage(alts: string): KernelStage {
  if (linkExists(alts, 'broken')) return 'KERNEL_ROLLBACK';
  if (linkExists(alts, 'old')) return 'KERNEL_ACTIVATION';
  return 'DEFAULT';
}

/** [CF-89] current -> broken, old -> current. */
export function prepareRollback(alts: string): void {
  if (linkExists(alts, 'current')) moveLink(alts, 'current', 'broken');
  if (linkExists(alts, 'old')) moveLink(alts, 'old', 'current');
}

/**
 * The Tendril installation `current` designates, or undefined when there is none (no link, or a
 * Java nucleus distribution adopted with its root): the launcher then runs itself.
 */
export function currentInstallation(alts: string): string | undefined {
  const t = linkTarget(alts, 'current');
  if (!t || !readInstallation(t)) return undefined;
  try {
    return realpathSync(t);
  } catch {
    return undefined;
  }
}

/** `<root>/work/aws.greengrass.Nucleus/restart_panic` [CF-89]: the launcher gave up on a version. */
export function restartPanicFile(root: string): string {
  return join(root, 'work', 'aws.greengrass.Nucleus', 'restart_panic');
}
