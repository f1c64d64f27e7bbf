// Evaluating a step's skipif [LC-45]: the decision is pure over two probes; `fileSystemProbe` is the
// edge that asks the file system.

import { accessSync, constants, existsSync, statSync } from 'node:fs';
import { delimiter, isAbsolute, join } from 'node:path';
import type { SkipIf } from './steps.js';

/** Directories the `~` prefixes expand to [LC-45]. */
export interface SkipIfPaths {
  home?: string;
  root?: string;
  config?: string;
  packages?: string;
}

export interface SkipIfProbe {
  /** An executable named `exe` is on `pathVar` (or `exe` is an executable path). */
  onPath(exe: string, pathVar: string): boolean;
  exists(path: string): boolean;
}

/** Expands `~/`, `~root/`, `~config/`, `~packages/` [LC-45]. */
export function expandSkipIfPath(target: string, paths: SkipIfPaths): string {
  const prefixes: Array<[string, string | undefined]> = [
    ['~root/', paths.root],
    ['~config/', paths.config],
    ['~packages/', paths.packages],
    ['~/', paths.home],
  ];
  for (const [prefix, dir] of prefixes) {
    if (target.startsWith(prefix) && dir !== undefined) return join(dir, target.slice(prefix.length));
  }
  return target;
}

/** Whether the step is skipped. */
export function shouldSkip(skip: SkipIf, probe: SkipIfProbe, pathVar: string, paths: SkipIfPaths): boolean {
  const hit =
    skip.check === 'onpath'
      ? probe.onPath(skip.target, pathVar)
      : probe.exists(expandSkipIfPath(skip.target, paths));
  return skip.negate ? !hit : hit;
}

function isExecutableFile(p: string): boolean {
  try {
    if (!statSync(p).isFile()) return false;
    accessSync(p, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

export const fileSystemProbe: SkipIfProbe = {
  onPath(exe, pathVar) {
    if (exe.includes('/')) return isExecutableFile(isAbsolute(exe) ? exe : join(process.cwd(), exe));
    return pathVar
      .split(delimiter)
      .filter((d) => d !== '')
      .some((d) => isExecutableFile(join(d, exe)));
  },
  exists(path) {
    return existsSync(path);
  },
};
