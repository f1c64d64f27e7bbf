// The nucleus's MQTT connection to AWS IoT Core (or the local cloud): mutual TLS with the device
// certificate, client id = thing name [CL-66, CL-67], keep-alive and timeouts [CL-69], the first
// connection retried with capped exponential backoff and full jitter (aws-crt reconnects by itself
// afterwards [CL-71]), subscriptions made again after a reconnect without a session [CL-72], and
// QoS 1 messages spooled while offline [CL-73].
import { MessageSpool, type SpooledMessage, type SpoolOptions } from './spool.js';
import { createTransport, type MqttTransport, type TransportOptions } from './transport.js';

export interface IotConnectionOptions extends Omit<TransportOptions, 'clientId'> {
  thingName: string;
  spool?: SpoolOptions;
  /** At most this many publishes awaiting PUBACK (default 5 [CL-73]). */
  maxInFlightPublishes?: number;
  /** -1 = forever (default 100 [CL-73]). */
  maxPublishRetry?: number;
  /** Retry interval of a failed subscribe (default 2 min [CL-72]; jitter up to 10 s is added). */
  subscribeRetryMs?: number;
  log?: (msg: string) => void;
}

export type MessageHandler = (topic: string, payload: Buffer) => void;

export interface PublishOptions {
  qos?: 0 | 1;
  /** Keep the message while offline (default: true for QoS 1) [CL-73]. */
  spoolOffline?: boolean;
}

/** Capped exponential backoff with full jitter: a random delay in [0, min(cap, base * 2^attempt)]. */
export function backoffDelayMs(attempt: number, baseMs: number, capMs: number, random = Math.random): number {
  const ceiling = Math.min(capMs, baseMs * 2 ** Math.min(attempt, 30));
  return Math.max(baseMs / 2, Math.floor(random() * ceiling));
}

/** Whether an MQTT topic filter (with `+` and `#`) matches a topic. */
export function topicMatches(filter: string, topic: string): boolean {
  const f = filter.split('/');
  const t = topic.split('/');
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '#') return true;
    if (i >= t.length) return false;
    if (f[i] !== '+' && f[i] !== t[i]) return false;
  }
  return f.length === t.length;
}

export class IotConnection {
  private transport: MqttTransport | undefined;
  private readonly spool: MessageSpool;
  private readonly subscriptions = new Map<string, Set<MessageHandler>>();
  private readonly subscribed = new Set<string>();
  private readonly connectListeners: Array<(first: boolean) => void> = [];
  private readonly disconnectListeners: Array<() => void> = [];
  private inFlight = 0;
  private up = false;
  private everConnected = false;
  private stopped = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private wakeConnect: (() => void) | undefined;
  /** Times the connection came up (first connect and every resume). */
  connects = 0;

  constructor(private readonly o: IotConnectionOptions) {
    this.spool = new MessageSpool(o.spool);
  }

  get connected(): boolean {
    return this.up;
  }

  get thingName(): string {
    return this.o.thingName;
  }

  get spooled(): { messages: number; bytes: number; dropped: number } {
    return { messages: this.spool.size, bytes: this.spool.sizeInBytes, dropped: this.spool.dropped };
  }

  /** Connects in the background, retrying until connected or stopped. */
  start(): void {
    void this.connectLoop();
  }

  /** Called every time the connection comes up, after the subscriptions are in place. */
  onConnect(listener: (first: boolean) => void): void {
    this.connectListeners.push(listener);
  }

  onDisconnect(listener: () => void): void {
    this.disconnectListeners.push(listener);
  }

  /** Registers `handler` for `filter`; subscribes now if connected, and again after every reconnect. */
  async subscribe(filter: string, handler: MessageHandler): Promise<void> {
    let set = this.subscriptions.get(filter);
    if (!set) this.subscriptions.set(filter, (set = new Set()));
    set.add(handler);
    if (this.up && !this.subscribed.has(filter)) await this.subscribeOnce(filter);
  }

  async unsubscribe(filter: string, handler?: MessageHandler): Promise<void> {
    const set = this.subscriptions.get(filter);
    if (handler) set?.delete(handler);
    if (set && set.size > 0) return;
    this.subscriptions.delete(filter);
    if (this.subscribed.delete(filter) && this.up)
      await this.transport?.unsubscribe(filter).catch(() => undefined);
  }

  /**
   * Publishes; resolves once the broker acknowledged (QoS 1) or the message was sent (QoS 0).
   * While offline a QoS 1 message waits in the spool; a full spool rejects [CL-73].
   */
  publish(topic: string, payload: string | Buffer | object, opts: PublishOptions = {}): Promise<void> {
    const qos = opts.qos ?? 1;
    const bytes = Buffer.isBuffer(payload)
      ? payload
      : Buffer.from(typeof payload === 'string' ? payload : JSON.stringify(payload), 'utf8');
    const spoolOffline = opts.spoolOffline ?? qos === 1;
    if (this.stopped) return Promise.reject(new Error('the MQTT connection is stopped'));
    if (!this.up && !spoolOffline)
      return Promise.reject(new Error(`not connected: message on ${topic} not sent`));
    return new Promise<void>((resolve, reject) => {
      this.spool.add({ topic, payload: bytes, qos, attempts: 0, resolve, reject });
      this.pump();
    });
  }

