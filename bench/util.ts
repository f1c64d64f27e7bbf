// Helpers shared by the benchmark suites that run the daemon as a real process: the tendril command
// line, /proc memory and CPU readings, waits with a deadline, and a bare node process as the floor.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GreengrassV2Client } from '@aws-sdk/client-greengrassv2';
import { createLocalCloud, type LocalCloud } from '../src/localcloud/index.js';

export const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Wall-clock nanoseconds, comparable with `date +%s%N` in a child. */
export const nowNs = () => BigInt(Math.round((performance.timeOrigin + performance.now()) * 1e6));
export const msSince = (t0: bigint) => Number(nowNs() - t0) / 1e6;

/** How to start the tendril CLI: the compiled dist/cli/tendril.js, else the sources through tsx. */
export function tendrilArgs(): string[] {
  const dist = join(repo, 'dist/cli/tendril.js');
  return existsSync(dist) ? [dist] : ['--import', 'tsx', join(repo, 'src/cli/tendril.ts')];
}

export function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}

export function stats(xs: number[]): { min: number; mean: number; max: number } {
  return {
    min: Math.min(...xs),
    mean: xs.reduce((a, b) => a + b, 0) / xs.length,
    max: Math.max(...xs),
  };
}

/** RSS, PSS and USS (private pages only) in MB from /proc/PID/smaps_rollup. */
export function memory(pid: number): { rss: number; pss: number; uss: number } {
  const rollup = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
  const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(rollup)?.[1] ?? NaN);
  return {
    rss: kb('Rss') / 1024,
    pss: kb('Pss') / 1024,
    uss: (kb('Private_Clean') + kb('Private_Dirty')) / 1024,
  };
}

/** The aws-crt native modules (`aws-crt...node`) mapped into a process. */
export function awsCrtMapped(pid: number): string[] {
  const paths = readFileSync(`/proc/${pid}/maps`, 'utf8')
    .split('\n')
    .map((l) => l.split(/\s+/)[5] ?? '')
    .filter((p) => /aws-crt.*\.node$/.test(p));
  return [...new Set(paths)];
}

/** RSS in MB from /proc/PID/status (cheaper than smaps_rollup, for frequent sampling). */
export function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1] ?? NaN) / 1024;
}

/** utime + stime of a process in clock ticks (fields 14 and 15 of /proc/PID/stat). */
export function cpuTicks(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // the command name (field 2) may hold spaces: count fields after its closing parenthesis
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(rest[11]) + Number(rest[12]);
}

/** Clock ticks per second; 100 on every Linux this runs on (USER_HZ). */
export const TICKS_PER_SECOND = 100;

export async function waitUntil(check: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`bench: timed out waiting for ${what}`);
    await sleep(10);
  }
}

/** Components that reached RUNNING according to the daemon's greengrass.log. */
export function runningCount(root: string): number {
  const f = join(root, 'logs', 'greengrass.log');
  if (!existsSync(f)) return 0;
  return (readFileSync(f, 'utf8').match(/newState=RUNNING\}/g) ?? []).length;
}

export async function stopChild(c: ChildProcess): Promise<void> {
  if (c.exitCode !== null || c.signalCode !== null) return;
  const done = new Promise((r) => c.once('exit', r));
  c.kill('SIGTERM');
  const timer = setTimeout(() => c.kill('SIGKILL'), 20000);
  await done;
  clearTimeout(timer);
}

/** True once a raw Unix socket connection to `path` is accepted. */
export function socketAccepts(path: string): Promise<boolean> {
  return new Promise((done) => {
    const s = connect(path);
    s.once('connect', () => {
      s.destroy();
      done(true);
    });
    s.once('error', () => {
      s.destroy();
      done(false);
    });
  });
}

/** Writes an init config with n trivial components (`exec sleep 100000`) run as root. */
export function initConfigWith(n: number, file: string, prefix = 'Bench'): string {
  const services = Array.from(
    { length: n },
    (_, i) => `  ${prefix}${i}:\n    lifecycle: { run: "exec sleep 100000" }`,
  ).join('\n');
  writeFileSync(
    file,
    `services:\n  aws.greengrass.Nucleus:\n    configuration: { runWithDefault: { posixUser: "root" } }\n${services}\n`,
  );
  return file;
}

/** Starts `tendril run` on a fresh root with n components and waits until all are RUNNING (or, for 0, until IPC listens). */
export async function daemonWith(n: number, dir: string) {
  const root = join(dir, `root${n}`);
  const init = initConfigWith(n, join(dir, `init${n}.yaml`));
  const t0 = nowNs();
  const child = spawn(process.execPath, [...tendrilArgs(), 'run', '--root', root, '--init-config', init], {
    stdio: 'ignore',
  });
  await waitUntil(
    () => (n === 0 ? existsSync(join(root, 'ipc.socket')) : runningCount(root) >= n),
    120000,
    `${n} RUNNING`,
  );
  const toRunningMs = msSince(t0);
  return { child, root, toRunningMs };
}

/** A bare node process that prints one line and idles: the floor of start time and memory. */
export async function startBareNode(): Promise<{ child: ChildProcess; startMs: number }> {
  const t0 = nowNs();
  const child = spawn(
    process.execPath,
    ['-e', 'process.stdout.write("up\\n"); setInterval(() => {}, 1000)'],
    { stdio: ['ignore', 'pipe', 'ignore'] },
  );
  await new Promise((r) => child.stdout!.once('data', r));
  return { child, startMs: msSince(t0) };
}

export async function bareNode(): Promise<{ startMs: number; rss: number; pss: number }> {
  const { child, startMs } = await startBareNode();
  await sleep(1500);
  const m = memory(child.pid!);
  await stopChild(child);
  return { startMs, ...m };
}

/** A local cloud in DIR/cloud on a free port, and the unmodified SDK client pointed at it. */
export async function startBenchCloud(dir: string): Promise<{ cloud: LocalCloud; gg: GreengrassV2Client }> {
  const cloud = await createLocalCloud({
    dataDir: join(dir, 'cloud'),
    host: '127.0.0.1',
    port: 0,
    log: () => {},
  });
  const gg = new GreengrassV2Client({
    endpoint: cloud.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' },
  });
  return { cloud, gg };
}
