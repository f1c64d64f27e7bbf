// Shared shape of the benchmark suites: each bench/*.bench.ts default-exports a BenchSuite.
// Every figure is reported beside its physical floor measured in the same run, with the ratio.

export interface BenchFigure {
  /** What was measured, e.g. "persisted config updates (group commit)". */
  name: string;
  value: number;
  unit: string;
  /** The floor measured in the same run, e.g. raw fsync'd appends. */
  floor?: { name: string; value: number };
  /** Target from the issue, as text, e.g. ">= 20000 /s". */
  target?: string;
  /** Whether higher is better (throughput) or lower (latency, memory); decides the ratio's sense. */
  better: 'higher' | 'lower';
}

export interface BenchOptions {
  quick: boolean;
}

export interface BenchSuite {
  title: string;
  run(opts: BenchOptions): Promise<BenchFigure[]>;
}

/** value/floor for lower-is-better figures, floor/value for higher-is-better: always >= 1 means "slower than the floor by". */
export function ratio(f: BenchFigure): number | undefined {
  if (!f.floor || f.floor.value === 0 || f.value === 0) return undefined;
  return f.better === 'lower' ? f.value / f.floor.value : f.floor.value / f.value;
}
