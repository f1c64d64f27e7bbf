// IoT Jobs over MQTT in the aws-gg-deployment namespace (cloud.md section 1): one job per thing-group
// deployment revision with a QUEUED execution per member [CP-63]; notifications on both notify topics
// [CL-02], [CL-11]; `$next/get` [CL-07], [CL-08]; `{jobId}/update` with accepted/rejected [CL-13]..[CL-16];
// cancellation of superseded and cancelled deployments [CL-12]. Execution states feed
// ListEffectiveDeployments (CL-53).
import { iotJobArn, parseTargetArn } from '../arn.js';
import type { CloudContext } from '../context.js';
import type { DeploymentRecord, EffectiveDeploymentStatus, JobExecutionRecord } from '../store/index.js';
import { TERMINAL_EXECUTION_STATUSES } from '../store/index.js';
import type { DeviceBroker } from './broker.js';
import { embeddedDeploymentDocument, JOB_DOCUMENT_LIMIT } from './deployment-document.js';

const NS = 'namespace-aws-gg-deployment';
const DEVICE_STATUSES = ['IN_PROGRESS', 'SUCCEEDED', 'FAILED', 'REJECTED'] as const;
const TOPIC = /^\$aws\/things\/([^/]+)\/jobs\/([^/]+)\/namespace-aws-gg-deployment\/(get|update)$/;

type Obj = Record<string, unknown>;

const seconds = (ms: number) => Math.floor(ms / 1000);

class JobRequestError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly execution?: JobExecutionRecord,
  ) {
    super(message);
  }
}

function effectiveStatus(s: JobExecutionRecord['status']): EffectiveDeploymentStatus {
  return s === 'REMOVED' ? 'CANCELED' : s;
}

function parseList(v: string | undefined): string[] | undefined {
  if (v === undefined) return undefined;
  try {
    const parsed = JSON.parse(v) as unknown;
    return Array.isArray(parsed) ? parsed.map(String) : [v];
  } catch {
    return [v];
  }
}

export class JobsService {
  constructor(
    private readonly ctx: CloudContext,
    private readonly broker: DeviceBroker,
    private readonly log: (msg: string) => void,
  ) {}

  /** A new thing-group deployment: create its job and executions, cancel the superseded revision's. */
  async deploymentCreated(d: DeploymentRecord, superseded: DeploymentRecord | undefined): Promise<void> {
    const touched = this.ctx.store.transaction(() => {
      const out = new Set<string>();
      if (superseded?.iotJobId) for (const t of this.cancelJob(superseded.iotJobId)) out.add(t);
      if (!d.iotJobId) return out;
      const t = parseTargetArn(d.targetArn);
      this.ctx.store.jobs.createJob({
        jobId: d.iotJobId,
        deploymentId: d.deploymentId,
        targetArn: d.targetArn,
        document: embeddedDeploymentDocument(this.ctx.arn, d, JOB_DOCUMENT_LIMIT),
        status: 'IN_PROGRESS',
        createdMs: this.ctx.now(),
      });
      for (const thing of this.queue(d, this.ctx.store.things.members(t.name))) out.add(thing);
      return out;
    });
    await this.notifyAll(touched);
  }

  async deploymentCanceled(d: DeploymentRecord): Promise<void> {
    if (!d.iotJobId) return;
    const jobId = d.iotJobId;
    await this.notifyAll(this.ctx.store.transaction(() => this.cancelJob(jobId)));
  }

  /** Continuous targeting: a thing joining a group gets an execution of the group's active job. */
  async thingAddedToGroup(group: string, thing: string): Promise<void> {
    const queued = this.ctx.store.transaction(() => this.queueForGroupMember(group, thing));
    await this.notifyAll(new Set(queued));
  }

