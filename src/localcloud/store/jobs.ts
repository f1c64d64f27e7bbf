// IoT jobs in the aws-gg-deployment namespace (cloud.md section 1): one job per thing-group deployment
// revision (CP-63), one execution per member thing. Executions carry the IoT job version number and
// timestamps the jobs MQTT API reports (CL-08).
import type { Db } from './db.js';

export type JobExecutionStatus =
  'QUEUED' | 'IN_PROGRESS' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'REJECTED' | 'REMOVED' | 'CANCELED';

export type JobStatus = 'IN_PROGRESS' | 'CANCELED' | 'COMPLETED';

export const TERMINAL_EXECUTION_STATUSES: readonly JobExecutionStatus[] = [
  'SUCCEEDED',
  'FAILED',
  'TIMED_OUT',
  'REJECTED',
  'REMOVED',
  'CANCELED',
];

export interface JobRecord {
  jobId: string;
  deploymentId: string;
  targetArn: string;
  document: Record<string, unknown>;
  status: JobStatus;
  createdMs: number;
}

export interface JobExecutionRecord {
  jobId: string;
  thingName: string;
  status: JobExecutionStatus;
  statusDetails: Record<string, string>;
  queuedMs: number;
  startedMs?: number;
  lastUpdatedMs: number;
  versionNumber: number;
  executionNumber: number;
}

interface ExecRow {
  job_id: string;
  thing: string;
  status: string;
  status_details: string;
  queued_ms: number;
  started_ms: number | null;
  updated_ms: number;
  version: number;
  execution_number: number;
}

function execFromRow(r: ExecRow): JobExecutionRecord {
  return {
    jobId: r.job_id,
    thingName: r.thing,
    status: r.status as JobExecutionStatus,
    statusDetails: JSON.parse(r.status_details) as Record<string, string>,
    queuedMs: r.queued_ms,
    startedMs: r.started_ms ?? undefined,
    lastUpdatedMs: r.updated_ms,
    versionNumber: r.version,
    executionNumber: r.execution_number,
  };
}

export class JobStore {
  constructor(private readonly db: Db) {}

  createJob(job: JobRecord): void {
    this.db
      .prepare(
        'INSERT INTO jobs (job_id, deployment_id, target_arn, document, status, created_ms) VALUES (?, ?, ?, ?, ?, ?)',
      )
      .run(
        job.jobId,
        job.deploymentId,
        job.targetArn,
        JSON.stringify(job.document),
        job.status,
        job.createdMs,
      );
  }

  getJob(jobId: string): JobRecord | undefined {
    const r = this.db.prepare('SELECT * FROM jobs WHERE job_id = ?').get(jobId) as
      | {
          job_id: string;
          deployment_id: string;
          target_arn: string;
          document: string;
          status: string;
          created_ms: number;
        }
      | undefined;
    if (!r) return undefined;
    return {
      jobId: r.job_id,
      deploymentId: r.deployment_id,
      targetArn: r.target_arn,
      document: JSON.parse(r.document) as Record<string, unknown>,
      status: r.status as JobStatus,
      createdMs: r.created_ms,
    };
  }

  setJobStatus(jobId: string, status: JobStatus): void {
    this.db.prepare('UPDATE jobs SET status = ? WHERE job_id = ?').run(status, jobId);
  }

  /** Queues an execution for each thing that has none for this job yet; returns the things queued. */
  queueExecutions(jobId: string, things: string[], nowMs: number): string[] {
    const put = this.db.prepare(
      `INSERT OR IGNORE INTO job_executions
       (job_id, thing, status, status_details, queued_ms, started_ms, updated_ms, version, execution_number)
       VALUES (?, ?, 'QUEUED', '{}', ?, NULL, ?, 1, 1)`,
    );
    return things.filter((t) => put.run(jobId, t, nowMs, nowMs).changes > 0);
  }

  execution(jobId: string, thing: string): JobExecutionRecord | undefined {
    const r = this.db
      .prepare('SELECT * FROM job_executions WHERE job_id = ? AND thing = ?')
      .get(jobId, thing) as ExecRow | undefined;
    return r ? execFromRow(r) : undefined;
  }

  executionsOfJob(jobId: string): JobExecutionRecord[] {
    return (
      this.db.prepare('SELECT * FROM job_executions WHERE job_id = ? ORDER BY thing').all(jobId) as ExecRow[]
    ).map(execFromRow);
  }

  /** The thing's QUEUED and IN_PROGRESS executions, oldest queued first. */
  pending(thing: string): JobExecutionRecord[] {
    return (
      this.db
        .prepare(
          `SELECT * FROM job_executions WHERE thing = ? AND status IN ('QUEUED', 'IN_PROGRESS')
           ORDER BY queued_ms, job_id`,
        )
        .all(thing) as ExecRow[]
    ).map(execFromRow);
  }

  /** Writes a new state of an execution (the caller has bumped versionNumber). */
  saveExecution(e: JobExecutionRecord): void {
    this.db
      .prepare(
        `UPDATE job_executions SET status = ?, status_details = ?, started_ms = ?, updated_ms = ?, version = ?
         WHERE job_id = ? AND thing = ?`,
      )
      .run(
        e.status,
        JSON.stringify(e.statusDetails),
        e.startedMs ?? null,
        e.lastUpdatedMs,
        e.versionNumber,
        e.jobId,
        e.thingName,
      );
  }
}
