// Daemon figures (issue 9): cold start of `tendril run` to the IPC socket accepting a connection and
// to the first component RUNNING, and the idle daemon's RSS, PSS and CPU with 0, 10 and 100
// components over a window after warm-up; the floor is a bare `node` process measured in the same run
// (its start time, and its memory and CPU sampled over the same windows). Then the cost of the cloud
// connection: the idle daemon's PSS without cloud configuration and provisioned against the local cloud.
import { GetCoreDeviceCommand } from '@aws-sdk/client-greengrassv2';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BenchFigure, BenchSuite } from './harness.js';
import {
  awsCrtMapped,
  cpuTicks,
  daemonWith,
  initConfigWith,
  memory,
  msSince,
  nowNs,
  percentile,
  runningCount,
  sleep,
  socketAccepts,
  startBareNode,
  stats,
  stopChild,
  tendrilArgs,
  TICKS_PER_SECOND,
  waitUntil,
  startBenchCloud,
} from './util.js';

interface ColdStart {
  toSocketMs: number;
  toRunningMs: number;
}

/** `tendril run` on a fresh root with one component: to a raw connection accepted, then to RUNNING. */
async function coldStart(dir: string, i: number): Promise<ColdStart> {
  const root = join(dir, `cold${i}`);
  const init = initConfigWith(1, join(dir, `cold${i}.yaml`), 'Cold');
  const socket = join(root, 'ipc.socket');
  const t0 = nowNs();
  const child = spawn(process.execPath, [...tendrilArgs(), 'run', '--root', root, '--init-config', init], {
    stdio: 'ignore',
  });
  try {
    const end = Date.now() + 60000;
    while (!(await socketAccepts(socket))) {
      if (Date.now() > end || child.exitCode !== null)
        throw new Error('bench: the IPC socket never accepted');
      await sleep(2);
    }
    const toSocketMs = msSince(t0);
    await waitUntil(() => runningCount(root) >= 1, 60000, 'the first component RUNNING');
    return { toSocketMs, toRunningMs: msSince(t0) };
  } finally {
    await stopChild(child);
  }
}

interface Window {
  rss: { min: number; mean: number; max: number };
  pss: { min: number; mean: number; max: number };
  uss: { min: number; mean: number; max: number };
  cpuPct: number;
  samples: number;
}

/** Samples RSS/PSS of each pid every `everyMs` over `windowMs`, and their utime+stime across it. */
async function sampleWindow(pids: number[], windowMs: number, everyMs: number): Promise<Window[]> {
  const rss: number[][] = pids.map(() => []);
  const pss: number[][] = pids.map(() => []);
  const uss: number[][] = pids.map(() => []);
  const ticks0 = pids.map(cpuTicks);
  const t0 = Date.now();
  for (;;) {
    pids.forEach((pid, k) => {
      const m = memory(pid);
      rss[k].push(m.rss);
      pss[k].push(m.pss);
      uss[k].push(m.uss);
    });
    if (Date.now() - t0 + everyMs > windowMs) break;
    await sleep(everyMs);
  }
  const seconds = (Date.now() - t0) / 1000;
  return pids.map((pid, k) => ({
    rss: stats(rss[k]),
    pss: stats(pss[k]),
    uss: stats(uss[k]),
    cpuPct: ((cpuTicks(pid) - ticks0[k]) / TICKS_PER_SECOND / seconds) * 100,
    samples: rss[k].length,
  }));
}

const range = (s: { min: number; max: number }) => `min ${s.min.toFixed(1)}, max ${s.max.toFixed(1)}`;

/**
 * The cost of the cloud connection (issue 7: aws-crt is loaded only when one is configured): two idle
 * daemons with 0 components side by side, one with no cloud configuration and one provisioned
 * against the local cloud (in this process) and connected, beside a bare node, all sampled in the same
 * window, so the pages they share (the node binary) are split the same way for every one of them.
 */