  /** Queues executions missed while the server was down (e.g. things provisioned offline). */
  async reconcile(): Promise<void> {
    const touched = this.ctx.store.transaction(() => {
      const out = new Set<string>();
      for (const d of this.ctx.store.deployments.list({ latestOnly: true })) {
        if (d.deploymentStatus !== 'ACTIVE' || !d.iotJobId || !this.ctx.store.jobs.getJob(d.iotJobId))
          continue;
        const t = parseTargetArn(d.targetArn);
        for (const thing of this.queue(d, this.ctx.store.things.members(t.name))) out.add(thing);
      }
      return out;
    });
    await this.notifyAll(touched);
  }

  private queueForGroupMember(group: string, thing: string): string[] {
    const arnPrefix = `arn:${this.ctx.arn.partition}:iot:${this.ctx.arn.region}:${this.ctx.arn.accountId}:thinggroup/`;
    const d = this.ctx.store.deployments.list({ targetArn: arnPrefix + group, latestOnly: true })[0];
    if (!d || d.deploymentStatus !== 'ACTIVE' || !d.iotJobId) return [];
    return this.queue(d, [thing]);
  }

  private queue(d: DeploymentRecord, things: string[]): string[] {
    const now = this.ctx.now();
    const queued = this.ctx.store.jobs.queueExecutions(d.iotJobId!, things, now);
    for (const thing of queued)
      this.ctx.store.coreDevices.recordEffectiveDeployment(thing, {
        deploymentId: d.deploymentId,
        deploymentName: d.deploymentName ?? d.deploymentId,
        iotJobId: d.iotJobId,
        iotJobArn: d.iotJobArn,
        targetArn: d.targetArn,
        coreDeviceExecutionStatus: 'QUEUED',
        createdMs: d.createdMs,
        modifiedMs: now,
      });
    return queued;
  }

  /** Cancels every pending execution of a job; returns the things whose pending list changed. */
  private cancelJob(jobId: string): Set<string> {
    const out = new Set<string>();
    const job = this.ctx.store.jobs.getJob(jobId);
    if (!job) return out;
    this.ctx.store.jobs.setJobStatus(jobId, 'CANCELED');
    for (const e of this.ctx.store.jobs.executionsOfJob(jobId)) {
      if (TERMINAL_EXECUTION_STATUSES.includes(e.status)) continue;
      this.save({
        ...e,
        status: 'CANCELED',
        versionNumber: e.versionNumber + 1,
        lastUpdatedMs: this.ctx.now(),
      });
      out.add(e.thingName);
    }
    return out;
  }

  /** Writes an execution and mirrors it into the thing's effective deployments. */
  private save(e: JobExecutionRecord): void {
    this.ctx.store.jobs.saveExecution(e);
    const job = this.ctx.store.jobs.getJob(e.jobId);
    const d = job ? this.ctx.store.deployments.get(job.deploymentId) : undefined;
    if (!job || !d) return;
    const details = e.statusDetails;
    const errorStack = parseList(details['deployment-error-stack']);
    const errorTypes = parseList(details['deployment-error-types']);
    this.ctx.store.coreDevices.recordEffectiveDeployment(e.thingName, {
      deploymentId: d.deploymentId,
      deploymentName: d.deploymentName ?? d.deploymentId,
      iotJobId: e.jobId,
      iotJobArn: iotJobArn(this.ctx.arn, e.jobId),
      targetArn: d.targetArn,
      coreDeviceExecutionStatus: effectiveStatus(e.status),
      reason: details['deployment-failure-cause'] ?? details['detailed-deployment-status'],
      createdMs: d.createdMs,
      modifiedMs: e.lastUpdatedMs,
      statusDetails: errorStack || errorTypes ? { errorStack, errorTypes } : undefined,
    });
  }

  private executionJson(e: JobExecutionRecord, withDocument: boolean): Obj {
    const out: Obj = {
      jobId: e.jobId,
      thingName: e.thingName,
      status: e.status,
      statusDetails: e.statusDetails,
      queuedAt: seconds(e.queuedMs),
      lastUpdatedAt: seconds(e.lastUpdatedMs),
      versionNumber: e.versionNumber,
      executionNumber: e.executionNumber,
    };
    if (e.startedMs !== undefined) out.startedAt = seconds(e.startedMs);
    if (withDocument) out.jobDocument = this.ctx.store.jobs.getJob(e.jobId)?.document ?? {};
    return out;
  }

