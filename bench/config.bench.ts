// Config store: persisted updates/s with group commit, and tlog load time, each beside its physical floor.
import { mkdtemp, open, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ConfigStore, Configuration, applyTlog, encodeTlogLine, parseTlog } from '../src/config/index.js';
import type { BenchFigure, BenchSuite } from './harness.js';

const line = (i: number) =>
  encodeTlogLine({ ts: 1_700_000_000_000 + i, path: ['bench', `k${i % 1000}`], what: 'changed', value: i }) +
  '\n';

/** Persisted updates/s through the store: `writers` concurrent writers, each awaiting its own durable ack. */
async function storeUpdates(root: string, total: number, writers: number): Promise<number> {
  const store = await ConfigStore.open({ root, effectiveConfigDebounceMs: 0, maxTlogEntries: 1e9 });
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: writers }, async () => {
      for (let i = next++; i < total; i = next++) await store.set(['bench', `k${i % 1000}`], i);
    }),
  );
  const secs = (performance.now() - t0) / 1000;
  await store.close();
  return total / secs;
}

/** Floor: the same lines appended in batches of the same size the store formed, one fdatasync per batch. */
async function rawBatched(file: string, total: number, batch: number): Promise<number> {
  const fh = await open(file, 'a');
  const t0 = performance.now();
  for (let i = 0; i < total; i += batch) {
    let s = '';
    for (let j = i; j < Math.min(total, i + batch); j++) s += line(j);
    await fh.write(s);
    await fh.datasync();
  }
  const secs = (performance.now() - t0) / 1000;
  await fh.close();
  return total / secs;
}

async function rawPerLine(file: string, total: number): Promise<number> {
  return rawBatched(file, total, 1);
}

const suite: BenchSuite = {
  title: 'Config store (tlog)',
  async run({ quick }) {
    const dir = await mkdtemp(path.join(tmpdir(), 'tendril-bench-config-'));
    try {
      const figures: BenchFigure[] = [];
      const total = quick ? 20_000 : 100_000;
      const writers = 256;

      const root = path.join(dir, 'root');
      const storeRate = await storeUpdates(root, total, writers);
      // the mean batch the store formed, so the floor does the same number of fdatasyncs per line
      const probe = await ConfigStore.open({
        root: path.join(dir, 'probe'),
        effectiveConfigDebounceMs: 0,
        maxTlogEntries: 1e9,
      });
      let next = 0;
      await Promise.all(
        Array.from({ length: writers }, async () => {
          for (let i = next++; i < total / 4; i = next++) await probe.set(['bench', `k${i % 1000}`], i);
        }),
      );
      const meanBatch = Math.max(1, Math.round(probe.stats.lines / probe.stats.batches));
      await probe.close();
      const floor = await rawBatched(path.join(dir, 'raw-batched.tlog'), total, meanBatch);
      figures.push({
        name: `persisted config updates/s, group commit (${writers} concurrent writers, mean batch ${meanBatch})`,
        value: storeRate,
        unit: '/s',
        floor: { name: `raw appends, ${meanBatch} lines per fdatasync`, value: floor },
        target: '>= 20000 /s',
        better: 'higher',
      });
      const perLineN = quick ? 500 : 2000;
      figures.push({
        name: 'raw appends with one fdatasync per line (reference: what group commit avoids)',
        value: await rawPerLine(path.join(dir, 'raw-per-line.tlog'), perLineN),
        unit: '/s',
        better: 'higher',
      });

      // Loading a 100,000-line tlog vs reading + JSON.parse of the same file.
      const n = 100_000;
      const loadRoot = path.join(dir, 'load');
      await mkdir(path.join(loadRoot, 'config'), { recursive: true });
      const file = path.join(loadRoot, 'config', 'config.tlog');
      let text = '';
      for (let i = 0; i < n; i++)
        text +=
          encodeTlogLine({
            ts: 1_700_000_000_000 + i,
            path: ['services', `svc${i % 500}`, 'configuration', `key${i % 97}`],
            what: 'changed',
            value: i % 3 ? `value-${i}` : i,
          }) + '\n';
      await writeFile(file, text);
      const reps = quick ? 2 : 5;
      let best = Infinity;
      let bestFloor = Infinity;
      for (let r = 0; r < reps; r++) {
        let t0 = performance.now();
        const buf = await readFile(file);
        for (const l of buf.toString('utf8').split('\n')) if (l) JSON.parse(l);
        bestFloor = Math.min(bestFloor, performance.now() - t0);
        t0 = performance.now();
        const c = new Configuration();
        applyTlog(c, parseTlog(await readFile(file), file).lines);
        best = Math.min(best, performance.now() - t0);
      }
      figures.push({
        name: 'load a 100,000-line tlog (read, validate, replay into the tree)',
        value: best,
        unit: 'ms',
        floor: { name: 'read + JSON.parse per line', value: bestFloor },
        target: '< 1000 ms',
        better: 'lower',
      });
      // Boot through the store: load + validation + writer attach (no rewrite, since config.tlog is valid).
      const t0 = performance.now();
      const s = await ConfigStore.open({ root: loadRoot, effectiveConfigDebounceMs: 0 });
      const bootMs = performance.now() - t0;
      await s.close();
      figures.push({
        name: 'ConfigStore.open on that 100,000-line tlog (incl. bootstrap.tlog and effectiveConfig.yaml writes)',
        value: bootMs,
        unit: 'ms',
        floor: { name: 'read + JSON.parse per line', value: bestFloor },
        better: 'lower',
      });
      return figures;
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  },
};
export default suite;