  /**
   * Awaits the first message on `filter` (already subscribed by the caller) matching `pred`, or
   * undefined after `timeoutMs` (No stage can hang).
   */
  waitFor(
    filter: string,
    pred: (payload: Buffer, topic: string) => boolean,
    timeoutMs: number,
  ): { promise: Promise<{ topic: string; payload: Buffer } | undefined>; cancel(): void } {
    let done: (v: { topic: string; payload: Buffer } | undefined) => void = () => undefined;
    const promise = new Promise<{ topic: string; payload: Buffer } | undefined>((r) => (done = r));
    const handler: MessageHandler = (topic, payload) => {
      if (!pred(payload, topic)) return;
      finish({ topic, payload });
    };
    const timer = setTimeout(() => finish(undefined), timeoutMs);
    const finish = (v: { topic: string; payload: Buffer } | undefined): void => {
      clearTimeout(timer);
      this.subscriptions.get(filter)?.delete(handler);
      done(v);
    };
    let set = this.subscriptions.get(filter);
    if (!set) this.subscriptions.set(filter, (set = new Set()));
    set.add(handler);
    return { promise, cancel: () => finish(undefined) };
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    this.wakeConnect?.();
    this.up = false;
    this.spool.clear(new Error('the MQTT connection is stopped'));
    await this.transport?.close();
  }

  private async connectLoop(): Promise<void> {
    for (let attempt = 0; !this.stopped; attempt++) {
      try {
        this.transport ??= await createTransport(
          { ...this.o, clientId: this.o.thingName },
          {
            up: (sessionPresent) => void this.onUp(sessionPresent),
            down: (reason) => this.onDown(reason),
            message: (topic, payload) => this.dispatch(topic, payload),
          },
        );
        await this.transport.connect();
        return;
      } catch (e) {
        if (this.stopped) return;
        // A failed first connect leaves the CRT connection unusable: start from a new one.
        await this.transport?.close().catch(() => undefined);
        this.transport = undefined;
        const delay = backoffDelayMs(
          attempt,
          this.o.minReconnectSeconds * 1000,
          this.o.maxReconnectSeconds * 1000,
        );
        this.o.log?.(
          `mqtt: connection to ${this.o.endpoint}:${this.o.port} failed (${(e as Error).message}); retrying in ${delay} ms`,
        );
        await new Promise<void>((resolve) => {
          this.wakeConnect = resolve;
          this.retryTimer = setTimeout(resolve, delay);
        });
      }
    }
  }

  private async onUp(sessionPresent: boolean): Promise<void> {
    if (this.stopped) return;
    const first = !this.everConnected;
    this.everConnected = true;
    this.up = true;
    this.connects++;
    this.o.log?.(`mqtt: connected to ${this.o.endpoint}:${this.o.port} as ${this.o.thingName}`);
    if (!sessionPresent) this.subscribed.clear();
    await Promise.all(
      [...this.subscriptions.keys()].filter((f) => !this.subscribed.has(f)).map((f) => this.subscribeOnce(f)),
    );
    this.pump();
    for (const l of this.connectListeners) l(first);
  }

  private onDown(reason: string): void {
    if (!this.up) return;
    this.up = false;
    this.o.log?.(`mqtt: connection interrupted: ${reason}`);
    this.spool.purgeQos0();
    for (const l of this.disconnectListeners) l();
  }

  private async subscribeOnce(filter: string): Promise<void> {
    try {
      const granted = await this.transport!.subscribe(filter, 1);
      if (granted >= 128) throw new Error(`the broker refused the subscription (${granted})`);
      this.subscribed.add(filter);
    } catch (e) {
      const retry = (this.o.subscribeRetryMs ?? 120_000) + Math.floor(Math.random() * 10_000);
      this.o.log?.(`mqtt: subscribe ${filter} failed (${(e as Error).message}); retrying in ${retry} ms`);
      const t = setTimeout(() => {
        if (this.up && this.subscriptions.has(filter) && !this.subscribed.has(filter))
          void this.subscribeOnce(filter);
      }, retry);
      t.unref();
    }
  }

  private dispatch(topic: string, payload: Buffer): void {
    for (const [filter, handlers] of this.subscriptions) {
      if (!topicMatches(filter, topic)) continue;
      for (const h of [...handlers]) {
        try {
          h(topic, payload);
        } catch (e) {
          this.o.log?.(`mqtt: handler for ${topic} failed: ${(e as Error).message}`);
        }
      }
    }
  }

  private pump(): void {
    const max = this.o.maxInFlightPublishes ?? 5;
    while (this.up && this.inFlight < max && this.spool.size > 0) {
      const m = this.spool.take()!;
      this.inFlight++;
      void this.send(m).finally(() => {
        this.inFlight--;
        this.pump();
      });
    }
  }

  private async send(m: SpooledMessage): Promise<void> {
    try {
      await this.transport!.publish(m.topic, m.payload, m.qos);
      m.resolve();
    } catch (e) {
      m.attempts++;
      const limit = this.o.maxPublishRetry ?? 100;
      if (this.stopped || (limit >= 0 && m.attempts > limit) || m.qos === 0) m.reject(e as Error);
      else this.spool.requeue(m);
    }
  }
}