  private summary(e: JobExecutionRecord): Obj {
    const s: Obj = {
      jobId: e.jobId,
      queuedAt: seconds(e.queuedMs),
      lastUpdatedAt: seconds(e.lastUpdatedMs),
      versionNumber: e.versionNumber,
      executionNumber: e.executionNumber,
    };
    if (e.startedMs !== undefined) s.startedAt = seconds(e.startedMs);
    return s;
  }

  /** Publishes JobExecutionsChanged and NextJobExecutionChanged for one thing [CL-02], [CL-10], [CL-11]. */
  async notify(thing: string): Promise<void> {
    const pending = this.ctx.store.jobs.pending(thing);
    const jobs: Record<string, Obj[]> = {};
    for (const e of pending) (jobs[e.status] ??= []).push(this.summary(e));
    const timestamp = seconds(this.ctx.now());
    const next = this.next(thing);
    await this.broker.publish(`$aws/things/${thing}/jobs/notify-namespace-aws-gg-deployment`, {
      timestamp,
      jobs,
    });
    await this.broker.publish(
      `$aws/things/${thing}/jobs/notify-next-namespace-aws-gg-deployment`,
      next ? { timestamp, execution: this.executionJson(next, true) } : { timestamp },
    );
  }

  private async notifyAll(things: Set<string>): Promise<void> {
    for (const t of things) await this.notify(t);
  }

  /** IN_PROGRESS executions come before QUEUED ones, oldest first. */
  private next(thing: string): JobExecutionRecord | undefined {
    const pending = this.ctx.store.jobs.pending(thing);
    return pending.find((e) => e.status === 'IN_PROGRESS') ?? pending[0];
  }

  /** Handles a device publish; returns false if the topic is not a jobs request. */
  handle(thing: string, topic: string, payload: Buffer): boolean {
    const m = TOPIC.exec(topic);
    if (!m) return false;
    const [, topicThing, jobId, op] = m;
    if (topicThing !== thing) {
      this.log(`jobs: ${thing} published to another thing's topic ${topic}; ignored`);
      return true;
    }
    const base = `$aws/things/${thing}/jobs/${jobId}/${NS}/${op}`;
    let clientToken: string | undefined;
    let reply: Promise<void>;
    try {
      const req = parseJson(payload);
      if (typeof req.clientToken === 'string') clientToken = req.clientToken;
      if (req.thingName !== undefined && req.thingName !== thing)
        throw new JobRequestError(
          'InvalidRequest',
          `thingName ${String(req.thingName)} does not match the topic's thing ${thing}`,
        );
      const body = op === 'get' ? this.describe(thing, jobId, req) : this.update(thing, jobId, req);
      reply = this.broker.publish(`${base}/accepted`, {
        ...(clientToken !== undefined ? { clientToken } : {}),
        timestamp: seconds(this.ctx.now()),
        ...body,
      });
    } catch (e) {
      if (!(e instanceof JobRequestError)) throw e;
      const rejected: Obj = { code: e.code, message: e.message, timestamp: seconds(this.ctx.now()) };
      if (clientToken !== undefined) rejected.clientToken = clientToken;
      if (e.execution)
        rejected.executionState = {
          status: e.execution.status,
          statusDetails: e.execution.statusDetails,
          versionNumber: e.execution.versionNumber,
        };
      reply = this.broker.publish(`${base}/rejected`, rejected);
    }
    reply.catch((e: unknown) => this.log(`jobs: reply on ${base} failed: ${String(e)}`));
    return true;
  }

  private describe(thing: string, jobId: string, req: Obj): Obj {
    const withDocument = req.includeJobDocument !== false;
    if (jobId === '$next') {
      const next = this.next(thing);
      return next ? { execution: this.executionJson(next, withDocument) } : {};
    }
    const e = this.ctx.store.jobs.execution(jobId, thing);
    if (!e) throw new JobRequestError('ResourceNotFound', `job ${jobId} has no execution for thing ${thing}`);
    return { execution: this.executionJson(e, withDocument) };
  }

