// Readers of Linux /proc: one pass over /proc/<pid>/stat builds the process table (parent, CPU
// ticks, resident pages) from which each component's process tree is summed; /proc/stat,
// /proc/meminfo and /proc/sys/fs/file-nr give the system figures. Parsing is pure and exported for
// tests; reading tolerates processes that exit mid-scan.
import { closeSync, openSync, readdirSync, readSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { execFileSync } from 'node:child_process';

export interface ProcEntry {
  pid: number;
  ppid: number;
  /** utime + stime, clock ticks */
  cpuTicks: number;
  /** resident set size, bytes */
  rssBytes: number;
}

export interface SystemCounters {
  /** all jiffies of the `cpu` line of /proc/stat */
  totalTicks: number;
  /** idle + iowait jiffies */
  idleTicks: number;
  memoryTotalBytes: number;
  memoryUsedBytes: number;
  /** allocated file handles, first field of /proc/sys/fs/file-nr */
  openFileDescriptors: number;
}

let pageSize = 4096;
let ticksPerSecond = 100;
try {
  pageSize = Number(execFileSync('getconf', ['PAGESIZE'], { encoding: 'utf8' }).trim()) || 4096;
  ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
} catch {
  /* the defaults of every Linux architecture Tendril targets */
}
export const PAGE_SIZE = pageSize;
export const CLOCK_TICKS_PER_SECOND = ticksPerSecond;

/** Parses one /proc/<pid>/stat line (the command may hold spaces and parentheses). */
export function parseProcStat(text: string, page = PAGE_SIZE): ProcEntry | undefined {
  const close = text.lastIndexOf(')');
  if (close < 0) return undefined;
  const pid = Number(text.slice(0, text.indexOf(' ')));
  // after ") ": state(3) ppid(4) ... utime(14) stime(15) ... rss(24)
  const f = text.slice(close + 2).split(' ');
  const ppid = Number(f[1]);
  const cpuTicks = Number(f[11]) + Number(f[12]);
  const rssBytes = Number(f[21]) * page;
  if (![pid, ppid, cpuTicks, rssBytes].every(Number.isFinite)) return undefined;
  return { pid, ppid, cpuTicks, rssBytes: Math.max(0, rssBytes) };
}

// One small buffer for every /proc/<pid>/stat read (a stat line is well under 1 KiB), read
// synchronously as lifecycle/process/proc-tree.ts does: /proc answers from memory in microseconds,
// while a promise-based readFile of a size-0 /proc file takes a 64 KiB buffer, so one table of
// every process of the system cost 64 KiB per process, and a promise chain each, every sample.
const statBuffer = Buffer.alloc(4096);

function readProcEntry(pid: number, procRoot: string): ProcEntry | undefined {
  let fd: number | undefined;
  try {
    fd = openSync(`${procRoot}/${pid}/stat`, 'r');
    const n = readSync(fd, statBuffer, 0, statBuffer.length, 0);
    return parseProcStat(statBuffer.toString('utf8', 0, n));
  } catch {
    return undefined; // exited
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** Every process of the system, by pid. */
export async function readProcessTable(procRoot = '/proc'): Promise<Map<number, ProcEntry>> {
  const table = new Map<number, ProcEntry>();
  for (const n of readdirSync(procRoot)) {
    if (!/^\d+$/.test(n)) continue;
    const e = readProcEntry(Number(n), procRoot);
    if (e) table.set(e.pid, e);
  }
  return table;
}

/** `pid` and all its descendants present in `table`. */
export function processTree(table: Map<number, ProcEntry>, pid: number): ProcEntry[] {
  const children = new Map<number, number[]>();
  for (const e of table.values()) {
    const list = children.get(e.ppid);
    if (list) list.push(e.pid);
    else children.set(e.ppid, [e.pid]);
  }
  const out: ProcEntry[] = [];
  const stack = [pid];
  const seen = new Set<number>();
  while (stack.length) {
    const p = stack.pop()!;
    if (seen.has(p)) continue;
    seen.add(p);
    const e = table.get(p);
    if (e) out.push(e);
    stack.push(...(children.get(p) ?? []));
  }
  return out;
}

/** Parses /proc/stat's aggregate `cpu` line. */
export function parseCpuLine(text: string): { totalTicks: number; idleTicks: number } {
  const line = text.split('\n').find((l) => l.startsWith('cpu ')) ?? '';
  const v = line.trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal (guest time is already inside user/nice)
  const total = v.slice(0, 8).reduce((a, b) => a + (Number.isFinite(b) ? b : 0), 0);
  return { totalTicks: total, idleTicks: (v[3] ?? 0) + (v[4] ?? 0) };
}

/** Parses /proc/meminfo: total, and used = total - available. */
export function parseMeminfo(text: string): { memoryTotalBytes: number; memoryUsedBytes: number } {
  const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+)`, 'm').exec(text)?.[1] ?? 0) * 1024;
  const total = kb('MemTotal');
  const available = /^MemAvailable:/m.test(text) ? kb('MemAvailable') : kb('MemFree') + kb('Cached');
  return { memoryTotalBytes: total, memoryUsedBytes: Math.max(0, total - available) };
}

export async function readSystemCounters(procRoot = '/proc'): Promise<SystemCounters> {
  const [stat, meminfo, fileNr] = await Promise.all([
    readFile(`${procRoot}/stat`, 'utf8'),
    readFile(`${procRoot}/meminfo`, 'utf8'),
    readFile(`${procRoot}/sys/fs/file-nr`, 'utf8').catch(() => '0'),
  ]);
  return {
    ...parseCpuLine(stat),
    ...parseMeminfo(meminfo),
    openFileDescriptors: Number(fileNr.trim().split(/\s+/)[0]) || 0,
  };
}

/** The SVCUID of a process's environment (how a component's processes are told apart without cgroups). */
export async function readSvcuid(pid: number, procRoot = '/proc'): Promise<string | undefined> {
  try {
    const env = await readFile(`${procRoot}/${pid}/environ`, 'latin1');
    const entry = env.split('\0').find((e) => e.startsWith('SVCUID='));
    return entry?.slice('SVCUID='.length);
  } catch {
    return undefined;
  }
}
