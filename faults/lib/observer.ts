// Watches the job status traffic of one device on the local cloud's broker: a second MQTT client
// with the device's own certificate (client id `<thing>#faults`, allowed by CL-67) subscribes to the
// device's job update topics and to the cloud's accepted/rejected replies. From this the campaign
// counts, per job, the statuses the device published and the terminal statuses the cloud accepted.
// It reconnects by itself after the broker restarts; what is published while it is away is not seen
// (the counts then come with `gaps`).
import { readFileSync } from 'node:fs';
import mqtt, { type MqttClient } from 'mqtt';
import type { CloudEndpoints, Device } from './cloud.js';
import { until } from './proc.js';

const NS = 'namespace-aws-gg-deployment';
const TERMINAL = new Set(['SUCCEEDED', 'FAILED', 'REJECTED', 'CANCELED', 'TIMED_OUT', 'REMOVED']);

export interface JobTraffic {
  /** Statuses the device published, in order. */
  published: string[];
  /** The cloud's replies, in order: 'accepted' or the rejection code. */
  replies: string[];
  /** statusDetails of each published status. */
  details: Record<string, string>[];
}

export class JobObserver {
  private readonly jobs = new Map<string, JobTraffic>();
  /** Times the observer lost its connection (traffic in those windows is not seen). */
  gaps = 0;
  private constructor(private readonly client: MqttClient) {
    client.on('message', (topic, payload) => {
      const m = new RegExp(`^\\$aws/things/[^/]+/jobs/([^/]+)/${NS}/update(?:/(accepted|rejected))?$`).exec(
        topic,
      );
      if (!m || m[1] === '$next') return;
      const t = this.traffic(m[1]);
      let body: Record<string, unknown> = {};
      try {
        body = JSON.parse(payload.toString('utf8')) as Record<string, unknown>;
      } catch {
        /* counted with an empty body */
      }
      if (!m[2]) {
        t.published.push(String(body.status));
        t.details.push((body.statusDetails ?? {}) as Record<string, string>);
      } else t.replies.push(m[2] === 'accepted' ? 'accepted' : String(body.code));
    });
    client.on('offline', () => this.gaps++);
  }

  static async connect(ep: CloudEndpoints, device: Device): Promise<JobObserver> {
    const client = mqtt.connect({
      host: '127.0.0.1',
      port: ep.mqttPort,
      protocol: 'mqtts',
      protocolVersion: 4,
      clientId: `${device.thing}#faults`,
      key: readFileSync(device.privateKeyPath),
      cert: readFileSync(device.certificatePath),
      ca: readFileSync(device.rootCaPath),
      reconnectPeriod: 200,
      connectTimeout: 5000,
      resubscribe: true,
    });
    client.on('error', () => {});
    await until('the job observer to connect', () => client.connected, 30_000);
    await client.subscribeAsync(
      [
        `$aws/things/${device.thing}/jobs/+/${NS}/update`,
        `$aws/things/${device.thing}/jobs/+/${NS}/update/+`,
      ],
      { qos: 1 },
    );
    return new JobObserver(client);
  }

  traffic(jobId: string): JobTraffic {
    let t = this.jobs.get(jobId);
    if (!t) this.jobs.set(jobId, (t = { published: [], replies: [], details: [] }));
    return t;
  }

  /** Terminal statuses the device published for the job. */
  terminalPublished(jobId: string): string[] {
    return this.traffic(jobId).published.filter((s) => TERMINAL.has(s));
  }

  /**
   * Terminal statuses the cloud accepted: the replies pair with the publishes in order (one broker,
   * QoS 1, one publisher); a reply lost in a gap makes the pairing unknown (undefined).
   */
  terminalAccepted(jobId: string): number | undefined {
    const t = this.traffic(jobId);
    if (t.replies.length !== t.published.length) return undefined;
    return t.published.filter((s, i) => TERMINAL.has(s) && t.replies[i] === 'accepted').length;
  }

  /** Publishes as the device's second client (the policy allows the thing's own topics). */
  async publish(topic: string, payload: string | Buffer): Promise<void> {
    await this.client.publishAsync(topic, payload, { qos: 1 });
  }

  get connected(): boolean {
    return this.client.connected;
  }

  async close(): Promise<void> {
    await this.client.endAsync(true);
  }
}
