// One client connection: the connect handshake, stream-id rules, dispatch to handlers, errors.
// Any framing or protocol violation closes this connection only (ipc.md section 2).
import type { Socket } from 'node:net';
import { encodeFrame, FrameDecoder, int32, intHeader, str, stringHeader, type Message } from './codec.js';
import { IpcError, invalidArgumentsError, serviceError, unauthorizedError } from './errors.js';
import { EVENT_SHAPES, OPERATIONS, responseShape, type OperationModel } from './model.js';
import type { CallContext, JsonObject, OperationRegistry } from './operations.js';
import { Header, JSON_CONTENT_TYPE, MessageFlags, MessageType, PROTOCOL_VERSION } from './protocol.js';
import { encodeEventFrame, eventBody } from './framing.js';
import { OpenStream, type StreamSink } from './stream.js';
import type { IpcLimits, ServerHooks } from './types.js';

type State = 'awaiting-connect' | 'connected' | 'closed';
const empty = new Uint8Array(0);
const REFUSAL_GRACE_MS = 1000;
const jsonBody = (value: unknown) => Buffer.from(JSON.stringify(value));
/**
 * Bytes a socket may buffer before its streams hold events in their own queues (and, once those
 * are full, drop them). Above the socket's 16 KiB high-water mark, so a 'drain' always follows.
 */
const SOCKET_BUFFER_LIMIT = 256 * 1024;
/** Writes of one tick go out together: one writev per connection instead of one write per frame. */
const uncork = (c: IpcConnection) => c.flushOutput();

export class IpcConnection implements StreamSink {
  component: string | undefined;
  private state: State = 'awaiting-connect';
  private readonly decoder: FrameDecoder;
  private readonly streams = new Map<number, OpenStream>();
  private readonly draining = new Set<OpenStream>();
  private latestStreamId = 0;
  private subscriptions = 0;
  private tornDown = false;
  private corked = false;

  constructor(
    readonly id: number,
    private readonly socket: Socket,
    private readonly registry: OperationRegistry,
    private readonly limits: IpcLimits,
    private readonly hooks: ServerHooks,
  ) {
    this.decoder = new FrameDecoder(limits.maxMessageSize);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('drain', () => this.onDrain());
    socket.on('error', () => this.teardown());
    socket.on('close', () => this.teardown());
  }

  get openStreams(): number {
    return this.streams.size;
  }

  /** Closes the connection and every stream on it. */
  close(): void {
    this.teardown();
    this.socket.destroy();
  }

  // ---- StreamSink ----
  get queueLimit(): number {
    return this.limits.subscriberQueueLength;
  }
  writable(): boolean {
    const s = this.socket;
    return !s.destroyed && !s.writableEnded && s.writableLength < SOCKET_BUFFER_LIMIT;
  }
  write(frame: Buffer): void {
    const s = this.socket;
    // After the peer's EOF the socket is ended: a write then would destroy it and cut off the
    // frames still buffered, so late events and responses are dropped instead.
    if (s.destroyed || s.writableEnded || this.state === 'closed') return;
    if (!this.corked) {
      this.corked = true;
      s.cork();
      process.nextTick(uncork, this);
    }
    s.write(frame);
  }
  /** @internal Sends what this tick wrote (see `uncork`). */
  flushOutput(): void {
    this.corked = false;
    this.socket.uncork();
  }
  encodeEvent(stream: OpenStream, event: object): Buffer {
    return encodeEventFrame(stream.id, EVENT_SHAPES.get(stream.operation) ?? '', eventBody(event));
  }
  encodeTerminate(streamId: number): Buffer {
    return encodeFrame({
      headers: this.rpcHeaders(MessageType.ApplicationMessage, MessageFlags.TerminateStream, streamId),
      body: empty,
    });
  }
  onDrop(): void {
    this.hooks.onDrop();
  }
  wantDrain(stream: OpenStream): void {
    this.draining.add(stream);
  }
  forget(stream: OpenStream): void {
    if (this.streams.get(stream.id) === stream) {
      this.streams.delete(stream.id);
      if (stream.streaming) this.subscriptions--;
    }
  }

  // ---- inbound ----
  private onData(chunk: Buffer): void {
    if (this.state === 'closed') return;
    const { messages, error } = this.decoder.push(chunk);
    for (const m of messages) {
      if ((this.state as State) === 'closed') return;
      this.onMessage(m);
    }
    if (error) this.fail(MessageType.ProtocolError, `Malformed frame: ${error.message}`);
  }

