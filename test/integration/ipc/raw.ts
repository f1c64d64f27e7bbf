// A raw Unix-socket peer for malformed-traffic tests: frames are built with @smithy/eventstream-codec
// directly (independent of the server's own codec module).
import { connect, type Socket } from 'node:net';
import { EventStreamCodec, type Message, type MessageHeaders } from '@smithy/eventstream-codec';
import { fromUtf8, toUtf8 } from '@smithy/util-utf8';

const codec = new EventStreamCodec(toUtf8, fromUtf8);

export const int32 = (value: number) => ({ type: 'integer' as const, value });
export const str = (value: string) => ({ type: 'string' as const, value });

export function frame(
  type: number,
  flags: number,
  streamId: number,
  extra: MessageHeaders = {},
  body = '',
): Buffer {
  const headers: MessageHeaders = {
    ':message-type': int32(type),
    ':message-flags': int32(flags),
    ':stream-id': int32(streamId),
    ...extra,
  };
  return Buffer.from(codec.encode({ headers, body: Buffer.from(body) }));
}

export const connectFrame = (token: string) =>
  frame(4, 0, 0, { ':version': str('0.1.0') }, JSON.stringify({ authToken: token }));

export interface Received {
  type: number;
  flags: number;
  streamId: number;
  headers: MessageHeaders;
  body: string;
  json(): Record<string, unknown>;
}

/** A raw connection collecting every decoded message and noticing when the server closes it. */
export class RawPeer {
  readonly messages: Received[] = [];
  closed = false;
  private buf = Buffer.alloc(0);
  private waiters: (() => void)[] = [];
  private constructor(readonly socket: Socket) {
    socket.on('data', (d: Buffer) => {
      this.buf = Buffer.concat([this.buf, d]);
      while (this.buf.length >= 4 && this.buf.length >= this.buf.readUInt32BE(0)) {
        const len = this.buf.readUInt32BE(0);
        const m: Message = codec.decode(this.buf.subarray(0, len));
        // Drop a fully read buffer rather than keep a view of it (the bench counts this heap).
        this.buf = len === this.buf.length ? Buffer.alloc(0) : this.buf.subarray(len);
        const h = m.headers;
        const num = (k: string) => (h[k]?.type === 'integer' ? (h[k].value as number) : NaN);
        const body = Buffer.from(m.body).toString('utf8');
        this.messages.push({
          type: num(':message-type'),
          flags: num(':message-flags'),
          streamId: num(':stream-id'),
          headers: h,
          body,
          json: () => JSON.parse(body),
        });
      }
      this.wake();
    });
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
    socket.on('error', () => {});
  }

  static open(path: string): Promise<RawPeer> {
    return new Promise((resolve, reject) => {
      const s = connect(path, () => resolve(new RawPeer(s)));
      s.once('error', reject);
    });
  }

  send(bytes: Buffer): void {
    this.socket.write(bytes);
  }

  /** Waits until `n` messages have arrived (or the socket closed). */
  async waitFor(n: number): Promise<Received[]> {
    while (this.messages.length < n && !this.closed) await new Promise<void>((r) => this.waiters.push(r));
    return this.messages;
  }

  async waitClosed(): Promise<void> {
    while (!this.closed) await new Promise<void>((r) => this.waiters.push(r));
  }

  /** Connects with `token` and waits for the accepted ConnectAck. */
  async handshake(token: string): Promise<void> {
    this.send(connectFrame(token));
    const [ack] = await this.waitFor(1);
    if (!ack || ack.type !== 5 || (ack.flags & 1) !== 1) throw new Error('handshake refused');
  }

  destroy(): void {
    this.socket.destroy();
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }
}
