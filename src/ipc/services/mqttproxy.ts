// The MQTT proxy [IPC-54, IPC-55, IPC-90]: PublishToIoTCore and SubscribeToIoTCore through the
// nucleus's own cloud connection. The service is registered with the IPC server before any cloud
// exists; the nucleus attaches the connection once it is prepared. Until then (or on a device with no
// cloud configured) both operations answer as in unsupported.ts, after the same request checks and
// the aws.greengrass.ipc.mqttproxy policy check (MQTT-style wildcards, authorization.ts).
import { serviceError } from '../errors.js';
import type { CallContext, JsonObject, OperationRegistry, ServerStream } from '../operations.js';
import { checkMqttRequest, NO_CLOUD, PUBLISH_TO_IOT_CORE, SUBSCRIBE_TO_IOT_CORE } from './unsupported.js';

/** IoT Core's default message size cap [IPC-90]. */
export const MAX_IOT_CORE_MESSAGE_BYTES = 128 * 1024;

/** The part of the cloud connection (src/iot IotConnection) the proxy uses. */
export interface IotCoreLink {
  readonly connected: boolean;
  /** Resolves on PUBACK (QoS 1) or once sent (QoS 0); while offline QoS 1 waits in the spool [CL-73]. */
  publish(topic: string, payload: Buffer, opts: { qos: 0 | 1 }): Promise<void>;
  /** Adds a handler for `filter`, subscribing at the broker when it is the first one. */
  subscribe(filter: string, handler: (topic: string, payload: Buffer) => void): Promise<void>;
  /** Removes the handler; unsubscribes at the broker when it was the last one for `filter`. */
  unsubscribe(filter: string, handler: (topic: string, payload: Buffer) => void): Promise<void>;
}

/** [CL-74] at most 256 characters and 7 slashes (a `$aws/rules/<rule>/` prefix not counted). */
function topicProblem(topic: string): string | undefined {
  const counted = topic.replace(/^\$aws\/rules\/[^/]+\//, '');
  if (counted.length > 256) return `Topic ${topic} is longer than 256 characters`;
  if ((counted.match(/\//g) ?? []).length > 7) return `Topic ${topic} has more than 7 slashes`;
  return undefined;
}

export class MqttProxyService {
  private link: IotCoreLink | undefined;
  /** Streams served per topic filter, for their clean-up on close. */
  private readonly streams = new Map<string, number>();

  /** Serves the operations through `link` from now on; undefined = back to "no cloud connection". */
  attach(link: IotCoreLink | undefined): void {
    this.link = link;
  }

  /** Subscriptions currently held for IPC streams, per filter. */
  subscriptions(): Record<string, number> {
    return Object.fromEntries(this.streams);
  }

  register(registry: OperationRegistry): this {
    registry.handle(PUBLISH_TO_IOT_CORE, (req, ctx) => this.publish(req, ctx));
    registry.stream(SUBSCRIBE_TO_IOT_CORE, (req, ctx, stream) => this.subscribe(req, ctx, stream));
    return this;
  }

  private async publish(req: JsonObject, ctx: CallContext): Promise<object> {
    const topic = checkMqttRequest(req, ctx, true);
    const link = this.link;
    if (!link) throw serviceError(`PublishToIoTCore ${NO_CLOUD}`);
    const problem = topicProblem(topic);
    if (problem) throw serviceError(problem);
    const payload = Buffer.from(req.payload as string, 'base64');
    if (payload.length > MAX_IOT_CORE_MESSAGE_BYTES)
      throw serviceError(
        `Payload of ${payload.length} bytes exceeds the maximum message size of ${MAX_IOT_CORE_MESSAGE_BYTES} bytes`,
      );
    const qos = req.qos === '1' ? 1 : 0;
    const sent = link.publish(topic, payload, { qos });
    try {
      if (link.connected) {
        await sent;
      } else {
        // offline: answer once the message is in the spool; a refusal (full spool, QoS 0 not kept,
        // stopped connection) rejects at once [CL-73]
        sent.catch(() => undefined);
        await Promise.race([sent, new Promise((resolve) => setImmediate(resolve))]);
      }
    } catch (e) {
      throw serviceError(`PublishToIoTCore to ${topic} failed: ${(e as Error).message}`);
    }
    return {};
  }

  private async subscribe(req: JsonObject, ctx: CallContext, stream: ServerStream): Promise<object> {
    const filter = checkMqttRequest(req, ctx, false);
    const link = this.link;
    if (!link) throw serviceError(`SubscribeToIoTCore ${NO_CLOUD}`);
    const problem = topicProblem(filter);
    if (problem) throw serviceError(problem);
    const handler = (topicName: string, payload: Buffer): void => {
      stream.send({ message: { topicName, payload: payload.toString('base64') } });
    };
    let released = false;
    const release = (): void => {
      if (released) return;
      released = true;
      const left = (this.streams.get(filter) ?? 1) - 1;
      if (left > 0) this.streams.set(filter, left);
      else this.streams.delete(filter);
      void link.unsubscribe(filter, handler).catch(() => undefined);
    };
    this.streams.set(filter, (this.streams.get(filter) ?? 0) + 1);
    stream.onClose(release);
    try {
      await link.subscribe(filter, handler);
    } catch (e) {
      release();
      throw serviceError(`SubscribeToIoTCore ${filter} failed: ${(e as Error).message}`);
    }
    // closed while the SUBACK was awaited: the subscription just made must not leak [IPC-127]
    if (stream.closed) void link.unsubscribe(filter, handler).catch(() => undefined);
    return {};
  }
}
