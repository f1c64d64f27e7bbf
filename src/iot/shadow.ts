// Thing deployments through the named shadow AWSManagedGreengrassV2Deployment (deployment.md
// section 11): subscriptions [DP-77], `get` on connect and after a rejection [DP-78], the desired
// fleetConfig offered as a SHADOW deployment (or a cancellation) [DP-80, DP-81], and the status
// written to the reported section with the last seen version [DP-79, DP-82].
import type { DeploymentQueue, DeploymentStatusReporter, ProcessedDeployment } from '../deployment/index.js';
import type { IotConnection } from './connection.js';

export const DEPLOYMENT_SHADOW_NAME = 'AWSManagedGreengrassV2Deployment';

export interface ShadowDeploymentOptions {
  connection: IotConnection;
  queue: DeploymentQueue;
  ggcVersion: string;
  operationTimeoutMs?: number;
  log?: (msg: string) => void;
}

type Obj = Record<string, unknown>;

function parse(payload: Buffer): Obj | undefined {
  try {
    const v = JSON.parse(payload.toString('utf8')) as unknown;
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : undefined;
  } catch {
    return undefined;
  }
}

const list = (v: string | undefined): string[] => {
  if (v === undefined) return [];
  try {
    const p = JSON.parse(v) as unknown;
    return Array.isArray(p) ? p.map(String) : [v];
  } catch {
    return [v];
  }
};

export class ShadowDeploymentListener {
  readonly reporter: DeploymentStatusReporter;
  private readonly base: string;
  private lastVersion = 0;
  private lastArn = '';
  private firstUpdate = true;

  constructor(private readonly o: ShadowDeploymentOptions) {
    this.base = `$aws/things/${o.connection.thingName}/shadow/name/${DEPLOYMENT_SHADOW_NAME}`;
    this.reporter = { name: 'ShadowDeployment', report: (s) => this.report(s) };
  }

  async start(): Promise<void> {
    const c = this.o.connection;
    c.onConnect(() => this.requestGet());
    await c.subscribe(`${this.base}/update/accepted`, (_t, p) => void this.onDocument(p));
    await c.subscribe(`${this.base}/update/rejected`, () => this.requestGet());
    await c.subscribe(`${this.base}/get/accepted`, (_t, p) => void this.onDocument(p));
    if (c.connected) this.requestGet();
  }

  private requestGet(): void {
    const c = this.o.connection;
    if (!c.connected) return;
    c.publish(
      `${this.base}/get`,
      { shadowName: DEPLOYMENT_SHADOW_NAME, thingName: c.thingName },
      { spoolOffline: false },
    ).catch(() => undefined);
  }

  /** [DP-80, DP-81] */
  private async onDocument(payload: Buffer): Promise<void> {
    const msg = parse(payload);
    if (!msg) return;
    const version = typeof msg.version === 'number' ? msg.version : 0;
    if (version < this.lastVersion) return;
    this.lastVersion = version;
    const state = (msg.state ?? {}) as Obj;
    const desired = state.desired as Obj | undefined;
    if (!desired || typeof desired.fleetConfig !== 'string' || typeof desired.desiredStatus !== 'string')
      return;
    let doc: Obj;
    try {
      doc = JSON.parse(desired.fleetConfig) as Obj;
    } catch {
      this.o.log?.('shadow: fleetConfig is not JSON; ignored');
      return;
    }
    const arn = typeof doc.configurationArn === 'string' ? doc.configurationArn : '';
    if (!arn) return;
    const reported = state.reported as Obj | undefined;
    const cancel = desired.desiredStatus === 'CANCELED';
    const first = this.firstUpdate;
    this.firstUpdate = false;
    if (first) {
      if (cancel) return;
      if (reported?.fleetConfigurationArnForStatus === arn && reported.status !== 'IN_PROGRESS') {
        this.lastArn = arn;
        return;
      }
    }
    const current = this.o.queue.peek();
    if (cancel) {
      if (current?.type === 'SHADOW' && current.id === arn && !current.cancelled)
        await this.o.queue.offer({ ...current, cancelled: true });
      this.lastArn = arn;
      return;
    }
    if (arn === this.lastArn || (current?.type === 'SHADOW' && current.id === arn)) return;
    const outcome = await this.o.queue.offer({ id: arn, type: 'SHADOW', stage: 'DEFAULT', document: doc });
    this.lastArn = arn;
    this.o.log?.(`shadow: thing deployment ${arn} ${outcome}`);
  }

  /** [DP-79, DP-82] reported status; a rejected write is retried once after a fresh get. */
  private async report(s: ProcessedDeployment): Promise<boolean> {
    if (s.DeploymentType !== 'SHADOW') return true;
    const c = this.o.connection;
    if (!c.connected) return false;
    const d = s.DeploymentStatusDetails;
    const reported = {
      fleetConfigurationArnForStatus: s.ConfigurationArn || s.DeploymentId,
      status: s.DeploymentStatus,
      statusDetails: {
        detailedStatus: d['detailed-deployment-status'] ?? '',
        failureCause: d['deployment-failure-cause'] ?? '',
        errorStack: list(d['deployment-error-stack']),
        errorTypes: list(d['deployment-error-types']),
      },
      ggcVersion: this.o.ggcVersion,
    };
    const timeout = this.o.operationTimeoutMs ?? 30_000;
    for (let attempt = 0; attempt < 2; attempt++) {
      const token = `tendril-${Date.now()}-${attempt}`;
      const match = (p: Buffer) => parse(p)?.clientToken === token;
      const a = c.waitFor(`${this.base}/update/accepted`, match, timeout);
      const r = c.waitFor(`${this.base}/update/rejected`, match, timeout);
      try {
        await c.publish(
          `${this.base}/update`,
          {
            shadowName: DEPLOYMENT_SHADOW_NAME,
            thingName: c.thingName,
            state: { reported },
            ...(this.lastVersion > 0 ? { version: this.lastVersion } : {}),
            clientToken: token,
          },
          { spoolOffline: false },
        );
        const reply = await Promise.race([
          a.promise.then((m) => (m ? 'accepted' : undefined)),
          r.promise.then((m) => (m ? 'rejected' : undefined)),
        ]);
        if (reply === 'accepted') return true;
        if (reply === undefined) return false;
        // A version conflict: learn the current version, then write again.
        const got = c.waitFor(`${this.base}/get/accepted`, () => true, timeout);
        this.requestGet();
        await got.promise;
      } catch {
        return false;
      } finally {
        a.cancel();
        r.cancel();
      }
    }
    return false;
  }
}
