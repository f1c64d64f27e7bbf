// Lifecycle and daemon figures (issue: lifecycle engine): start-request -> exec latency with 100
// components against raw child_process.spawn, `tendril run` to 100 RUNNING, and daemon memory idle
// with 0 and 100 components against a bare node process, all measured in the same run.
import { spawn, type ChildProcess } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  detectResourceController,
  LifecycleManager,
  ShellProcessLauncher,
  type ServiceDefinitions,
} from '../src/lifecycle/index.js';
import type { BenchFigure, BenchSuite } from './harness.js';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const nowNs = () => BigInt(Math.round((performance.timeOrigin + performance.now()) * 1e6));

function tendrilArgs(): string[] {
  const dist = join(repo, 'dist/cli/tendril.js');
  return existsSync(dist) ? [dist] : ['--import', 'tsx', join(repo, 'src/cli/tendril.ts')];
}

function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}

/** RSS and PSS in MB from /proc. */
function memory(pid: number): { rss: number; pss: number } {
  const rollup = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
  const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(rollup)?.[1] ?? NaN);
  return { rss: kb('Rss') / 1024, pss: kb('Pss') / 1024 };
}

async function waitUntil(check: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`bench: timed out waiting for ${what}`);
    await sleep(10);
  }
}

function runningCount(root: string): number {
  const f = join(root, 'logs', 'greengrass.log');
  if (!existsSync(f)) return 0;
  return (readFileSync(f, 'utf8').match(/newState=RUNNING\}/g) ?? []).length;
}

async function stopChild(c: ChildProcess): Promise<void> {
  if (c.exitCode !== null) return;
  const done = new Promise((r) => c.once('exit', r));
  c.kill('SIGTERM');
  await done;
}

/** Starts the daemon CLI with n components and waits until all are RUNNING (or, for 0, until IPC listens). */
async function daemonWith(n: number, dir: string) {
  const root = join(dir, `root${n}`);
  const services = Array.from(
    { length: n },
    (_, i) => `  Bench${i}:\n    lifecycle: { run: "exec sleep 100000" }`,
  ).join('\n');
  const init = join(dir, `init${n}.yaml`);
  writeFileSync(
    init,
    `services:\n  aws.greengrass.Nucleus:\n    configuration: { runWithDefault: { posixUser: "root" } }\n${services}\n`,
  );
  const t0 = nowNs();
  const child = spawn(process.execPath, [...tendrilArgs(), 'run', '--root', root, '--init-config', init], {
    stdio: 'ignore',
  });
  await waitUntil(
    () => (n === 0 ? existsSync(join(root, 'ipc.socket')) : runningCount(root) >= n),
    120000,
    `${n} RUNNING`,
  );
  const toRunningMs = Number(nowNs() - t0) / 1e6;
  return { child, root, toRunningMs };
}

function freshDir(d: string) {
  rmSync(d, { recursive: true, force: true });
  mkdirSync(d, { recursive: true });
}

function latenciesMs(stamps: string, t0: bigint): number[] {
  return readdirSync(stamps).map(
    (f) => Number(BigInt(readFileSync(join(stamps, f), 'utf8').trim()) - t0) / 1e6,
  );
}

/** Start request (LifecycleManager.apply) -> each run step's first instruction, in this process. */
async function managerLatencies(n: number, dir: string): Promise<number[]> {
  const stamps = join(dir, 'mgrstamps');
  freshDir(stamps);
  const resources = await detectResourceController({ parent: 'tendril-bench' });
  const manager = new LifecycleManager({
    launcher: new ShellProcessLauncher({ cgroups: resources }),
    resources,
    workDir: () => dir,
  });
  const defs: ServiceDefinitions = Object.fromEntries(
    Array.from({ length: n }, (_, i) => [
      `Lat${i}`,
      { lifecycle: { run: `date +%s%N > ${stamps}/${i}; exec sleep 100000` } },
    ]),
  );
  const t0 = nowNs();
  manager.apply(defs);
  await waitUntil(() => readdirSync(stamps).length >= n, 60000, 'all run steps to exec');
  await sleep(50);
  const lat = latenciesMs(stamps, t0);
  await manager.close();
  return lat;
}

