// Thing-group deployments over IoT Jobs in the aws-gg-deployment namespace (cloud.md section 1):
// subscribe, `$next/get` on connect and on QUEUED notifications [CL-06, CL-07, CL-10], dedupe by
// queuedAt and jobId [CL-09], hand the document to the durable queue as IOT_JOBS, cancellation when
// the notification says no job is pending [CL-10, CL-12]; statuses go out through the engine's
// outbox (so they are durable and ordered) as `{jobId}/update` [CL-13..CL-16].
import type { DeploymentQueue, DeploymentStatusReporter, ProcessedDeployment } from '../deployment/index.js';
import type { IotConnection } from './connection.js';

const NS = 'namespace-aws-gg-deployment';
/** [CL-15] rejection codes that make an update permanent (dropped, not retried). */
const PERMANENT_REJECTIONS = new Set([
  'InvalidTopic',
  'InvalidJson',
  'InvalidRequest',
  'InvalidStateTransition',
  'ResourceNotFound',
  'VersionMismatch',
  'TerminalStateReached',
]);
const CANCEL_STATUSES = new Set(['CANCELED', 'REMOVED', 'TIMED_OUT']);

type Obj = Record<string, unknown>;

export const jobsTopics = (thing: string) => {
  const base = `$aws/things/${thing}/jobs`;
  return {
    notify: `${base}/notify-${NS}`,
    nextGet: `${base}/$next/${NS}/get`,
    nextAccepted: `${base}/$next/${NS}/get/accepted`,
    nextRejected: `${base}/$next/${NS}/get/rejected`,
    update: (jobId: string) => `${base}/${jobId}/${NS}/update`,
    updateAccepted: (jobId: string) => `${base}/${jobId}/${NS}/update/accepted`,
    updateRejected: (jobId: string) => `${base}/${jobId}/${NS}/update/rejected`,
  };
};

export interface IotJobsOptions {
  connection: IotConnection;
  queue: DeploymentQueue;
  /** Re-sends stored statuses in order (the engine's flushOutbox) [CL-06, DP-69]. */
  flushStatuses(): Promise<unknown>;
  /** Statuses stored but not yet delivered, oldest first. */
  pendingStatuses?(): ProcessedDeployment[];
  /** Replaces a LARGE_CONFIGURATION stub with the full document [CL-33]. */
  expandDocument?(doc: Obj): Promise<Obj>;
  /** mqtt.operationTimeoutMs: how long to wait for an update reply (default 30 s) [CL-15]. */
  operationTimeoutMs?: number;
  log?: (msg: string) => void;
}

function parse(payload: Buffer): Obj | undefined {
  try {
    const v = JSON.parse(payload.toString('utf8')) as unknown;
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : undefined;
  } catch {
    return undefined;
  }
}

export class IotJobsListener {
  private lastQueuedAt = -1;
  private lastJobId = '';
  private unprocessed = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  /** Job ids that reached a terminal status here (never offered again in this run). */
  private readonly finished = new Set<string>();
  private readonly topics: ReturnType<typeof jobsTopics>;
  /** Delivers IOT_JOBS statuses as `{jobId}/update`; register it in the engine's reporters. */
  readonly reporter: DeploymentStatusReporter;

  constructor(private readonly o: IotJobsOptions) {
    this.topics = jobsTopics(o.connection.thingName);
    this.reporter = { name: 'IotJobs', report: (s) => this.report(s) };
  }

  /** [CL-06] subscriptions, then `$next/get` on every (re)connect, after the stored statuses went out. */
  async start(): Promise<void> {
    const c = this.o.connection;
    c.onConnect(() => void this.onConnect());
    await c.subscribe(this.topics.nextAccepted, (_t, p) => void this.onNext(p));
    await c.subscribe(this.topics.nextRejected, (_t, p) =>
      this.o.log?.(`jobs: $next/get rejected: ${p.toString('utf8')}`),
    );
    await c.subscribe(this.topics.notify, (_t, p) => void this.onNotify(p));
    if (c.connected) void this.onConnect();
  }

  private async onConnect(): Promise<void> {
    await this.o.flushStatuses().catch(() => undefined);
    this.requestNext();
  }

  /** [CL-07] */
  private requestNext(): void {
    const c = this.o.connection;
    if (!c.connected) return;
    c.publish(
      this.topics.nextGet,
      { thingName: c.thingName, includeJobDocument: true, jobId: '$next' },
      { spoolOffline: false },
    ).catch((e: Error) => this.o.log?.(`jobs: $next/get not sent: ${e.message}`));
  }

  /** [CL-10] */
  private async onNotify(payload: Buffer): Promise<void> {
    const msg = parse(payload);
    const jobs = msg?.jobs;
    if (!jobs || typeof jobs !== 'object') return;
    if ('QUEUED' in jobs) {
      this.unprocessed++;
      this.requestNext();
    } else if (Object.keys(jobs).length === 0) await this.cancelCurrent('no job is pending any more');
    else this.o.log?.(`jobs: notification ${JSON.stringify(jobs)} not supported; ignored`);
  }

  /** [CL-12] cancel the current deployment when it is an IoT job and nothing else is queued. */
  private async cancelCurrent(why: string, jobId?: string): Promise<void> {
    const entries = this.o.queue.entries();
    const current = entries[0];
    if (!current || current.type !== 'IOT_JOBS' || current.cancelled) return;
    if (jobId !== undefined ? current.id !== jobId : entries.length > 1) return;
    this.o.log?.(`jobs: cancelling job ${current.id}: ${why}`);
    await this.o.queue.offer({ ...current, cancelled: true });
  }

