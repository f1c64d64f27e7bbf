// Operations the nucleus declares but cannot serve yet (ipc.md IPC-87, IPC-88, DESIGN decision on
// IPC-88). Each answers a precise ServiceError after the same caller checks as the real operation,
// so a component sees the final authorization behaviour today:
// - mqttproxy (PublishToIoTCore, SubscribeToIoTCore) [IPC-54, IPC-55, IPC-90]: "not available: no
//   cloud connection" until the cloud side registers real handlers;
// - PutComponentMetric [IPC-66, IPC-101] and ValidateAuthorizationToken [IPC-67, IPC-101];
// - shadow, secret and client-device operations (plugins in Greengrass) [IPC-77..85]: "not supported".
// `registerUnavailableOperations` skips every operation that already has a handler: a real
// implementation registered first always wins.
import { invalidArgumentsError, serviceError, unauthorizedError } from '../errors.js';
import { CLIENT_DEVICES_SERVICE, OPERATIONS, operationId, SECRET_SERVICE, SHADOW_SERVICE } from '../model.js';
import type { CallContext, JsonObject, OperationRegistry } from '../operations.js';

export const PUBLISH_TO_IOT_CORE = operationId('PublishToIoTCore');
export const SUBSCRIBE_TO_IOT_CORE = operationId('SubscribeToIoTCore');
export const PUT_COMPONENT_METRIC = operationId('PutComponentMetric');
export const VALIDATE_AUTHORIZATION_TOKEN = operationId('ValidateAuthorizationToken');
export const STREAM_MANAGER = 'aws.greengrass.StreamManager';

const NO_CLOUD = 'is not available: no cloud connection';
const METRIC_UNITS = ['BYTES', 'BYTES_PER_SECOND', 'COUNT', 'COUNT_PER_SECOND', 'MEGABYTES', 'SECONDS'];
const normalizeUnit = (u: string) => u.replace(/[^A-Za-z0-9]/g, '').toUpperCase();
const UNIT_KEYS = new Set(METRIC_UNITS.map(normalizeUnit));

/** The plugin that serves each group in Greengrass, named in the "not supported" answer. */
const PLUGIN_GROUPS: readonly string[] = [SHADOW_SERVICE, SECRET_SERVICE, CLIENT_DEVICES_SERVICE];

/** MQTT proxy request checks [IPC-90]; PublishToIoTCore/SubscribeToIoTCore declare no InvalidArguments, so ServiceError. */
function checkMqttRequest(req: JsonObject, ctx: CallContext, publish: boolean): string {
  const topic = req.topicName;
  if (typeof topic !== 'string' || topic === '') throw serviceError('Topic is required');
  if (req.qos !== '0' && req.qos !== '1') throw serviceError('QoS must be "0" or "1"');
  if (publish && (req.payload === undefined || req.payload === null))
    throw serviceError('Payload is required');
  if (publish && typeof req.payload !== 'string') throw serviceError('Payload must be a base64 string');
  ctx.authorize(topic);
  return topic;
}

/** PutComponentMetric checks [IPC-101]: `aws.*` callers only, valid metrics, then policy per metric name. */
function checkMetricRequest(req: JsonObject, ctx: CallContext): void {
  if (!ctx.component.startsWith('aws.')) {
    throw unauthorizedError(
      `Principal ${ctx.component} is not authorized to perform ${PUT_COMPONENT_METRIC}: only aws.* components may publish component metrics`,
    );
  }
  const metrics = req.metrics;
  if (!Array.isArray(metrics) || metrics.length === 0)
    throw invalidArgumentsError('metrics must be a non-empty list');
  metrics.forEach((m: unknown, i) => {
    const metric = (m && typeof m === 'object' ? m : {}) as JsonObject;
    const { name, unit, value } = metric;
    if (typeof name !== 'string' || name === '' || Buffer.byteLength(name, 'utf8') > 32)
      throw invalidArgumentsError(`metrics[${i}].name must be 1 to 32 UTF-8 bytes`);
    if (typeof unit !== 'string' || !UNIT_KEYS.has(normalizeUnit(unit)))
      throw invalidArgumentsError(`metrics[${i}].unit must be one of ${METRIC_UNITS.join(', ')}`);
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0)
      throw invalidArgumentsError(`metrics[${i}].value must be a number >= 0`);
  });
  if (ctx.component === STREAM_MANAGER) return; // exempt from the policy [IPC-66]
  for (const m of metrics as JsonObject[]) ctx.authorize(m.name as string);
}

/**
 * Registers the answers of the operations above, except where a handler is already registered.
 * Returns the operations it registered.
 */
export function registerUnavailableOperations(registry: OperationRegistry): string[] {
  const added: string[] = [];
  const request = (op: string, handle: (req: JsonObject, ctx: CallContext) => never) => {
    if (registry.get(op)) return;
    registry.handle(op, handle);
    added.push(op);
  };

  request(PUBLISH_TO_IOT_CORE, (req, ctx) => {
    checkMqttRequest(req, ctx, true);
    throw serviceError(`PublishToIoTCore ${NO_CLOUD}`);
  });
  if (!registry.get(SUBSCRIBE_TO_IOT_CORE)) {
    registry.stream(SUBSCRIBE_TO_IOT_CORE, (req, ctx) => {
      checkMqttRequest(req, ctx, false);
      throw serviceError(`SubscribeToIoTCore ${NO_CLOUD}`);
    });
    added.push(SUBSCRIBE_TO_IOT_CORE);
  }
  request(PUT_COMPONENT_METRIC, (req, ctx) => {
    checkMetricRequest(req, ctx);
    throw serviceError('PutComponentMetric is not available: no telemetry publisher is running');
  });
  request(VALIDATE_AUTHORIZATION_TOKEN, (req, ctx) => {
    if (ctx.component !== STREAM_MANAGER) {
      throw unauthorizedError(
        `Principal ${ctx.component} is not authorized to perform ${VALIDATE_AUTHORIZATION_TOKEN}: only ${STREAM_MANAGER} may validate tokens`,
      ); // [IPC-101]
    }
    if (typeof req.token !== 'string' || req.token === '') throw serviceError('token is required');
    throw serviceError('ValidateAuthorizationToken is not available: no external-client tokens are issued');
  });

  for (const model of OPERATIONS.values()) {
    const plugin = model.authService;
    if (!plugin || !PLUGIN_GROUPS.includes(plugin) || registry.get(model.name)) continue;
    const answer = () => {
      throw serviceError(`Operation ${model.name} is not supported: ${plugin} is not available in Tendril`); // [IPC-34, IPC-88]
    };
    if (model.streaming) registry.stream(model.name, answer);
    else registry.handle(model.name, answer);
    added.push(model.name);
  }
  return added;
}