  private onMessage(m: Message): void {
    const type = intHeader(m.headers, Header.messageType);
    const flags = intHeader(m.headers, Header.messageFlags);
    const streamId = intHeader(m.headers, Header.streamId);
    if (type === undefined || flags === undefined || streamId === undefined) {
      // [IPC-09] all three RPC headers are required and must be int32.
      return this.fail(MessageType.ProtocolError, 'A message was received with missing required fields');
    }
    if (this.state === 'awaiting-connect') {
      if (type !== MessageType.Connect)
        return this.fail(MessageType.ProtocolError, 'Connect expected before any other message');
      return this.onConnect(m);
    }
    switch (type) {
      case MessageType.ApplicationMessage:
      case MessageType.ApplicationError:
        return this.onApplicationMessage(m, flags, streamId);
      case MessageType.Ping:
        return this.onPing(m);
      case MessageType.PingResponse:
        return;
      case MessageType.Connect:
        return this.fail(MessageType.ProtocolError, 'Connect received on an already connected connection');
      case MessageType.ConnectAck:
      case MessageType.ProtocolError:
      case MessageType.InternalError:
        return this.fail(MessageType.InternalError, `Unexpected protocol message type ${type}`); // [IPC-37]
      default:
        return this.fail(MessageType.ProtocolError, `Unknown message type ${type}`);
    }
  }

  private onConnect(m: Message): void {
    // [IPC-12]
    let component: string | undefined;
    if (stringHeader(m.headers, Header.version) === PROTOCOL_VERSION) {
      const token = parseAuthToken(m.body);
      if (token) component = this.hooks.authenticate(token);
    }
    if (!component) {
      this.hooks.log('warn', `connection ${this.id}: connect refused`);
      // Refusal [IPC-12]: ConnectAck without the accepted flag, then close. The JS client treats a
      // disconnect that overtakes the ack as a NetworkError, so give it a grace period to read the
      // ack and close first (it does, at once) before the server closes.
      this.state = 'closed';
      this.socket.write(encodeFrame({ headers: this.rpcHeaders(MessageType.ConnectAck, 0, 0), body: empty }));
      setTimeout(() => this.socket.destroy(), REFUSAL_GRACE_MS).unref();
      return this.teardown();
    }
    this.component = component;
    this.state = 'connected';
    this.write(
      encodeFrame({
        headers: this.rpcHeaders(MessageType.ConnectAck, MessageFlags.ConnectionAccepted, 0),
        body: empty,
      }),
    );
  }

  private onPing(m: Message): void {
    // [IPC-37] echo the payload and every non-`:` header.
    const headers: Message['headers'] = {};
    for (const [k, v] of Object.entries(m.headers)) if (!k.startsWith(':')) headers[k] = v;
    this.write(
      encodeFrame({
        headers: { ...headers, ...this.rpcHeaders(MessageType.PingResponse, 0, 0) },
        body: m.body,
      }),
    );
  }

  private onApplicationMessage(m: Message, flags: number, streamId: number): void {
    const terminate = (flags & MessageFlags.TerminateStream) !== 0;
    if (streamId <= 0)
      return this.fail(MessageType.ProtocolError, `Invalid stream id ${streamId} for an application message`);
    if (streamId <= this.latestStreamId) {
      // [IPC-18] a late message or stale terminate on a closed stream is ignored; a terminate on an
      // open stream ends it [IPC-27]; other follow-ups have no modeled shape [IPC-28].
      const open = this.streams.get(streamId);
      if (open && terminate) open.finish();
      return;
    }
    if (streamId !== this.latestStreamId + 1) {
      return this.fail(MessageType.ProtocolError, `Stream id ${streamId} was incremented by more than 1`); // [IPC-17]
    }
    this.latestStreamId = streamId;
    if (terminate) return; // [IPC-23]
    const operation = stringHeader(m.headers, Header.operation);
    if (operation === undefined)
      return this.fail(
        MessageType.ProtocolError,
        'The first message of a stream must carry an operation header',
      );
    this.dispatch(streamId, operation, m.body);
  }

  private dispatch(streamId: number, operation: string, body: Uint8Array): void {
    const model = OPERATIONS.get(operation);
    if (!model) {
      // [IPC-33]
      const payload = {
        error: 'Unsupported Operation',
        message: `${operation} is an unsupported operation.`,
      };
      return this.write(
        this.appFrame(
          streamId,
          MessageFlags.TerminateStream,
          MessageType.ApplicationError,
          undefined,
          payload,
        ),
      );
    }
    const stream = new OpenStream(streamId, model, this);
    this.streams.set(streamId, stream);
    if (model.streaming) this.subscriptions++;
    const handler = this.registry.get(operation);
    if (!handler)
      return this.sendError(
        stream,
        model,
        serviceError(`Operation ${operation} is not supported by Greengrass`),
      ); // [IPC-34]
    const request = parseRequest(body);
    if (typeof request === 'string') return this.sendError(stream, model, invalidArgumentsError(request));
    if (model.streaming && this.subscriptions > this.limits.maxSubscriptionsPerConnection) {
      return this.sendError(
        stream,
        model,
        serviceError(
          `Subscription limit of ${this.limits.maxSubscriptionsPerConnection} per connection reached`,
        ),
      );
    }
    const ctx = this.context(streamId, model);
    let result: Promise<object>;
    try {
      result = Promise.resolve(
        handler.kind === 'stream' ? handler.handle(request, ctx, stream) : handler.handle(request, ctx),
      );
    } catch (err) {
      result = Promise.reject(err);
    }
    result.then(
      (response) => this.sendResponse(stream, model, response),
      (err: unknown) => this.sendError(stream, model, err),
    );
  }