  /** [CL-08, CL-09] */
  private async onNext(payload: Buffer): Promise<void> {
    const msg = parse(payload);
    const exec = msg?.execution as Obj | undefined;
    if (!exec) {
      this.o.log?.('jobs: no deployment job found');
      if (this.unprocessed > 0) {
        this.unprocessed = 0;
        this.requestNext();
      }
      return;
    }
    this.unprocessed = Math.max(0, this.unprocessed - 1);
    const jobId = typeof exec.jobId === 'string' ? exec.jobId : '';
    const queuedAt = typeof exec.queuedAt === 'number' ? exec.queuedAt : 0;
    if (!jobId) return;
    if (typeof exec.status === 'string' && CANCEL_STATUSES.has(exec.status)) {
      await this.cancelCurrent(`job status ${exec.status}`, jobId);
      return;
    }
    if (queuedAt < this.lastQueuedAt || (queuedAt === this.lastQueuedAt && jobId === this.lastJobId)) return;
    if (this.finished.has(jobId) || this.o.pendingStatuses?.().some((s) => isTerminalFor(s, jobId))) return;
    let doc = exec.jobDocument;
    if (!doc || typeof doc !== 'object' || Array.isArray(doc)) {
      this.o.log?.(`jobs: job ${jobId} carries no document object; ignored`);
      return;
    }
    try {
      if (this.o.expandDocument) doc = await this.o.expandDocument(doc as Obj);
      const outcome = await this.o.queue.offer({
        id: jobId,
        type: 'IOT_JOBS',
        stage: 'DEFAULT',
        document: doc,
      });
      this.o.log?.(`jobs: job ${jobId} ${outcome}`);
      // Seen only once it is durable in the queue (Durable before acknowledged).
      this.lastQueuedAt = queuedAt;
      this.lastJobId = jobId;
    } catch (e) {
      this.o.log?.(`jobs: job ${jobId} not queued: ${(e as Error).message}`);
    }
  }

  /**
   * A reply lost with the connection (the broker went away between the publish and its answer) ends
   * this flush with a refusal; without a new trigger the statuses would wait for the next reconnect or
   * deployment, and a reconnect that came during the wait joined this very flush. So: flush again soon.
   */
  private retrySoon(): void {
    if (this.retryTimer) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      void this.o.flushStatuses().catch(() => undefined);
    }, 1000);
    this.retryTimer.unref();
  }

  /** [CL-13, CL-15, CL-16] true once the cloud answered (accepted, or rejected for good). */
  private async report(s: ProcessedDeployment): Promise<boolean> {
    if (s.DeploymentType !== 'IOT_JOBS') return true;
    if (s.DeploymentStatus === 'CANCELED') return true; // [CL-12] nothing is published for a cancelled job
    const c = this.o.connection;
    if (!c.connected) return false;
    const jobId = s.DeploymentId;
    const accepted = this.topics.updateAccepted(jobId);
    const rejected = this.topics.updateRejected(jobId);
    const timeout = this.o.operationTimeoutMs ?? 30_000;
    await c.subscribe(accepted, noop);
    await c.subscribe(rejected, noop);
    const a = c.waitFor(accepted, () => true, timeout);
    const r = c.waitFor(rejected, () => true, timeout);
    try {
      await c.publish(
        this.topics.update(jobId),
        {
          thingName: c.thingName,
          statusDetails: s.DeploymentStatusDetails,
          status: s.DeploymentStatus,
          jobId,
        },
        { spoolOffline: false },
      );
      const reply = await Promise.race([
        a.promise.then((m) => (m ? ('accepted' as const) : undefined)),
        r.promise.then((m) => (m ? { rejected: parse(m.payload) } : undefined)),
      ]);
      if (reply === undefined) {
        this.o.log?.(`jobs: no reply to the ${s.DeploymentStatus} update of job ${jobId}; will retry`);
        this.retrySoon();
        return false;
      }
      if (reply !== 'accepted') {
        const code = String(reply.rejected?.code ?? '');
        if (!PERMANENT_REJECTIONS.has(code) && code !== '') {
          this.o.log?.(`jobs: update of job ${jobId} rejected (${code}); will retry`);
          return false;
        }
        this.o.log?.(`jobs: update of job ${jobId} to ${s.DeploymentStatus} rejected for good (${code})`);
      }
      if (s.DeploymentStatus !== 'IN_PROGRESS') this.finished.add(jobId);
      return true;
    } catch (e) {
      this.o.log?.(`jobs: update of job ${jobId} not sent: ${(e as Error).message}`);
      return false;
    } finally {
      a.cancel();
      r.cancel();
      if (s.DeploymentStatus !== 'IN_PROGRESS') {
        await c.unsubscribe(accepted, noop);
        await c.unsubscribe(rejected, noop);
      }
    }
  }
}

const noop = (): void => undefined;

function isTerminalFor(s: ProcessedDeployment, jobId: string): boolean {
  return s.DeploymentType === 'IOT_JOBS' && s.DeploymentId === jobId && s.DeploymentStatus !== 'IN_PROGRESS';
}
