// What the telemetry agent measures and publishes. The local sample is Tendril's own shape (the
// `$local/greengrass/telemetry` message and `<root>/telemetry/latest.json`); the cloud message
// follows the Greengrass telemetry agent (cloud.md CL-80, config.md CF-43).

/** One component's figures, summed over its whole process tree. */
export interface ComponentFigures {
  componentName: string;
  version: string;
  state: string;
  /** percent of one core over the last sampling interval (200 = two full cores); null on the first sample */
  cpuPercent: number | null;
  /** resident memory of every process of the component, bytes */
  memoryBytes: number;
  /** the cgroup's own memory charge (page cache included), when a cgroup holds the component */
  cgroupMemoryBytes: number | null;
  processCount: number;
  /** where the process list came from: the component's cgroup, or the nucleus's process tree */
  source: 'cgroup' | 'process-tree';
}

export interface SystemFigures {
  /** percent of all cores over the last sampling interval; null on the first sample */
  cpuPercent: number | null;
  memoryUsedBytes: number;
  memoryTotalBytes: number;
  openFileDescriptors: number;
}

export interface TelemetrySample {
  /** epoch ms */
  timestamp: number;
  system: SystemFigures;
  /** how many components are in each lifecycle state (states with none are listed as 0) */
  stateCounts: Record<string, number>;
  components: ComponentFigures[];
}

/** A metric put by a component over IPC [IPC-66] or derived from a sample. */
export interface MetricPoint {
  namespace: string;
  name: string;
  /** the telemetry unit as published, e.g. `Percent`, `Count`, `Bytes` */
  unit: string;
  value: number;
}

/** One aggregated metric of a window: the aggregation over its points. */
export interface AggregatedMetric {
  N: string;
  U: string;
  Sum: number;
  Avg: number;
  Max: number;
  Min: number;
}

/** One namespace's aggregation of one window; TS is the window's end, epoch ms. */
export interface AggregatedDataPoint {
  TS: number;
  NS: string;
  M: AggregatedMetric[];
}

/** The message published to `$aws/things/<thing>/greengrass/health/json` [CL-80]. */
export interface CloudTelemetryMessage {
  /** the end of the publication period, epoch ms; also the message's identity (the cloud keeps one per TS) */
  TS: number;
  ADP: AggregatedDataPoint[];
}

export interface TelemetrySettings {
  /** telemetry.enabled: the cloud aggregation and publication [CF-43] */
  enabled: boolean;
  aggregateIntervalMs: number;
  publishIntervalMs: number;
  /** Tendril: sampling, `$local/greengrass/telemetry` and latest.json (telemetry.localPublishIntervalSeconds) */
  sampleIntervalMs: number;
}
