// One open continuation on a connection: holds the subscriber's bounded event queue, so a slow
// reader drops its own events (counted) instead of stalling publishers or other subscribers.
import type { ServerStream } from './operations.js';

export interface StreamSink {
  /** True while the socket can take more bytes without buffering beyond its high-water mark. */
  writable(): boolean;
  write(frame: Buffer): void;
  encodeEvent(streamId: number, event: object): Buffer;
  encodeTerminate(streamId: number): Buffer;
  /** Called when an event is dropped, for the server-wide counter. */
  onDrop(): void;
  /** Tells the connection this stream has frames waiting for a drain. */
  wantDrain(stream: OpenStream): void;
  /** Removes the stream from the connection's table. */
  forget(stream: OpenStream): void;
}

export class OpenStream implements ServerStream {
  closed = false;
  dropped = 0;
  /** The initial response has been written; events may go out [IPC-25]. */
  private active = false;
  private readonly queue: Buffer[] = [];
  private terminatePending = false;
  private readonly listeners: (() => void)[] = [];

  constructor(
    readonly id: number,
    readonly operation: string,
    readonly streaming: boolean,
    private readonly sink: StreamSink,
    private readonly queueLimit: number,
  ) {}

  send(event: object): boolean {
    if (this.closed || this.terminatePending) return false;
    if (this.active && this.queue.length === 0 && this.sink.writable()) {
      this.sink.write(this.sink.encodeEvent(this.id, event));
      return true;
    }
    if (this.queue.length >= this.queueLimit) {
      this.dropped++;
      this.sink.onDrop();
      return false;
    }
    this.queue.push(this.sink.encodeEvent(this.id, event));
    if (this.active) this.sink.wantDrain(this);
    return true;
  }

  /** Marks the initial response as written and releases events held until then. */
  activate(): void {
    this.active = true;
    this.flush();
  }

  /** Writes queued frames while the socket accepts them; returns true when the queue is empty. */
  flush(): boolean {
    while (this.queue.length > 0 && this.sink.writable()) this.sink.write(this.queue.shift()!);
    if (this.queue.length > 0) {
      this.sink.wantDrain(this);
      return false;
    }
    if (this.terminatePending) {
      this.terminatePending = false;
      this.sink.write(this.sink.encodeTerminate(this.id));
    }
    return true;
  }

  close(): void {
    if (this.closed || this.terminatePending) return;
    if (this.active && this.queue.length > 0) {
      this.terminatePending = true;
      this.sink.wantDrain(this);
    } else {
      this.sink.write(this.sink.encodeTerminate(this.id));
    }
    this.finish();
  }

  onClose(listener: () => void): void {
    if (this.closed) listener();
    else this.listeners.push(listener);
  }

  /** Ends the stream without writing anything (client terminate, error sent, connection closed). */
  finish(): void {
    if (this.closed) return;
    this.closed = true;
    if (!this.terminatePending) this.queue.length = 0;
    this.sink.forget(this);
    for (const l of this.listeners.splice(0)) {
      try {
        l();
      } catch {
        /* a cleanup failure must not affect other streams */
      }
    }
  }
}
