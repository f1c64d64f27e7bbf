// Lifecycle and daemon figures (issue: lifecycle engine): start-request -> exec latency with 100
// components against raw child_process.spawn, `tendril run` to 100 RUNNING, and daemon memory idle
// with 0 and 100 components against a bare node process, all measured in the same run.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  detectResourceController,
  LifecycleManager,
  ShellProcessLauncher,
  type ServiceDefinitions,
} from '../src/lifecycle/index.js';
import type { BenchFigure, BenchSuite } from './harness.js';
import { bareNode, daemonWith, memory, nowNs, percentile, sleep, stopChild, waitUntil } from './util.js';

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
