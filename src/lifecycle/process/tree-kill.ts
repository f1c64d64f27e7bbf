// Stopping a step's whole process tree [LC-82]: descendants by /proc ppid links (so children that
// called setsid are found while their parent lives), members of the step's process group (so
// orphans that kept the group are found), and the component's cgroup when one is used. Each
// process is remembered by pid and start time, so a reparented process stays tracked and a recycled
// pid is never signalled.

import { type ProcStat, descendantsOf, readStat, snapshot } from './proc-tree.js';

const POLL_MS = 50;
/** after SIGKILL, how long survivors may take to disappear before stop() fails [LC-82 step 3] */
export const KILL_WAIT_MS = 5000;

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function send(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // exited meanwhile
  }
}

export class ProcessTree {
  private readonly tracked = new Map<number, string>();

  constructor(
    readonly rootPid: number,
    private readonly cgroupPids: (() => Promise<number[]>) | null,
  ) {}

  /** Records the root's identity (call right after spawn). */
  async track(): Promise<void> {
    const s = await readStat(this.rootPid);
    if (s && !this.tracked.has(s.pid)) this.tracked.set(s.pid, s.startTime);
  }

  /** Adds every process now belonging to the tree; returns the live tracked pids. */
  private async collect(): Promise<number[]> {
    const all = await snapshot();
    const byPid = new Map<number, ProcStat>(all.map((p) => [p.pid, p]));
    const candidates = descendantsOf(all, [this.rootPid, ...this.tracked.keys()]);
    for (const p of all) if (p.pgid === this.rootPid) candidates.add(p.pid);
    if (this.cgroupPids) {
      for (const p of await this.cgroupPids().catch(() => [] as number[])) candidates.add(p);
    }
    for (const pid of candidates) {
      const s = byPid.get(pid);
      if (!s) continue;
      const known = this.tracked.get(pid);
      // a pid recycled by an unrelated process is replaced only if it is really in the tree now
      if (known === undefined || known !== s.startTime) this.tracked.set(pid, s.startTime);
    }
    const live: number[] = [];
    for (const [pid, start] of this.tracked) {
      const s = byPid.get(pid);
      if (s && s.startTime === start) live.push(pid);
      else this.tracked.delete(pid);
    }
    return live;
  }

  /**
   * SIGTERM to every process of the tree, SIGKILL to survivors after `graceMs`, then waits for them
   * to disappear and for `rootExited`. Rejects if something survives SIGKILL for KILL_WAIT_MS.
   */
  async terminate(graceMs: number, rootExited: Promise<void>): Promise<void> {
    const termed = new Set<string>();
    const term = (pids: number[]): void => {
      for (const pid of pids) {
        const key = `${pid}:${this.tracked.get(pid)}`;
        if (termed.has(key)) continue;
        termed.add(key);
        send(pid, 'SIGTERM');
      }
    };
    let live = await this.collect();
    term(live);
    const graceEnd = Date.now() + Math.max(0, graceMs);
    while (live.length > 0 && Date.now() < graceEnd) {
      await sleep(Math.min(POLL_MS, Math.max(1, graceEnd - Date.now())));
      live = await this.collect();
      term(live);
    }
    const killEnd = Date.now() + KILL_WAIT_MS;
    while (live.length > 0) {
      for (const pid of live) send(pid, 'SIGKILL');
      if (Date.now() >= killEnd) {
        throw new Error(
          `could not stop process tree of pid ${this.rootPid}: ${live.join(', ')} survive SIGKILL`,
        );
      }
      await sleep(POLL_MS);
      live = await this.collect();
    }
    let timer: NodeJS.Timeout | undefined;
    const exited = await Promise.race([
      rootExited.then(() => true),
      new Promise<boolean>((r) => {
        timer = setTimeout(() => r(false), KILL_WAIT_MS);
      }),
    ]);
    clearTimeout(timer);
    if (!exited) throw new Error(`process ${this.rootPid} was killed but its exit was not observed`);
  }
}
