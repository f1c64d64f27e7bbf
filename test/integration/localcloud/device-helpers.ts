// A scripted device for the local cloud's device side: mqtt.js over mutual TLS with a provisioned
// certificate, a message inbox to await replies, and an HTTPS client for the data plane.
import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import mqtt, { type MqttClient } from 'mqtt';
import type { ProvisionResult } from '../../../src/localcloud/index.js';

export interface DeviceCredentials {
  cert: string;
  key: string;
  ca: string;
}

export function credentialsOf(p: ProvisionResult): DeviceCredentials {
  return {
    cert: readFileSync(p.certificatePath, 'utf8'),
    key: readFileSync(p.privateKeyPath, 'utf8'),
    ca: readFileSync(p.rootCaPath, 'utf8'),
  };
}

export interface Message {
  topic: string;
  json: Record<string, unknown>;
}

/** A connected device that keeps every message it receives, to be awaited in order. */
export class ScriptedDevice {
  private readonly inbox: Message[] = [];
  private waiters: { match: (m: Message) => boolean; resolve: (m: Message) => void }[] = [];

  private constructor(readonly client: MqttClient) {
    client.on('message', (topic, payload) => {
      let json: Record<string, unknown> = {};
      try {
        json = JSON.parse(payload.toString('utf8')) as Record<string, unknown>;
      } catch {
        json = { raw: payload.toString('utf8') };
      }
      const m = { topic, json };
      const w = this.waiters.find((x) => x.match(m));
      if (w) {
        this.waiters = this.waiters.filter((x) => x !== w);
        w.resolve(m);
      } else this.inbox.push(m);
    });
  }

  static async connect(port: number, creds: DeviceCredentials, clientId: string): Promise<ScriptedDevice> {
    const client = await mqtt.connectAsync({
      host: '127.0.0.1',
      port,
      protocol: 'mqtts',
      protocolVersion: 4,
      clientId,
      key: creds.key,
      cert: creds.cert,
      ca: creds.ca,
      reconnectPeriod: 0,
      connectTimeout: 5000,
    });
    return new ScriptedDevice(client);
  }

  /** Returns the granted QoS per topic; 128 is a refusal (mqtt.js reports it as an error carrying the SUBACK). */
  async subscribe(...topics: string[]): Promise<number[]> {
    try {
      const granted = await this.client.subscribeAsync(topics, { qos: 1 });
      return granted.map((g) => g.qos);
    } catch (e) {
      const granted = (e as { packet?: { granted?: (number | { qos: number })[] } }).packet?.granted;
      if (!granted) throw e;
      return granted.map((g) => (typeof g === 'number' ? g : g.qos));
    }
  }

  async publish(topic: string, payload: unknown): Promise<void> {
    await this.client.publishAsync(topic, typeof payload === 'string' ? payload : JSON.stringify(payload), {
      qos: 1,
    });
  }

  /** The first message (already received or yet to come) on `topic` that satisfies `pred`. */
  next(topic: string, pred: (json: Record<string, unknown>) => boolean = () => true): Promise<Message> {
    const match = (m: Message) => m.topic === topic && pred(m.json);
    const i = this.inbox.findIndex(match);
    if (i >= 0) return Promise.resolve(this.inbox.splice(i, 1)[0]);
    return new Promise((resolve) => this.waiters.push({ match, resolve }));
  }

  /** Publishes `payload` and awaits the first reply on `replyTopic`. */
  async call(topic: string, payload: unknown, replyTopic: string): Promise<Message> {
    const reply = this.next(replyTopic);
    await this.publish(topic, payload);
    return reply;
  }

  clearInbox(): void {
    this.inbox.length = 0;
  }

  async close(): Promise<void> {
    await this.client.endAsync(true);
  }
}

export interface HttpsResult {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  json(): Record<string, unknown>;
}

/** One HTTPS request to a local endpoint, presenting `creds` (or no client certificate). */
export function httpsRequest(
  url: string,
  opts: {
    method?: string;
    body?: unknown;
    headers?: Record<string, string>;
    creds?: Partial<DeviceCredentials>;
  },
): Promise<HttpsResult> {
  return new Promise((resolve, reject) => {
    const body = opts.body === undefined ? undefined : JSON.stringify(opts.body);
    const req = request(
      url,
      {
        method: opts.method ?? 'GET',
        key: opts.creds?.key,
        cert: opts.creds?.cert,
        ca: opts.creds?.ca,
        agent: false,
        headers: { ...(body ? { 'content-type': 'application/json' } : {}), ...opts.headers },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const buf = Buffer.concat(chunks);
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: buf,
            json: () => JSON.parse(buf.toString('utf8')) as Record<string, unknown>,
          });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

export const jobsTopic = (thing: string, rest: string) => `$aws/things/${thing}/jobs/${rest}`;

/** A fleet status message as the Java nucleus builds it [CL-44] [CL-46]. */
export function fleetStatus(thing: string, over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    ggcVersion: '2.18.0',
    platform: 'linux',
    architecture: 'amd64',
    thing,
    overallDeviceStatus: 'HEALTHY',
    sequenceNumber: 1,
    timestamp: Date.now(),
    messageType: 'COMPLETE',
    trigger: 'NUCLEUS_LAUNCH',
    components: [],
    ...over,
  };
}
