// Local publish/subscribe: PublishToTopic and SubscribeToTopic (ipc.md section 6, IPC-52/53,
// IPC-102..108), authorized against aws.greengrass.ipc.pubsub policies [IPC-97, IPC-98].
import { invalidArgumentsError, serviceError } from '../errors.js';
import { SerializedEvent } from '../framing.js';
import { operationId } from '../model.js';
import type { CallContext, JsonObject, OperationRegistry, ServerStream } from '../operations.js';
import { hasWildcardLevel, TopicTrie } from './topic-trie.js';

export const PUBLISH_TO_TOPIC = operationId('PublishToTopic');
export const SUBSCRIBE_TO_TOPIC = operationId('SubscribeToTopic');

export type ReceiveMode = 'RECEIVE_ALL_MESSAGES' | 'RECEIVE_MESSAGES_FROM_OTHERS';
const RECEIVE_MODES: readonly string[] = ['RECEIVE_ALL_MESSAGES', 'RECEIVE_MESSAGES_FROM_OTHERS'];

/** A message as published: a JSON object, or bytes carried base64-encoded on the wire [IPC-106]. */
export type PubSubMessage = { kind: 'json'; message: JsonObject } | { kind: 'binary'; base64: string };

interface Subscription {
  filter: string;
  component: string;
  receiveMode: ReceiveMode;
  stream: ServerStream;
}

const isObject = (v: unknown): v is JsonObject => !!v && typeof v === 'object' && !Array.isArray(v);
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** The topic router; `register` installs its two operations. */
export class PubSubBroker {
  private readonly trie = new TopicTrie<Subscription>();

  get subscriptionCount(): number {
    return this.trie.size;
  }

  /** Trie nodes in use; returns to 0 when every subscription is gone [IPC-108]. */
  get trieNodeCount(): number {
    return this.trie.nodeCount();
  }

  register(registry: OperationRegistry): this {
    registry.handle(PUBLISH_TO_TOPIC, (req, ctx) => this.handlePublish(req, ctx));
    registry.stream(SUBSCRIBE_TO_TOPIC, (req, ctx, stream) => this.handleSubscribe(req, ctx, stream));
    return this;
  }

  /**
   * Delivers to every matching subscription, one copy per subscription [IPC-105], skipping
   * FROM_OTHERS subscriptions of the publishing component [IPC-104]. Never waits on subscribers.
   * Returns the number of subscriptions the message was queued for.
   */
  publish(topic: string, message: PubSubMessage, publisher: string): number {
    let delivered = 0;
    // One event, serialized at most once, for every subscription [IPC-106].
    let event: SerializedEvent | undefined;
    for (const sub of this.trie.match(topic)) {
      if (sub.receiveMode === 'RECEIVE_MESSAGES_FROM_OTHERS' && sub.component === publisher) continue;
      event ??= new SerializedEvent(
        message.kind === 'json'
          ? { jsonMessage: { message: message.message, context: { topic } } }
          : { binaryMessage: { message: message.base64, context: { topic } } },
      );
      if (sub.stream.send(event)) delivered++;
    }
    return delivered;
  }

  private handlePublish(req: JsonObject, ctx: CallContext): object {
    // Only ServiceError and UnauthorizedError are declared for PublishToTopic [IPC-31, IPC-52].
    const topic = req.topic;
    if (typeof topic !== 'string' || topic === '')
      throw serviceError('topic is required and must be a non-empty string');
    if (/[+#*]/.test(topic)) throw serviceError('Publish topic must not contain a wildcard.'); // [IPC-102]
    const message = parsePublishMessage(req.publishMessage);
    ctx.authorize(topic);
    this.publish(topic, message, ctx.component);
    return {};
  }

  private handleSubscribe(req: JsonObject, ctx: CallContext, stream: ServerStream): object {
    const filter = req.topic;
    if (typeof filter !== 'string' || filter === '')
      throw invalidArgumentsError('topic is required and must be a non-empty string');
    const mode = req.receiveMode;
    if (mode !== undefined && (typeof mode !== 'string' || !RECEIVE_MODES.includes(mode))) {
      throw invalidArgumentsError(`receiveMode must be one of ${RECEIVE_MODES.join(', ')}`);
    }
    ctx.authorize(filter);
    const receiveMode =
      (mode as ReceiveMode | undefined) ??
      (hasWildcardLevel(filter) ? 'RECEIVE_MESSAGES_FROM_OTHERS' : 'RECEIVE_ALL_MESSAGES');
    const sub: Subscription = { filter, component: ctx.component, receiveMode, stream };
    this.trie.add(filter, sub);
    unsubscribeOnClose(this.trie, sub); // [IPC-27, IPC-108]
    return {};
  }
}

/** The close listener captures only the trie and the subscription, not the request scope. */
function unsubscribeOnClose(trie: TopicTrie<Subscription>, sub: Subscription): void {
  sub.stream.onClose(() => trie.remove(sub.filter, sub));
}

function parsePublishMessage(value: unknown): PubSubMessage {
  if (!isObject(value)) throw serviceError('publishMessage is required and must be an object');
  const members = Object.keys(value).filter((k) => value[k] !== undefined && value[k] !== null);
  if (members.length !== 1 || (members[0] !== 'jsonMessage' && members[0] !== 'binaryMessage')) {
    throw serviceError('publishMessage must set exactly one of jsonMessage or binaryMessage');
  }
  const inner = value[members[0]];
  if (!isObject(inner)) throw serviceError(`publishMessage.${members[0]} must be an object`);
  if (members[0] === 'jsonMessage') {
    if (!isObject(inner.message))
      throw serviceError('publishMessage.jsonMessage.message must be a JSON object');
    return { kind: 'json', message: inner.message };
  }
  if (typeof inner.message !== 'string' || !BASE64.test(inner.message)) {
    throw serviceError('publishMessage.binaryMessage.message must be a base64 string');
  }
  return { kind: 'binary', base64: inner.message };
}
