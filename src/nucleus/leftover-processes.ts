// Crash recovery of component processes: after `kill -9` of the nucleus, the components it started
// keep running, orphaned (inside their cgroups when cgroups are used). A restarted nucleus must not
// run second copies beside them (DESIGN idea 4: after kill -9 at any instant the device converges),
// so before it starts any component it kills every process left by an earlier nucleus on this root.
// They are found by the environment every step starts with (the root's IPC socket path [CF-78]),
// not by cgroup membership alone: the cgroup parent is shared by every nucleus on the host, and a
// component that the crashed deployment was adding or removing is no longer in the config tree.
// The instance lock guarantees no live nucleus on this root owns them.
import { readdir, readFile } from 'node:fs/promises';
import type { CgroupController } from '../lifecycle/index.js';

const GONE_WAIT_MS = 5000;

async function environHas(pid: number, marker: string): Promise<boolean> {
  try {
    return (await readFile(`/proc/${pid}/environ`, 'latin1')).split('\0').includes(marker);
  } catch {
    return false; // gone, or not ours to read
  }
}

async function processesWith(marker: string): Promise<number[]> {
  const out: number[] = [];
  let entries: string[];
  try {
    entries = await readdir('/proc');
  } catch {
    return out; // no procfs: nothing to find
  }
  for (const d of entries) {
    if (!/^\d+$/.test(d) || Number(d) === process.pid) continue;
    if (await environHas(Number(d), marker)) out.push(Number(d));
  }
  return out;
}

/**
 * Kills the processes an earlier nucleus on this root left running (pids returned). The cgroups of
 * `components` are thawed first: on cgroup v1 a frozen task dies only once thawed.
 */
export async function killLeftoverProcesses(
  resources: CgroupController,
  components: readonly string[],
  socketPath: string,
): Promise<number[]> {
  const marker = `AWS_GG_NUCLEUS_DOMAIN_SOCKET_FILEPATH=${socketPath}`;
  const found = await processesWith(marker);
  if (found.length === 0) return found;
  if (resources.version !== 'none')
    for (const name of components) await resources.resume(name).catch(() => undefined);
  const deadline = Date.now() + GONE_WAIT_MS;
  for (;;) {
    const left = (await processesWith(marker)).filter((p) => found.includes(p));
    for (const pid of left) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* exited meanwhile */
      }
    }
    if (left.length === 0 || Date.now() > deadline) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  return found;
}
