// One open continuation on a connection: holds the subscriber's bounded event queue, so a slow
// reader drops its own events (counted) instead of stalling publishers or other subscribers.
// A server may hold thousands of these, so each stays small: the operation is a shared model, the
// queue exists only while frames wait for a drain, and one close listener needs no array.
import type { OperationModel } from './model.js';
import type { ServerStream } from './operations.js';

export interface StreamSink {
  /** Events held per stream while its socket is backed up; beyond this they are dropped. */
  readonly queueLimit: number;
  /** True while the socket can take more bytes without buffering beyond its limit. */
  writable(): boolean;
  write(frame: Buffer): void;
  encodeEvent(stream: OpenStream, event: object): Buffer;
  encodeTerminate(streamId: number): Buffer;
  /** Called when an event is dropped, for the server-wide counter. */
  onDrop(): void;
  /** Tells the connection this stream has frames waiting for a drain. */
  wantDrain(stream: OpenStream): void;
  /** Removes the stream from the connection's table. */
  forget(stream: OpenStream): void;
}

type Listener = () => void;

const ACTIVE = 1; // the initial response has been written; events may go out [IPC-25]
const CLOSED = 2;
const TERMINATE_PENDING = 4; // closed by the server; TerminateStream goes out after the queue

export class OpenStream implements ServerStream {
  dropped = 0;
  private state = 0;
  /** Frames waiting for the initial response or a drain; `head` of them are already written. */
  private queue: Buffer[] | undefined;
  private head = 0;
  private listeners: Listener | Listener[] | undefined;

  constructor(
    readonly id: number,
    readonly model: OperationModel,
    private readonly sink: StreamSink,
  ) {}

  get operation(): string {
    return this.model.name;
  }
  get streaming(): boolean {
    return this.model.streaming;
  }
  get closed(): boolean {
    return (this.state & CLOSED) !== 0;
  }

  send(event: object): boolean {
    if ((this.state & (CLOSED | TERMINATE_PENDING)) !== 0) return false;
    const queue = this.queue;
    if (queue === undefined && (this.state & ACTIVE) !== 0 && this.sink.writable()) {
      this.sink.write(this.sink.encodeEvent(this, event));
      return true;
    }
    if ((queue === undefined ? 0 : queue.length - this.head) >= this.sink.queueLimit) {
      this.dropped++;
      this.sink.onDrop();
      return false;
    }
    (this.queue ??= []).push(this.sink.encodeEvent(this, event));
    if ((this.state & ACTIVE) !== 0) this.sink.wantDrain(this);
    return true;
  }

  /** Marks the initial response as written and releases events held until then. */
  activate(): void {
    this.state |= ACTIVE;
    this.flush();
  }

  /** Writes queued frames while the socket accepts them; returns true when the queue is empty. */
  flush(): boolean {
    const queue = this.queue;
    if (queue !== undefined) {
      while (this.head < queue.length && this.sink.writable()) {
        const frame = queue[this.head];
        queue[this.head++] = EMPTY;
        this.sink.write(frame);
      }
      if (this.head < queue.length) {
        if (this.head > 64 && this.head * 2 > queue.length) {
          queue.splice(0, this.head);
          this.head = 0;
        }
        this.sink.wantDrain(this);
        return false;
      }
      this.queue = undefined;
      this.head = 0;
    }
    if ((this.state & TERMINATE_PENDING) !== 0) {
      this.state &= ~TERMINATE_PENDING;
      this.sink.write(this.sink.encodeTerminate(this.id));
    }
    return true;
  }

  close(): void {
    if ((this.state & (CLOSED | TERMINATE_PENDING)) !== 0) return;
    if ((this.state & ACTIVE) !== 0 && this.queue !== undefined) {
      this.state |= TERMINATE_PENDING;
      this.sink.wantDrain(this);
    } else {
      this.sink.write(this.sink.encodeTerminate(this.id));
    }
    this.finish();
  }

  onClose(listener: Listener): void {
    if (this.closed) listener();
    else if (this.listeners === undefined) this.listeners = listener;
    else if (typeof this.listeners === 'function') this.listeners = [this.listeners, listener];
    else this.listeners.push(listener);
  }

  /** Ends the stream without writing anything (client terminate, error sent, connection closed). */
  finish(): void {
    if (this.closed) return;
    this.state |= CLOSED;
    if ((this.state & TERMINATE_PENDING) === 0) {
      this.queue = undefined;
      this.head = 0;
    }
    this.sink.forget(this);
    const listeners = this.listeners;
    this.listeners = undefined;
    if (typeof listeners === 'function') runListener(listeners);
    else if (listeners) for (const l of listeners) runListener(l);
  }
}

const EMPTY = Buffer.alloc(0);

function runListener(listener: Listener): void {
  try {
    listener();
  } catch {
    /* a cleanup failure must not affect other streams */
  }
}
