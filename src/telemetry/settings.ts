// `services.<nucleus>.configuration.telemetry` [CF-43]: enabled, periodicAggregateMetricsIntervalSeconds
// (3600), periodicPublishMetricsIntervalSeconds (86400), and Tendril's localPublishIntervalSeconds
// (60): the sampling interval, which is also the interval of `$local/greengrass/telemetry`.
import { DEFAULT_TELEMETRY_SETTINGS } from './agent.js';
import type { TelemetrySettings } from './types.js';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

function ci(map: Obj, key: string): unknown {
  const k = Object.keys(map).find((x) => x.toLowerCase() === key.toLowerCase());
  return k === undefined ? undefined : map[k];
}

/** Seconds as milliseconds; a missing, non-numeric or non-positive value takes the default. */
function seconds(v: unknown, dfltMs: number): number {
  const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
  return typeof n === 'number' && Number.isFinite(n) && n > 0 ? Math.round(n * 1000) : dfltMs;
}

/** The settings of a `telemetry` node (undefined or malformed = defaults). */
export function parseTelemetrySettings(node: unknown): TelemetrySettings {
  const d = DEFAULT_TELEMETRY_SETTINGS;
  if (!isObj(node)) return { ...d };
  const enabled = ci(node, 'enabled');
  return {
    enabled: !(enabled === false || (typeof enabled === 'string' && enabled.toLowerCase() === 'false')),
    aggregateIntervalMs: seconds(ci(node, 'periodicAggregateMetricsIntervalSeconds'), d.aggregateIntervalMs),
    publishIntervalMs: seconds(ci(node, 'periodicPublishMetricsIntervalSeconds'), d.publishIntervalMs),
    sampleIntervalMs: seconds(ci(node, 'localPublishIntervalSeconds'), d.sampleIntervalMs),
  };
}
