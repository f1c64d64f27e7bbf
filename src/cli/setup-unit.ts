// The systemd unit of `tendril setup` [CF-91, CF-92]: systemd/tendril.service with its placeholders
// filled in, written into a unit directory; systemctl is driven only for the system unit directory
// on a host booted with systemd.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { findExecutable } from '../nucleus/index.js';

export const UNIT_NAME = 'tendril.service';
export const SYSTEM_UNIT_DIR = '/etc/systemd/system';

const here = fileURLToPath(import.meta.url);
export const packageRoot = resolve(dirname(here), '..', '..');
export const UNIT_TEMPLATE = join(packageRoot, 'systemd', UNIT_NAME);

/** One argument of ExecStart=: specifiers (%) and variables ($) escaped, quoted when needed. */
export function execArg(arg: string): string {
  if (/[\n\r]/.test(arg)) throw new Error(`a path in ExecStart= cannot contain a line break: ${arg}`);
  const escaped = arg.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/%/g, '%%').replace(/\$/g, '$$$$');
  return /[\s"'\\;]/.test(arg) ? `"${escaped}"` : escaped;
}

/** The value inside Environment="NAME=VALUE": specifiers escaped, quotes and backslashes escaped. */
export function environmentValue(value: string): string {
  if (/[\n\r]/.test(value)) throw new Error(`an Environment= value cannot contain a line break: ${value}`);
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/%/g, '%%');
}

/**
 * The command that starts this tendril CLI: node and the compiled entry script, or, when running from
 * the TypeScript sources (development tree), node with the tsx loader and the source entry.
 */
export function tendrilExecCommand(): string[] {
  if (here.endsWith('.ts')) {
    // the package's "." export (dist/loader.mjs), as an absolute path: the service's cwd is not the tree
    const tsx = createRequire(join(packageRoot, 'package.json')).resolve('tsx');
    return [
      process.execPath,
      '--import',
      pathToFileURL(tsx).href,
      join(packageRoot, 'src', 'cli', 'tendril.ts'),
    ];
  }
  return [process.execPath, join(packageRoot, 'dist', 'cli', 'tendril.js')];
}

export function renderUnit(root: string, exec: string[] = tendrilExecCommand(), template?: string): string {
  const text = template ?? readFileSync(UNIT_TEMPLATE, 'utf8');
  return text.replace(/@ROOT@/g, environmentValue(root)).replace(/@EXEC@/g, exec.map(execArg).join(' '));
}

/** True when the host runs systemd as its init and systemctl exists. */
export function systemdIsRunning(): boolean {
  return existsSync('/run/systemd/system') && findExecutable('systemctl') !== undefined;
}

export function isSystemUnitDir(unitDir: string): boolean {
  return resolve(unitDir) === SYSTEM_UNIT_DIR;
}

function systemctl(args: string[], say: (s: string) => void): void {
  say(`systemctl ${args.join(' ')}`);
  execFileSync('systemctl', args, { stdio: ['ignore', 'inherit', 'inherit'] });
}

export interface InstallUnitResult {
  path: string;
  changed: boolean;
  systemctl: boolean;
}

/** Writes the unit (atomically, 0644); returns whether its content changed. */
export function installUnit(
  unitDir: string,
  content: string,
  opts: { start: boolean; say: (s: string) => void },
): InstallUnitResult {
  const path = join(unitDir, UNIT_NAME);
  const before = existsSync(path) ? readFileSync(path, 'utf8') : undefined;
  const changed = before !== content;
  if (changed) {
    const tmp = `${path}.tmp`;
    writeFileSync(tmp, content, { mode: 0o644 });
    renameSync(tmp, path);
  }
  opts.say(`${changed ? 'installed' : 'unchanged'}: ${path}`);
  if (!isSystemUnitDir(unitDir) || !systemdIsRunning()) {
    opts.say(
      isSystemUnitDir(unitDir)
        ? 'systemd is not running on this host: the unit is not enabled or started'
        : `${unitDir} is not ${SYSTEM_UNIT_DIR}: systemctl is not run`,
    );
    return { path, changed, systemctl: false };
  }
  systemctl(['daemon-reload'], opts.say);
  systemctl(['unmask', UNIT_NAME], opts.say);
  systemctl(['enable', UNIT_NAME], opts.say);
  if (opts.start) systemctl([changed ? 'restart' : 'start', UNIT_NAME], opts.say);
  return { path, changed, systemctl: true };
}

/** Stops and disables the unit (system directory on a systemd host) and removes its file. */
export function uninstallUnit(unitDir: string, say: (s: string) => void): boolean {
  const path = join(unitDir, UNIT_NAME);
  const managed = isSystemUnitDir(unitDir) && systemdIsRunning();
  if (managed && existsSync(path)) systemctl(['disable', '--now', UNIT_NAME], say);
  const existed = existsSync(path);
  rmSync(path, { force: true });
  say(existed ? `removed: ${path}` : `not installed: ${path}`);
  if (managed) systemctl(['daemon-reload'], say);
  return existed;
}
