// PutComponentMetric request checks [IPC-66, IPC-101]: `aws.*` callers only; a non-empty list of
// metrics, each with a name of 1 to 32 UTF-8 bytes, a unit among the six (matched ignoring case and
// non-alphanumerics), a finite value >= 0; then the componentmetric policy per metric name, which
// aws.greengrass.StreamManager is exempt from.
import { invalidArgumentsError, unauthorizedError } from '../errors.js';
import { operationId } from '../model.js';
import type { CallContext, JsonObject } from '../operations.js';

export const PUT_COMPONENT_METRIC = operationId('PutComponentMetric');
export const STREAM_MANAGER = 'aws.greengrass.StreamManager';

/** The six units of the IPC model, and the telemetry unit each is published as. */
export const METRIC_UNITS: Readonly<Record<string, string>> = {
  BYTES: 'Bytes',
  BYTES_PER_SECOND: 'BytesPerSecond',
  COUNT: 'Count',
  COUNT_PER_SECOND: 'CountPerSecond',
  MEGABYTES: 'Megabytes',
  SECONDS: 'Seconds',
};
const normalizeUnit = (u: string) => u.replace(/[^A-Za-z0-9]/g, '').toUpperCase();
const UNIT_BY_KEY = new Map(Object.keys(METRIC_UNITS).map((u) => [normalizeUnit(u), u]));

/** One validated metric; `unit` is the model's name (e.g. BYTES_PER_SECOND). */
export interface ComponentMetric {
  name: string;
  unit: string;
  value: number;
}

/** Validates and authorizes a request; returns its metrics with canonical units. */
export function checkMetricRequest(req: JsonObject, ctx: CallContext): ComponentMetric[] {
  if (!ctx.component.startsWith('aws.')) {
    throw unauthorizedError(
      `Principal ${ctx.component} is not authorized to perform ${PUT_COMPONENT_METRIC}: only aws.* components may publish component metrics`,
    );
  }
  const metrics = req.metrics;
  if (!Array.isArray(metrics) || metrics.length === 0)
    throw invalidArgumentsError('metrics must be a non-empty list');
  const out = metrics.map((m: unknown, i): ComponentMetric => {
    const metric = (m && typeof m === 'object' ? m : {}) as JsonObject;
    const { name, unit, value } = metric;
    if (typeof name !== 'string' || name === '' || Buffer.byteLength(name, 'utf8') > 32)
      throw invalidArgumentsError(`metrics[${i}].name must be 1 to 32 UTF-8 bytes`);
    const canonical = typeof unit === 'string' ? UNIT_BY_KEY.get(normalizeUnit(unit)) : undefined;
    if (!canonical)
      throw invalidArgumentsError(
        `metrics[${i}].unit must be one of ${Object.keys(METRIC_UNITS).join(', ')}`,
      );
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0)
      throw invalidArgumentsError(`metrics[${i}].value must be a number >= 0`);
    return { name, unit: canonical, value };
  });
  if (ctx.component !== STREAM_MANAGER) for (const m of out) ctx.authorize(m.name); // [IPC-66]
  return out;
}