async function rawSpawnLatencies(n: number, dir: string): Promise<number[]> {
  const stamps = join(dir, 'rawstamps');
  freshDir(stamps);
  const t0 = nowNs();
  const kids = Array.from({ length: n }, (_, i) =>
    spawn('sh', ['-c', `date +%s%N > ${stamps}/${i}`], { stdio: 'ignore', detached: true }),
  );
  await Promise.all(kids.map((k) => new Promise((r) => k.once('exit', r))));
  return latenciesMs(stamps, t0);
}

async function bareNode(): Promise<{ startMs: number; rss: number; pss: number }> {
  const t0 = nowNs();
  const c = spawn(process.execPath, ['-e', 'process.stdout.write("up\\n"); setInterval(() => {}, 1000)'], {
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  await new Promise((r) => c.stdout!.once('data', r));
  const startMs = Number(nowNs() - t0) / 1e6;
  await sleep(1500);
  const m = memory(c.pid!);
  await stopChild(c);
  return { startMs, ...m };
}

const suite: BenchSuite = {
  title: 'Lifecycle and daemon (100 components, real processes, cgroups v1)',
  async run({ quick }) {
    const n = quick ? 30 : 100;
    const settle = quick ? 2000 : 5000;
    const dir = mkdtempSync(join(tmpdir(), 'tendril-bench-lc-'));
    const figures: BenchFigure[] = [];
    try {
      const bare = await bareNode();
      const raw = await rawSpawnLatencies(n, dir);

      const idle = await daemonWith(0, dir);
      await sleep(settle);
      const mem0 = memory(idle.child.pid!);
      await stopChild(idle.child);

      const full = await daemonWith(n, dir);
      await sleep(settle);
      const memN = memory(full.child.pid!);
      await stopChild(full.child);

      const execLat = await managerLatencies(n, dir);
      figures.push(
        {
          name: `start-request -> exec latency p50, ${n} components started at once`,
          value: percentile(execLat, 50),
          unit: 'ms',
          floor: { name: `raw spawn of ${n} 'sh -c' at once, p50`, value: percentile(raw, 50) },
          target: 'within 2x of raw spawn',
          better: 'lower',
        },
        {
          name: `start-request -> exec latency p99, ${n} components`,
          value: percentile(execLat, 99),
          unit: 'ms',
          floor: { name: `raw spawn p99`, value: percentile(raw, 99) },
          target: 'within 2x of raw spawn',
          better: 'lower',
        },
        {
          name: `tendril run -> all ${n} components RUNNING`,
          value: full.toRunningMs,
          unit: 'ms',
          floor: { name: 'bare node process start', value: bare.startMs },
          better: 'lower',
        },
        {
          name: 'tendril run -> IPC socket listening (0 components)',
          value: idle.toRunningMs,
          unit: 'ms',
          floor: { name: 'bare node process start', value: bare.startMs },
          better: 'lower',
        },
        {
          name: 'daemon RSS idle, 0 components',
          value: mem0.rss,
          unit: 'MB',
          floor: { name: 'bare node process', value: bare.rss },
          target: '< 60 MB',
          better: 'lower',
        },
        {
          name: 'daemon PSS idle, 0 components',
          value: mem0.pss,
          unit: 'MB',
          floor: { name: 'bare node process', value: bare.pss },
          better: 'lower',
        },
        {
          name: `daemon RSS idle, ${n} components`,
          value: memN.rss,
          unit: 'MB',
          floor: { name: 'bare node process', value: bare.rss },
          better: 'lower',
        },
        {
          name: 'daemon memory per added component ((RSS n - RSS 0) / n)',
          value: ((memN.rss - mem0.rss) * 1024) / n,
          unit: 'KB',
          target: '< 100 KB',
          better: 'lower',
        },
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    return figures;
  },
};

export default suite;
