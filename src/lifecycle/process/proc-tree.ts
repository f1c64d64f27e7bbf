// Process-tree discovery from /proc: parent links, process groups, and identity by start time so
// that a recycled pid is never mistaken for a process we track.

import { closeSync, openSync, readSync, readdirSync } from 'node:fs';

export interface ProcStat {
  pid: number;
  state: string;
  ppid: number;
  pgid: number;
  sid: number;
  /** clock ticks since boot; with the pid, identifies one process */
  startTime: string;
}

/** Parses `/proc/<pid>/stat` (the command name may hold spaces and parentheses). */
export function parseStat(text: string): ProcStat | null {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < open) return null;
  const pid = Number(text.slice(0, open).trim());
  const rest = text
    .slice(close + 2)
    .trim()
    .split(' ');
  if (rest.length < 20 || !Number.isInteger(pid)) return null;
  return {
    pid,
    state: rest[0],
    ppid: Number(rest[1]),
    pgid: Number(rest[2]),
    sid: Number(rest[3]),
    startTime: rest[19],
  };
}

// One small buffer for every /proc/<pid>/stat read: a stat line is well under 1 KiB. Reads are
// synchronous on purpose: /proc answers from memory in microseconds, while thousands of concurrent
// promise-based readFile calls (each with a 64 KiB buffer) cost hundreds of MB and seconds when many
// components start at once.
const statBuffer = Buffer.alloc(4096);

function readStatSync(pid: number, procRoot: string): ProcStat | null {
  let fd: number | undefined;
  try {
    fd = openSync(`${procRoot}/${pid}/stat`, 'r');
    const n = readSync(fd, statBuffer, 0, statBuffer.length, 0);
    return parseStat(statBuffer.toString('utf8', 0, n));
  } catch {
    return null;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

export async function readStat(pid: number, procRoot = '/proc'): Promise<ProcStat | null> {
  return readStatSync(pid, procRoot);
}

/** Every live process (zombies excluded). */
export async function snapshot(procRoot = '/proc'): Promise<ProcStat[]> {
  const out: ProcStat[] = [];
  for (const name of readdirSync(procRoot)) {
    if (!/^\d+$/.test(name)) continue;
    const s = readStatSync(Number(name), procRoot);
    if (s !== null && s.state !== 'Z' && s.state !== 'X') out.push(s);
  }
  return out;
}

/** The pids in `roots` plus all their descendants by ppid links, within one snapshot. */
export function descendantsOf(all: ProcStat[], roots: Iterable<number>): Set<number> {
  const children = new Map<number, number[]>();
  for (const p of all) {
    const list = children.get(p.ppid);
    if (list) list.push(p.pid);
    else children.set(p.ppid, [p.pid]);
  }
  const out = new Set<number>();
  const queue = [...roots];
  while (queue.length > 0) {
    const pid = queue.pop() as number;
    if (out.has(pid)) continue;
    out.add(pid);
    for (const c of children.get(pid) ?? []) queue.push(c);
  }
  return out;
}

/** True while the process with this pid and start time exists and is not a zombie. */
export async function isAlive(pid: number, startTime: string, procRoot = '/proc'): Promise<boolean> {
  const s = await readStat(pid, procRoot);
  return s !== null && s.startTime === startTime && s.state !== 'Z' && s.state !== 'X';
}
