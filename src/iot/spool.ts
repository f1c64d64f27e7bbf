// The offline spool of outgoing messages (cloud.md CL-73): QoS 1 messages wait here while the
// connection is down, bounded by `maxSizeInBytes` (a full spool refuses new messages and counts the
// drop); QoS 0 messages are not kept offline unless `keepQos0WhenOffline`.

export interface SpooledMessage {
  topic: string;
  payload: Buffer;
  qos: 0 | 1;
  /** Publish attempts so far. */
  attempts: number;
  resolve(): void;
  reject(e: Error): void;
}

export interface SpoolOptions {
  /** Default 2,621,440 (2.5 MB). */
  maxSizeInBytes?: number;
  keepQos0WhenOffline?: boolean;
}

export const DEFAULT_SPOOL_BYTES = 2_621_440;

export class SpoolFullError extends Error {
  constructor(topic: string, size: number, max: number) {
    super(`the MQTT spool is full (${size} of ${max} bytes): refusing a message on ${topic}`);
  }
}

export class MessageSpool {
  private readonly items: SpooledMessage[] = [];
  private bytes = 0;
  /** Messages refused because the spool was full, or QoS 0 dropped offline. */
  dropped = 0;
  readonly maxSizeInBytes: number;
  readonly keepQos0WhenOffline: boolean;

  constructor(opts: SpoolOptions = {}) {
    this.maxSizeInBytes = opts.maxSizeInBytes ?? DEFAULT_SPOOL_BYTES;
    this.keepQos0WhenOffline = opts.keepQos0WhenOffline ?? false;
  }

  get size(): number {
    return this.items.length;
  }

  get sizeInBytes(): number {
    return this.bytes;
  }

  /** Adds a message at the back; throws SpoolFullError when it does not fit. */
  add(m: SpooledMessage): void {
    const n = cost(m);
    if (this.bytes + n > this.maxSizeInBytes) {
      this.dropped++;
      throw new SpoolFullError(m.topic, this.bytes, this.maxSizeInBytes);
    }
    this.items.push(m);
    this.bytes += n;
  }

  /** Puts a message whose publish failed back at the front, so the order is kept. */
  requeue(m: SpooledMessage): void {
    this.items.unshift(m);
    this.bytes += cost(m);
  }

  take(): SpooledMessage | undefined {
    const m = this.items.shift();
    if (m) this.bytes -= cost(m);
    return m;
  }

  /** On disconnect: QoS 0 messages are purged unless kept offline [CL-73]. */
  purgeQos0(): void {
    if (this.keepQos0WhenOffline) return;
    for (let i = this.items.length - 1; i >= 0; i--) {
      const m = this.items[i];
      if (m.qos !== 0) continue;
      this.items.splice(i, 1);
      this.bytes -= cost(m);
      this.dropped++;
      m.reject(new Error(`QoS 0 message on ${m.topic} dropped: the connection is down`));
    }
  }

  /** Rejects everything (shutdown). */
  clear(e: Error): void {
    for (let m = this.take(); m; m = this.take()) m.reject(e);
  }
}

function cost(m: SpooledMessage): number {
  return m.payload.length + Buffer.byteLength(m.topic);
}
