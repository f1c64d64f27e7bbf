// Telemetry sampling cost (issue 10): 100 components, each a live process, sampled by the nucleus's
// TelemetrySampler (system figures, state counts, each component's process tree), as the daemon
// does every sampling interval. Reported: the daemon CPU time per sample and what it costs at one
// sample every 10 s, in % of one core (target < 1%). Modes: the nucleus's process tree (children
// carrying SVCUIDs) and, as root, the components' cgroups (real cgroupfs). Floor: reading only the
// 100 processes' /proc/<pid>/stat, the least any per-process sampler reads.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { detectResourceController, type CgroupController } from '../src/lifecycle/index.js';
import { TelemetrySampler } from '../src/telemetry/index.js';
import type { BenchFigure, BenchSuite } from './harness.js';
import { sleep, stopChild } from './util.js';

const N = 100;
const INTERVAL_S = 10;

const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

async function measure(samples: number, once: () => Promise<unknown>): Promise<number> {
  for (let i = 0; i < 3; i++) await once(); // warm-up
  const c0 = cpuMs();
  for (let i = 0; i < samples; i++) await once();
  return (cpuMs() - c0) / samples;
}

const suite: BenchSuite = {
  title: 'Telemetry sampling (100 components, process trees)',
  async run({ quick }) {
    const samples = quick ? 20 : 100;
    const children: ChildProcess[] = [];
    const names = Array.from({ length: N }, (_, i) => `bench.Telemetry${i}`);
    for (let i = 0; i < N; i++)
      children.push(
        spawn('sleep', ['600'], { env: { ...process.env, SVCUID: `tok-${i}` }, stdio: 'ignore' }),
      );
    const byToken = new Map(names.map((n, i) => [`tok-${i}`, n]));
    const infos = names.map((componentName) => ({ componentName, version: '1.0.0', state: 'RUNNING' }));
    const figures: BenchFigure[] = [];
    let cgroups: CgroupController | undefined;
    try {
      await sleep(500);
      const pids = children.map((c) => c.pid!);
      const floor = await measure(samples, () =>
        Promise.all(pids.map((p) => readFile(`/proc/${p}/stat`, 'utf8').catch(() => ''))),
      );
      const tree = new TelemetrySampler({ components: () => infos, componentOfToken: (t) => byToken.get(t) });
      const first = await tree.sample();
      if (first.components.some((c) => c.processCount !== 1))
        throw new Error('a component without its process');
      const treeMs = await measure(samples, () => tree.sample());
      const pct = (ms: number) => (ms / (INTERVAL_S * 1000)) * 100;
      figures.push({
        name: `CPU per sample, process-tree mode, ${N} components (mean of ${samples})`,
        value: treeMs,
        unit: 'ms',
        floor: { name: `read the ${N} /proc/<pid>/stat only`, value: floor },
        better: 'lower',
      });
      figures.push({
        name: `sampling cost at one sample every ${INTERVAL_S} s, process-tree mode`,
        value: pct(treeMs),
        unit: '% of one core',
        floor: { name: 'the /proc/<pid>/stat floor at the same rate', value: pct(floor) },
        target: '< 1 %',
        better: 'lower',
      });
      if (process.getuid?.() === 0) {
        cgroups = await detectResourceController({}).catch(() => undefined);
        if (cgroups && cgroups.version !== 'none') {
          for (const [i, name] of names.entries()) {
            await cgroups.apply(name, {});
            await cgroups.addProcess(name, pids[i], { descendants: false });
          }
          const cg = new TelemetrySampler({
            components: () => infos,
            cgroups,
            componentOfToken: () => undefined,
          });
          const firstCg = await cg.sample();
          if (firstCg.components.some((c) => c.processCount !== 1))
            throw new Error('a cgroup without its process');
          const cgMs = await measure(samples, () => cg.sample());
          figures.push({
            name: `CPU per sample, cgroup ${cgroups.version} mode, ${N} components (mean of ${samples})`,
            value: cgMs,
            unit: 'ms',
            floor: { name: `read the ${N} /proc/<pid>/stat only`, value: floor },
            better: 'lower',
          });
          figures.push({
            name: `sampling cost at one sample every ${INTERVAL_S} s, cgroup mode`,
            value: pct(cgMs),
            unit: '% of one core',
            floor: { name: 'the /proc/<pid>/stat floor at the same rate', value: pct(floor) },
            target: '< 1 %',
            better: 'lower',
          });
        }
      }
    } finally {
      await Promise.all(children.map((c) => stopChild(c)));
      if (cgroups && cgroups.version !== 'none')
        for (const n of names) await cgroups.remove(n).catch(() => undefined);
    }
    return figures;
  },
};
export default suite;
