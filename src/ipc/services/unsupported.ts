// Operations the nucleus declares but cannot serve yet (ipc.md IPC-87, IPC-88, DESIGN decision on
// IPC-88). Each answers a precise ServiceError after the same caller checks as the real operation,
// so a component sees the final authorization behaviour today:
// - mqttproxy (PublishToIoTCore, SubscribeToIoTCore) [IPC-54, IPC-55, IPC-90]: "not available: no
//   cloud connection" until the cloud side registers real handlers;
// - PutComponentMetric [IPC-66, IPC-101] when no telemetry agent runs (checks in
//   component-metric-request.ts; the real handler is component-metric.ts), and
//   ValidateAuthorizationToken [IPC-67, IPC-101];
// - shadow, secret and client-device operations (plugins in Greengrass) [IPC-77..85]: "not supported".
// `registerUnavailableOperations` skips every operation that already has a handler: a real
// implementation registered first always wins.
import { serviceError, unauthorizedError } from '../errors.js';
import { CLIENT_DEVICES_SERVICE, OPERATIONS, operationId, SECRET_SERVICE, SHADOW_SERVICE } from '../model.js';
import type { CallContext, JsonObject, OperationRegistry } from '../operations.js';
import { checkMetricRequest, PUT_COMPONENT_METRIC, STREAM_MANAGER } from './component-metric-request.js';

export const PUBLISH_TO_IOT_CORE = operationId('PublishToIoTCore');
export const SUBSCRIBE_TO_IOT_CORE = operationId('SubscribeToIoTCore');
export const VALIDATE_AUTHORIZATION_TOKEN = operationId('ValidateAuthorizationToken');
export { PUT_COMPONENT_METRIC, STREAM_MANAGER };

export const NO_CLOUD = 'is not available: no cloud connection';

/** The plugin that serves each group in Greengrass, named in the "not supported" answer. */
const PLUGIN_GROUPS: readonly string[] = [SHADOW_SERVICE, SECRET_SERVICE, CLIENT_DEVICES_SERVICE];

/** MQTT proxy request checks [IPC-90]; PublishToIoTCore/SubscribeToIoTCore declare no InvalidArguments, so ServiceError. */
export function checkMqttRequest(req: JsonObject, ctx: CallContext, publish: boolean): string {
  const topic = req.topicName;
  if (typeof topic !== 'string' || topic === '') throw serviceError('Topic is required');
  if (req.qos !== '0' && req.qos !== '1') throw serviceError('QoS must be "0" or "1"');
  if (publish && (req.payload === undefined || req.payload === null))
    throw serviceError('Payload is required');
  if (publish && typeof req.payload !== 'string') throw serviceError('Payload must be a base64 string');
  ctx.authorize(topic);
  return topic;
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
