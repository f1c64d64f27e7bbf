// Shared setup for the cgroup integration tests: root/writability checks and cleanup.

import * as fs from 'node:fs';
import * as path from 'node:path';

export const V1_ROOT = '/sys/fs/cgroup';
export const V2_ROOT = '/sys/fs/cgroup/unified';

/** Why cgroup tests cannot run here, or null when they can. */
export function cgroupSkipReason(root: string, probeDir: string): string | null {
  if (process.platform !== 'linux') return 'not Linux';
  if (process.getuid?.() !== 0) return 'not root';
  const probe = path.join(root, probeDir, `tendril-probe-${process.pid}`);
  try {
    fs.mkdirSync(probe);
    fs.rmdirSync(probe);
    return null;
  } catch (err) {
    return `cgroupfs ${path.join(root, probeDir)} not writable: ${(err as Error).message}`;
  }
}

/** Kills everything left in `<dir>` and below, then removes the dirs bottom-up. */
export function removeCgroupTree(dir: string): void {
  if (!fs.existsSync(dir)) return;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    if (e.isDirectory()) removeCgroupTree(path.join(dir, e.name));
  }
  const freezer = path.join(dir, 'freezer.state');
  if (fs.existsSync(freezer)) fs.writeFileSync(freezer, 'THAWED');
  const freeze = path.join(dir, 'cgroup.freeze');
  if (fs.existsSync(freeze)) fs.writeFileSync(freeze, '0');
  for (let i = 0; i < 100; i++) {
    const pids = fs
      .readFileSync(path.join(dir, 'cgroup.procs'), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map(Number);
    if (pids.length === 0) break;
    for (const p of pids) {
      try {
        process.kill(p, 'SIGKILL');
      } catch {
        // gone
      }
    }
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
  }
  fs.rmdirSync(dir);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export async function readCounter(file: string): Promise<number> {
  for (let i = 0; i < 200; i++) {
    const text = fs.existsSync(file) ? fs.readFileSync(file, 'utf8').trim() : '';
    if (/^\d+$/.test(text)) return Number(text);
    await sleep(20);
  }
  throw new Error(`${file} has no counter`);
}