  private context(streamId: number, model: OperationModel): CallContext {
    const component = this.component!;
    return {
      component,
      operation: model.name,
      connectionId: this.id,
      streamId,
      authorize: (resource: string) => {
        if (!model.authService) return;
        const check = { principal: component, service: model.authService, operation: model.name, resource };
        if (!this.hooks.authorize(check)) {
          throw unauthorizedError(
            `Principal ${component} is not authorized to perform ${model.authService}:${model.name} on resource ${resource}`,
          ); // [IPC-97]
        }
      },
    };
  }

  private sendResponse(stream: OpenStream, model: OperationModel, response: object): void {
    if (stream.closed || this.state === 'closed') return;
    const flags = model.streaming ? 0 : MessageFlags.TerminateStream; // [IPC-21, IPC-24]
    this.write(
      this.appFrame(
        stream.id,
        flags,
        MessageType.ApplicationMessage,
        responseShape(model.name),
        response ?? {},
      ),
    );
    if (model.streaming) stream.activate();
    else stream.finish();
  }

  private sendError(stream: OpenStream, model: OperationModel, err: unknown): void {
    if (stream.closed || this.state === 'closed') return;
    let error: IpcError;
    if (err instanceof IpcError)
      error = model.errors.includes(err.shape) ? err : serviceError(err.message); // [IPC-31]
    else error = serviceError(err instanceof Error ? err.message : String(err)); // [IPC-35]
    this.write(
      this.appFrame(
        stream.id,
        MessageFlags.TerminateStream,
        MessageType.ApplicationError,
        error.shapeId,
        error.toPayload(),
      ),
    );
    stream.finish();
  }

  // ---- outbound helpers ----
  private rpcHeaders(type: number, flags: number, streamId: number): Message['headers'] {
    return {
      [Header.messageType]: int32(type),
      [Header.messageFlags]: int32(flags),
      [Header.streamId]: int32(streamId),
    };
  }

  private appFrame(
    streamId: number,
    flags: number,
    type: number,
    shape: string | undefined,
    payload: unknown,
  ): Buffer {
    const headers = {
      ...this.rpcHeaders(type, flags, streamId),
      [Header.contentType]: str(JSON_CONTENT_TYPE),
    };
    if (shape) Object.assign(headers, { [Header.serviceModelType]: str(shape) });
    return encodeFrame({ headers, body: jsonBody(payload) });
  }

  /** Connection-level error [IPC-36]: error frame on stream 0, then close this connection only. */
  private fail(type: number, message: string): void {
    this.hooks.log('warn', `connection ${this.id}: ${message}`);
    if (this.state === 'closed') return;
    this.state = 'closed';
    const headers = { ...this.rpcHeaders(type, 0, 0), [Header.contentType]: str(JSON_CONTENT_TYPE) };
    if (!this.socket.writableEnded) this.socket.end(encodeFrame({ headers, body: jsonBody({ message }) }));
    this.socket.once('finish', () => this.socket.destroy());
    this.teardown();
  }

  private onDrain(): void {
    for (const s of [...this.draining]) {
      if (!this.writable()) return;
      this.draining.delete(s);
      s.flush();
    }
  }

  private teardown(): void {
    this.state = 'closed';
    if (this.tornDown) return;
    this.tornDown = true;
    this.draining.clear();
    for (const s of [...this.streams.values()]) s.finish();
    this.hooks.onClose(this);
  }
}

function parseAuthToken(body: Uint8Array): string | undefined {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(body).toString('utf8'));
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) {
      const token = (parsed as { authToken?: unknown }).authToken;
      if (typeof token === 'string' && token.length > 0) return token;
    }
  } catch {
    /* invalid JSON: refused below */
  }
  return undefined;
}

/** The request object, or the reason it is not one. An empty payload is `{}`. */
function parseRequest(body: Uint8Array): JsonObject | string {
  if (body.byteLength === 0) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(body).toString('utf8'));
  } catch (err) {
    return `Request payload is not valid JSON: ${(err as Error).message}`;
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed))
    return 'Request payload must be a JSON object';
  return parsed as JsonObject;
}