async function cloudConnection(dir: string, quick: boolean): Promise<BenchFigure[]> {
  const warmupMs = quick ? 5000 : 15000;
  const windowMs = quick ? 20000 : 60000;
  const everyMs = quick ? 2000 : 5000;
  const emit = process.emitWarning;
  process.emitWarning = (() => {}) as typeof process.emitWarning; // the SDK's Node 22 notice
  const { cloud, gg } = await startBenchCloud(dir);
  const children: ChildProcess[] = [];
  try {
    const pssDir = join(dir, 'pss');
    mkdirSync(pssDir);
    const p = await cloud.provision({
      thingName: 'bench-pss-core',
      thingGroup: 'bench-pss',
      outDir: pssDir,
    });
    const offline = await daemonWith(0, pssDir);
    children.push(offline.child);
    const root = join(pssDir, 'root-cloud');
    const online = spawn(
      process.execPath,
      [...tendrilArgs(), 'run', '--root', root, '--init-config', p.configPath],
      {
        stdio: 'ignore',
      },
    );
    children.push(online);
    for (let i = 0; ; i++) {
      const core = await gg
        .send(new GetCoreDeviceCommand({ coreDeviceThingName: 'bench-pss-core' }))
        .catch(() => undefined);
      if (core?.status) break;
      if (i > 600 || online.exitCode !== null)
        throw new Error('bench: the provisioned daemon did not reach the cloud');
      await sleep(100);
    }
    process.emitWarning = emit;
    const bare = await startBareNode();
    children.push(bare.child);
    await sleep(warmupMs);
    const pids = [offline.child.pid!, online.pid!, bare.child.pid!];
    const crt = pids.map((pid) => awsCrtMapped(pid).length > 0);
    if (crt[0]) throw new Error('bench: the daemon without a cloud connection mapped aws-crt');
    const [off, on, floor] = await sampleWindow(pids, windowMs, everyMs);
    const over = `${off.samples} samples over ${windowMs / 1000} s after ${warmupMs / 1000} s warm-up`;
    const mapped = (k: number) => `aws-crt mapped: ${crt[k] ? 'yes' : 'no'}`;
    const bareFloor = { name: `bare node, same window (${range(floor.pss)})`, value: floor.pss.mean };
    return [
      {
        name: `daemon PSS idle, 0 components, no cloud configuration (${mapped(0)}), mean of ${over} (${range(off.pss)} MB; RSS ${off.rss.mean.toFixed(1)}, USS ${off.uss.mean.toFixed(1)})`,
        value: off.pss.mean,
        unit: 'MB',
        floor: bareFloor,
        better: 'lower',
      },
      {
        name: `daemon PSS idle, 0 components, provisioned and connected to the local cloud (MQTT 5 over mTLS; ${mapped(1)}), same window (${range(on.pss)} MB; RSS ${on.rss.mean.toFixed(1)}, USS ${on.uss.mean.toFixed(1)})`,
        value: on.pss.mean,
        unit: 'MB',
        floor: bareFloor,
        better: 'lower',
      },
      {
        name: `PSS cost of the cloud connection: connected - no cloud, same window (RSS +${(on.rss.mean - off.rss.mean).toFixed(1)}, USS +${(on.uss.mean - off.uss.mean).toFixed(1)} MB)`,
        value: on.pss.mean - off.pss.mean,
        unit: 'MB',
        better: 'lower',
      },
    ];
  } finally {
    process.emitWarning = emit;
    for (const c of children) await stopChild(c);
    gg.destroy();
    await cloud.close();
  }
}

const suite: BenchSuite = {
  title: 'Daemon cold start and idle footprint (tendril run, compiled dist)',
  async run({ quick }) {
    const coldRuns = quick ? 3 : 7;
    const warmupMs = quick ? 5000 : 60000;
    const windowMs = quick ? 20000 : 600000;
    const everyMs = quick ? 2000 : 5000;
    const windowText = quick ? `${windowMs / 1000} s` : `${windowMs / 60000} min`;
    const dir = mkdtempSync(join(tmpdir(), 'tendril-bench-daemon-'));
    const figures: BenchFigure[] = [];
    const children: ChildProcess[] = [];
    try {
      // Cold start, alternating with the floor so both see the same machine load.
      const bareStarts: number[] = [];
      const colds: ColdStart[] = [];
      for (let i = 0; i < coldRuns; i++) {
        const b = await startBareNode();
        bareStarts.push(b.startMs);
        await stopChild(b.child);
        colds.push(await coldStart(dir, i));
      }
      const bareStart = percentile(bareStarts, 50);
      figures.push(
        {
          name: `tendril run -> IPC socket accepts a raw connection, median of ${coldRuns} fresh roots`,
          value: percentile(
            colds.map((c) => c.toSocketMs),
            50,
          ),
          unit: 'ms',
          floor: { name: 'bare node process start (median)', value: bareStart },
          better: 'lower',
        },
        {
          name: `tendril run -> first component RUNNING (1 component), median of ${coldRuns}`,
          value: percentile(
            colds.map((c) => c.toRunningMs),
            50,
          ),
          unit: 'ms',
          floor: { name: 'bare node process start (median)', value: bareStart },
          better: 'lower',
        },
      );

      // Idle footprint: one bare node process idles through every window beside the daemon.
      const bare = await startBareNode();
      children.push(bare.child);
      const rssOf = new Map<number, number>();
      for (const n of [0, 10, 100]) {
        const d = await daemonWith(n, dir);
        children.push(d.child);
        await sleep(warmupMs);
        const [daemon, floor] = await sampleWindow([d.child.pid!, bare.child.pid!], windowMs, everyMs);
        await stopChild(d.child);
        rssOf.set(n, daemon.rss.mean);
        const over = `${daemon.samples} samples over ${windowText} after ${warmupMs / 1000} s warm-up`;
        figures.push(
          {
            name: `daemon RSS idle, ${n} components, mean of ${over} (${range(daemon.rss)} MB)`,
            value: daemon.rss.mean,
            unit: 'MB',
            floor: {
              name: `bare node (one 1 s timer), same window (${range(floor.rss)})`,
              value: floor.rss.mean,
            },
            better: 'lower',
          },
          {
            name: `daemon PSS idle, ${n} components, mean (${range(daemon.pss)} MB)`,
            value: daemon.pss.mean,
            unit: 'MB',
            floor: { name: `bare node, same window (${range(floor.pss)})`, value: floor.pss.mean },
            better: 'lower',
          },
          {
            name: `daemon idle CPU (utime+stime), ${n} components, over ${windowText}`,
            value: daemon.cpuPct,
            unit: '% of one core',
            floor: { name: 'bare node, same window', value: floor.cpuPct },
            better: 'lower',
          },
        );
      }
      figures.push({
        name: `daemon memory per added component: (RSS with 100 - RSS with 0) / 100, the window means above`,
        value: ((rssOf.get(100)! - rssOf.get(0)!) * 1024) / 100,
        unit: 'KB',
        target: '< 100 KB',
        better: 'lower',
      });
      figures.push(...(await cloudConnection(dir, quick)));
    } finally {
      for (const c of children) await stopChild(c);
      rmSync(dir, { recursive: true, force: true });
    }
    return figures;
  },
};

export default suite;