  private update(thing: string, jobId: string, req: Obj): Obj {
    if (jobId === '$next')
      throw new JobRequestError('InvalidTopic', 'an update must name a jobId, not $next');
    const status = req.status;
    if (typeof status !== 'string' || !(DEVICE_STATUSES as readonly string[]).includes(status))
      throw new JobRequestError(
        'InvalidRequest',
        `status must be one of ${DEVICE_STATUSES.join(', ')}; got ${JSON.stringify(status)}`,
      );
    const details = parseStatusDetails(req.statusDetails);
    for (const k of ['expectedVersion', 'executionNumber'])
      if (req[k] !== undefined && !Number.isInteger(req[k]))
        throw new JobRequestError('InvalidRequest', `${k} must be an integer`);
    const e = this.ctx.store.jobs.execution(jobId, thing);
    if (!e) throw new JobRequestError('ResourceNotFound', `job ${jobId} has no execution for thing ${thing}`);
    if (req.executionNumber !== undefined && req.executionNumber !== e.executionNumber)
      throw new JobRequestError(
        'InvalidRequest',
        `executionNumber ${String(req.executionNumber)} does not match ${e.executionNumber}`,
        e,
      );
    if (req.expectedVersion !== undefined && req.expectedVersion !== e.versionNumber)
      throw new JobRequestError(
        'VersionMismatch',
        `expectedVersion ${String(req.expectedVersion)} does not match the current version ${e.versionNumber}`,
        e,
      );
    if (TERMINAL_EXECUTION_STATUSES.includes(e.status))
      throw new JobRequestError(
        'InvalidStateTransition',
        `the execution of job ${jobId} on ${thing} is ${e.status}, a terminal status; it cannot become ${status}`,
        e,
      );
    const now = this.ctx.now();
    const updated: JobExecutionRecord = {
      ...e,
      status: status as JobExecutionRecord['status'],
      statusDetails: details ?? e.statusDetails,
      startedMs: e.startedMs ?? now,
      lastUpdatedMs: now,
      versionNumber: e.versionNumber + 1,
    };
    this.ctx.store.transaction(() => this.save(updated));
    // The pending list changes when an execution leaves it [CL-11].
    if (TERMINAL_EXECUTION_STATUSES.includes(updated.status))
      this.notify(thing).catch((err: unknown) => this.log(`jobs: notify ${thing} failed: ${String(err)}`));
    const out: Obj = {};
    if (req.includeJobExecutionState === true)
      out.executionState = {
        status: updated.status,
        statusDetails: updated.statusDetails,
        versionNumber: updated.versionNumber,
      };
    if (req.includeJobDocument === true) out.jobDocument = this.ctx.store.jobs.getJob(jobId)?.document;
    return out;
  }
}

function parseJson(payload: Buffer): Obj {
  if (payload.length === 0) return {};
  let v: unknown;
  try {
    v = JSON.parse(payload.toString('utf8'));
  } catch (e) {
    throw new JobRequestError('InvalidJson', `the payload is not valid JSON: ${(e as Error).message}`);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    throw new JobRequestError('InvalidJson', 'the payload must be a JSON object');
  return v as Obj;
}

function parseStatusDetails(v: unknown): Record<string, string> | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'object' || Array.isArray(v))
    throw new JobRequestError('InvalidRequest', 'statusDetails must be an object of strings');
  const out: Record<string, string> = {};
  for (const [k, val] of Object.entries(v as Obj)) {
    if (!/^[a-zA-Z0-9:_-]{1,128}$/.test(k))
      throw new JobRequestError(
        'InvalidRequest',
        `statusDetails key ${JSON.stringify(k)} must match [a-zA-Z0-9:_-]{1,128}`,
      );
    if (typeof val !== 'string' || val.length > 1024)
      throw new JobRequestError(
        'InvalidRequest',
        `statusDetails.${k} must be a string of at most 1024 characters`,
      );
    out[k] = val;
  }
  return out;
}
