// Frame splitting over a byte stream plus typed access to the RPC headers. Header and CRC work is
// done by @smithy/eventstream-codec; this file only buffers until a whole frame is present [IPC-06].
import { EventStreamCodec, type Message, type MessageHeaders } from '@smithy/eventstream-codec';
import { fromUtf8, toUtf8 } from '@smithy/util-utf8';
import { FRAME_OVERHEAD, PRELUDE_LENGTH } from './protocol.js';

const codec = new EventStreamCodec(toUtf8, fromUtf8);

export type { Message, MessageHeaders };

export function encodeFrame(message: Message): Buffer {
  const bytes = codec.encode(message);
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** A framing failure: the connection cannot be resynchronised after it. */
export class FrameError extends Error {}

/**
 * Accumulates socket chunks and yields decoded messages. Rejects, before buffering the body,
 * a declared total length below the 16-byte overhead or above `maxMessageSize` [IPC-04].
 */
export class FrameDecoder {
  private chunks: Buffer[] = [];
  private buffered = 0;

  constructor(private readonly maxMessageSize: number) {}

  /**
   * Feeds bytes; returns the complete messages and, if malformed input follows them, the error.
   * After an error the decoder must not be fed again: the stream cannot be resynchronised.
   */
  push(chunk: Buffer): { messages: Message[]; error?: FrameError } {
    const messages: Message[] = [];
    try {
      this.decodeInto(chunk, messages);
    } catch (err) {
      if (!(err instanceof FrameError)) throw err;
      return { messages, error: err };
    }
    return { messages };
  }

  private decodeInto(chunk: Buffer, out: Message[]): void {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    while (this.buffered >= PRELUDE_LENGTH) {
      const head = this.peek(PRELUDE_LENGTH);
      const total = head.readUInt32BE(0);
      const headersLength = head.readUInt32BE(4);
      if (total < FRAME_OVERHEAD)
        throw new FrameError(`frame length ${total} is below the minimum of ${FRAME_OVERHEAD}`);
      if (total > this.maxMessageSize) {
        throw new FrameError(
          `frame length ${total} exceeds the maximum message size of ${this.maxMessageSize}`,
        );
      }
      if (headersLength > total - FRAME_OVERHEAD) {
        throw new FrameError(`headers length ${headersLength} exceeds the frame length ${total}`);
      }
      if (this.buffered < total) break;
      const frame = this.take(total);
      try {
        out.push(codec.decode(frame));
      } catch (err) {
        throw new FrameError((err as Error).message);
      }
    }
  }

  private peek(n: number): Buffer {
    if (this.chunks[0].length < n) this.chunks = [Buffer.concat(this.chunks)];
    return this.chunks[0].subarray(0, n);
  }

  private take(n: number): Buffer {
    if (this.chunks[0].length < n) this.chunks = [Buffer.concat(this.chunks)];
    const first = this.chunks[0];
    // Copy so the decoded message never aliases a buffer we keep appending to.
    const frame = Buffer.from(first.subarray(0, n));
    if (first.length === n) this.chunks.shift();
    else this.chunks[0] = first.subarray(n);
    this.buffered -= n;
    return frame;
  }
}

export function int32(value: number) {
  return { type: 'integer' as const, value };
}
export function str(value: string) {
  return { type: 'string' as const, value };
}

/** Header lookup that is case-insensitive on the name, as AES matches RPC headers [IPC-09]. */
export function findHeader(headers: MessageHeaders, name: string): MessageHeaders[string] | undefined {
  if (name in headers) return headers[name];
  const lower = name.toLowerCase();
  for (const key of Object.keys(headers)) if (key.toLowerCase() === lower) return headers[key];
  return undefined;
}

export function intHeader(headers: MessageHeaders, name: string): number | undefined {
  const h = findHeader(headers, name);
  return h && h.type === 'integer' ? h.value : undefined;
}

export function stringHeader(headers: MessageHeaders, name: string): string | undefined {
  const h = findHeader(headers, name);
  return h && h.type === 'string' ? h.value : undefined;
}
