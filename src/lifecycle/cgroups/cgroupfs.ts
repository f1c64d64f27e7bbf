// Small cgroupfs helpers shared by the v1 and v2 controllers: writes with errors that name the file,
// pid lists, waiting for a cgroup to empty, and the pure limit arithmetic [LC-75..LC-77].

// cgroupfs is a pseudo file system answered from kernel memory in microseconds: synchronous calls
// keep a burst of component starts off libuv's four-thread pool, where they queued behind each other.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { rmdir } from 'node:fs/promises';
import { descendantsOf, snapshot } from '../process/proc-tree.js';
import type { ResourceLimits } from '../types.js';

export function checkGroupName(value: string, field: string): void {
  if (value === '' || value === '.' || value === '..' || value.includes('/') || value.includes('\0')) {
    throw new Error(`${field}: '${value}' cannot be used as a cgroup directory name`);
  }
}

export function validateLimits(limits: ResourceLimits): void {
  if (limits.memory !== undefined && (!Number.isFinite(limits.memory) || limits.memory < 0)) {
    throw new Error(
      `systemResourceLimits.memory: expected a non-negative number of KB, got ${String(limits.memory)}`,
    );
  }
  if (limits.cpus !== undefined && !Number.isFinite(limits.cpus)) {
    throw new Error(`systemResourceLimits.cpus: expected a number of CPUs, got ${String(limits.cpus)}`);
  }
}

/** memory KB -> bytes, or null for "no limit" (absent or 0) [LC-75]. */
export function memoryBytes(limits: ResourceLimits): number | null {
  return limits.memory !== undefined && limits.memory > 0 ? Math.floor(limits.memory) * 1024 : null;
}

/** The smallest CFS quota the kernel accepts, microseconds. */
export const MIN_CFS_QUOTA_US = 1000;

/** CFS quota for `cpus` of one CPU over `periodUs`, or null when cpus is absent or <= 0 [LC-75]. */
export function cfsQuota(limits: ResourceLimits, periodUs: number, round: 'floor' | 'round'): number | null {
  if (limits.cpus === undefined || limits.cpus <= 0) return null;
  const raw = round === 'floor' ? Math.floor(periodUs * limits.cpus) : Math.round(periodUs * limits.cpus);
  return Math.max(MIN_CFS_QUOTA_US, raw);
}

function errno(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException).code;
}

export async function writeControl(file: string, value: string): Promise<void> {
  try {
    writeFileSync(file, value);
  } catch (err) {
    throw new Error(`cannot write '${value}' to ${file}: ${(err as Error).message}`, { cause: err });
  }
}

export async function readControl(file: string): Promise<string | null> {
  try {
    return readFileSync(file, 'utf8').trim();
  } catch (err) {
    if (errno(err) === 'ENOENT') return null;
    throw err;
  }
}

export async function readPids(procsFile: string): Promise<number[]> {
  const text = await readControl(procsFile);
  if (!text) return [];
  return text
    .split('\n')
    .filter((l) => l !== '')
    .map(Number);
}

export async function ensureDir(dir: string): Promise<void> {
  try {
    mkdirSync(dir, { recursive: true });
  } catch (err) {
    throw new Error(`cannot create cgroup ${dir}: ${(err as Error).message}`, { cause: err });
  }
}

/**
 * Moves `pid` and all its current descendants into each `cgroup.procs` file, one pid per write
 * [LC-78]. Processes that exit meanwhile are skipped.
 */
export async function movePids(procsFiles: string[], pid: number, descendants = true): Promise<void> {
  const tree = descendants ? descendantsOf(await snapshot(), [pid]) : [pid];
  for (const file of procsFiles) {
    for (const p of tree) {
      try {
        writeFileSync(file, String(p));
      } catch (err) {
        if (errno(err) === 'ESRCH') continue;
        throw new Error(`cannot add pid ${p} to ${file}: ${(err as Error).message}`, { cause: err });
      }
    }
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Polls until `check` is true or `timeoutMs` passes; returns the last result. */
export async function waitFor(
  check: () => Promise<boolean>,
  timeoutMs: number,
  stepMs = 20,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return true;
    if (Date.now() >= deadline) return false;
    await sleep(stepMs);
  }
}

export function signalAll(pids: number[], signal: NodeJS.Signals): void {
  for (const p of pids) {
    try {
      process.kill(p, signal);
    } catch {
      // already gone
    }
  }
}

/** rmdir once the cgroup has no processes (waits up to `timeoutMs`); a missing dir is fine. */
export async function removeWhenEmpty(dir: string, timeoutMs: number): Promise<void> {
  const procs = `${dir}/cgroup.procs`;
  await waitFor(async () => (await readPids(procs)).length === 0, timeoutMs);
  try {
    await rmdir(dir);
  } catch (err) {
    if (errno(err) === 'ENOENT') return;
    const left = await readPids(procs).catch(() => []);
    throw new Error(
      `cannot remove cgroup ${dir}: ${(err as Error).message}${left.length ? ` (pids still inside: ${left.join(', ')})` : ''}`,
      { cause: err },
    );
  }
}
