// The operation handler registry: services add handlers here (one file per operation group under
// services/), the connection dispatches to them. Streaming handlers get a ServerStream.
import { OPERATIONS, type OperationModel } from './model.js';

export interface CallContext {
  /** The authenticated component name, the principal of authorization [IPC-50]. */
  readonly component: string;
  /** Fully qualified operation id, e.g. `aws.greengrass#PublishToTopic`. */
  readonly operation: string;
  readonly connectionId: number;
  readonly streamId: number;
  /** Checks the operation's accessControl policy for `resource`; throws UnauthorizedError [IPC-97]. */
  authorize(resource: string): void;
}

/** The server side of a streaming operation (a subscription). */
export interface ServerStream {
  readonly closed: boolean;
  /** Events dropped because the subscriber's queue was full. */
  readonly dropped: number;
  /**
   * Queues one event. Events sent before the initial response is written are held until after it
   * [IPC-25]. Returns false if the stream is closed or the event was dropped (queue full).
   */
  send(event: object): boolean;
  /** Server-side close: TerminateStream after the queued events; runs the close listeners. */
  close(): void;
  /** Called once when the stream ends from either side or the connection closes [IPC-27]. */
  onClose(listener: () => void): void;
}

export type JsonObject = Record<string, unknown>;
export type RequestHandler = (request: JsonObject, ctx: CallContext) => object | Promise<object>;
export type StreamHandler = (
  request: JsonObject,
  ctx: CallContext,
  stream: ServerStream,
) => object | Promise<object>;

export type RegisteredHandler =
  { kind: 'request'; handle: RequestHandler } | { kind: 'stream'; handle: StreamHandler };

export class OperationRegistry {
  private readonly handlers = new Map<string, RegisteredHandler>();

  /** Registers a request/response operation; `operation` is the full `aws.greengrass#Name`. */
  handle(operation: string, handler: RequestHandler): this {
    this.add(operation, false, { kind: 'request', handle: handler });
    return this;
  }

  /** Registers a streaming (subscription) operation. */
  stream(operation: string, handler: StreamHandler): this {
    this.add(operation, true, { kind: 'stream', handle: handler });
    return this;
  }

  get(operation: string): RegisteredHandler | undefined {
    return this.handlers.get(operation);
  }

  private add(operation: string, streaming: boolean, handler: RegisteredHandler): void {
    const model: OperationModel | undefined = OPERATIONS.get(operation);
    if (!model) throw new Error(`unknown IPC operation ${operation}`);
    if (model.streaming !== streaming) {
      throw new Error(`${operation} is ${model.streaming ? 'a streaming' : 'a request/response'} operation`);
    }
    if (this.handlers.has(operation)) throw new Error(`a handler for ${operation} is already registered`);
    this.handlers.set(operation, handler);
  }
}
