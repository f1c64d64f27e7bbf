// Pure aggregation: a sample becomes metric points, points accumulate over a window, a closed
// window becomes aggregated data points, and pending points become the cloud message (CL-80).
// Metric names and units follow the Greengrass telemetry documentation (SystemMetrics:
// CpuUsage, SystemMemUsage, TotalNumberOfFDs; GreengrassComponents: NumberOfComponents<State>);
// the field letters of the message (ADP, TS, NS, M, N, U, Sum...) are UNVERIFIED against the nucleus.
import type {
  AggregatedDataPoint,
  AggregatedMetric,
  CloudTelemetryMessage,
  MetricPoint,
  TelemetrySample,
} from './types.js';

export const SYSTEM_NAMESPACE = 'SystemMetrics';
export const COMPONENTS_NAMESPACE = 'GreengrassComponents';

/** Lifecycle states counted in each sample, in the order they are published. */
export const COUNTED_STATES = [
  'NEW',
  'INSTALLED',
  'STARTING',
  'RUNNING',
  'STOPPING',
  'ERRORED',
  'BROKEN',
  'FINISHED',
] as const;

const pascal = (s: string) => s.charAt(0) + s.slice(1).toLowerCase();

/** Components per lifecycle state; every counted state is present. */
export function countStates(states: Iterable<string>): Record<string, number> {
  const out: Record<string, number> = Object.fromEntries(COUNTED_STATES.map((s) => [s, 0]));
  for (const s of states) out[s] = (out[s] ?? 0) + 1;
  return out;
}

/** The cloud metrics of one sample. */
export function samplePoints(sample: TelemetrySample): MetricPoint[] {
  const sys = sample.system;
  const points: MetricPoint[] = [
    {
      namespace: SYSTEM_NAMESPACE,
      name: 'SystemMemUsage',
      unit: 'Megabytes',
      value: sys.memoryUsedBytes / 1048576,
    },
    {
      namespace: SYSTEM_NAMESPACE,
      name: 'TotalNumberOfFDs',
      unit: 'Count',
      value: sys.openFileDescriptors,
    },
  ];
  if (sys.cpuPercent !== null)
    points.push({ namespace: SYSTEM_NAMESPACE, name: 'CpuUsage', unit: 'Percent', value: sys.cpuPercent });
  for (const [state, n] of Object.entries(sample.stateCounts))
    points.push({
      namespace: COMPONENTS_NAMESPACE,
      name: `NumberOfComponents${pascal(state)}`,
      unit: 'Count',
      value: n,
    });
  return points;
}

export interface Running {
  unit: string;
  sum: number;
  count: number;
  max: number;
  min: number;
}

/** The serialized form of an open window (persisted so a restart keeps its points). */
export type WindowSnapshot = Record<string, Record<string, Running>>;

/** The points of one aggregation window, by namespace and name. */
export class WindowAccumulator {
  private readonly byNs = new Map<string, Map<string, Running>>();

  static from(snapshot: WindowSnapshot | undefined): WindowAccumulator {
    const w = new WindowAccumulator();
    for (const [ns, metrics] of Object.entries(snapshot ?? {}))
      w.byNs.set(ns, new Map(Object.entries(metrics).map(([n, r]) => [n, { ...r }])));
    return w;
  }

  snapshot(): WindowSnapshot {
    return Object.fromEntries(
      [...this.byNs].map(([ns, m]) => [ns, Object.fromEntries([...m].map(([n, r]) => [n, { ...r }]))]),
    );
  }

  get empty(): boolean {
    return this.byNs.size === 0;
  }

  add(points: readonly MetricPoint[]): void {
    for (const p of points) {
      if (!Number.isFinite(p.value)) continue;
      let ns = this.byNs.get(p.namespace);
      if (!ns) this.byNs.set(p.namespace, (ns = new Map()));
      const r = ns.get(p.name);
      if (!r) ns.set(p.name, { unit: p.unit, sum: p.value, count: 1, max: p.value, min: p.value });
      else {
        r.sum += p.value;
        r.count++;
        r.max = Math.max(r.max, p.value);
        r.min = Math.min(r.min, p.value);
      }
    }
  }

  /** The window's aggregated data points stamped `end`, and an empty accumulator again. */
  close(end: number): AggregatedDataPoint[] {
    const out: AggregatedDataPoint[] = [];
    for (const [ns, metrics] of this.byNs) {
      const M: AggregatedMetric[] = [...metrics].map(([name, r]) => ({
        N: name,
        U: r.unit,
        Sum: round(r.sum),
        Avg: round(r.sum / r.count),
        Max: round(r.max),
        Min: round(r.min),
      }));
      out.push({ TS: end, NS: ns, M });
    }
    this.byNs.clear();
    return out;
  }
}

const round = (v: number) => Math.round(v * 1000) / 1000;

/** The message of one publication period ending at `end`, or undefined when nothing was aggregated. */
export function cloudMessage(
  pending: readonly AggregatedDataPoint[],
  end: number,
): CloudTelemetryMessage | undefined {
  if (pending.length === 0) return undefined;
  return { TS: end, ADP: [...pending] };
}

/** `$aws/things/<thing>/greengrass/health/json` (not greengrassv2: that is fleet status) [CL-80]. */
export function telemetryTopic(thingName: string): string {
  return `$aws/things/${thingName}/greengrass/health/json`;
}

/** The local pub/sub topic of each sample. */
export const LOCAL_TELEMETRY_TOPIC = '$local/greengrass/telemetry';
