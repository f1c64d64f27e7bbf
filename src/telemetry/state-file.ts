// The agent's files under <root>/telemetry (owner only [CF-72], LC-95): `latest.json`, the last
// sample, for `tendril top` and `tendril status`; `agent-state.json`, the period boundaries, the
// aggregated points not yet published and the outbox of messages not yet acknowledged.
import { open, readFile, rename, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { WindowSnapshot } from './aggregate.js';
import type { PeriodBoundaries } from './schedule.js';
import type { AggregatedDataPoint, CloudTelemetryMessage, TelemetrySample } from './types.js';

export const LATEST_SAMPLE_FILE = 'latest.json';
export const AGENT_STATE_FILE = 'agent-state.json';

export interface AgentState extends PeriodBoundaries {
  /** the open aggregation window's points */
  window: WindowSnapshot;
  /** aggregated, not yet in a message */
  pending: AggregatedDataPoint[];
  /** messages built, not yet acknowledged by the broker (oldest first) */
  outbox: CloudTelemetryMessage[];
  /** messages dropped because the outbox was full */
  dropped: number;
}

/** Writes `data` to `file` atomically and durably (temporary file, fsync, rename, fsync of the directory). */
export async function writeAtomic(file: string, data: string): Promise<void> {
  const dir = join(file, '..');
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const tmp = `${file}.tmp`;
  const fh = await open(tmp, 'w', 0o600);
  try {
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, file);
  const d = await open(dir, 'r');
  try {
    await d.sync();
  } finally {
    await d.close();
  }
}

/** The last sample written by the nucleus, or undefined when there is none yet. */
export async function readLatestSample(telemetryDir: string): Promise<TelemetrySample | undefined> {
  try {
    return JSON.parse(await readFile(join(telemetryDir, LATEST_SAMPLE_FILE), 'utf8')) as TelemetrySample;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

export async function readAgentState(telemetryDir: string): Promise<AgentState | undefined> {
  let raw: string;
  try {
    raw = await readFile(join(telemetryDir, AGENT_STATE_FILE), 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
  const s = JSON.parse(raw) as Partial<AgentState>;
  if (typeof s.aggregateFrom !== 'number' || typeof s.publishFrom !== 'number') return undefined;
  return {
    aggregateFrom: s.aggregateFrom,
    publishFrom: s.publishFrom,
    window: typeof s.window === 'object' && s.window !== null ? s.window : {},
    pending: Array.isArray(s.pending) ? s.pending : [],
    outbox: Array.isArray(s.outbox) ? s.outbox : [],
    dropped: typeof s.dropped === 'number' ? s.dropped : 0,
  };
}
