// Deployments: one latest revision per target [CP-28], [CP-38], [CP-44]. A new deployment for a target
// becomes its next revision and the previous one goes INACTIVE (CP-63).
import type { Db } from './db.js';

export type DeploymentStatus = 'ACTIVE' | 'COMPLETED' | 'CANCELED' | 'FAILED' | 'INACTIVE';

/** The request members that define what is deployed, stored as given. */
export interface DeploymentSpec {
  components?: Record<string, unknown>;
  deploymentPolicies?: Record<string, unknown>;
  iotJobConfiguration?: Record<string, unknown>;
}

export interface DeploymentRecord {
  deploymentId: string;
  targetArn: string;
  revisionId: string;
  deploymentName?: string;
  deploymentStatus: DeploymentStatus;
  iotJobId?: string;
  iotJobArn?: string;
  spec: DeploymentSpec;
  createdMs: number;
  isLatestForTarget: boolean;
  parentTargetArn?: string;
}

export interface NewDeployment {
  deploymentId: string;
  targetArn: string;
  deploymentName?: string;
  iotJobId?: string;
  iotJobArn?: string;
  spec: DeploymentSpec;
  createdMs: number;
  parentTargetArn?: string;
}

export interface DeploymentFilter {
  targetArn?: string;
  parentTargetArn?: string;
  latestOnly: boolean;
}

interface Row {
  id: string;
  target_arn: string;
  revision: number;
  name: string | null;
  status: string;
  job_id: string | null;
  job_arn: string | null;
  spec: string;
  created_ms: number;
  is_latest: number;
  parent_target_arn: string | null;
}

function fromRow(r: Row): DeploymentRecord {
  return {
    deploymentId: r.id,
    targetArn: r.target_arn,
    revisionId: String(r.revision),
    deploymentName: r.name ?? undefined,
    deploymentStatus: r.status as DeploymentStatus,
    iotJobId: r.job_id ?? undefined,
    iotJobArn: r.job_arn ?? undefined,
    spec: JSON.parse(r.spec) as DeploymentSpec,
    createdMs: r.created_ms,
    isLatestForTarget: r.is_latest === 1,
    parentTargetArn: r.parent_target_arn ?? undefined,
  };
}

export class DeploymentStore {
  constructor(private readonly db: Db) {}

  /** Inserts the next revision for the target; returns it and the revision it superseded, if any. */
  create(d: NewDeployment): { created: DeploymentRecord; superseded?: DeploymentRecord } {
    const prev = this.db
      .prepare('SELECT * FROM deployments WHERE target_arn = ? AND is_latest = 1')
      .get(d.targetArn) as Row | undefined;
    const maxRev = this.db
      .prepare('SELECT COALESCE(MAX(revision), 0) AS r FROM deployments WHERE target_arn = ?')
      .get(d.targetArn) as { r: number };
    const seq = this.db.prepare('SELECT COALESCE(MAX(seq), 0) + 1 AS s FROM deployments').get() as {
      s: number;
    };
    if (prev) {
      this.db
        .prepare(
          `UPDATE deployments SET is_latest = 0, status = CASE WHEN status = 'ACTIVE' THEN 'INACTIVE' ELSE status END WHERE id = ?`,
        )
        .run(prev.id);
    }
    this.db
      .prepare(
        `INSERT INTO deployments (id, seq, target_arn, revision, name, status, job_id, job_arn, spec, created_ms, is_latest, parent_target_arn)
         VALUES (?, ?, ?, ?, ?, 'ACTIVE', ?, ?, ?, ?, 1, ?)`,
      )
      .run(
        d.deploymentId,
        seq.s,
        d.targetArn,
        maxRev.r + 1,
        d.deploymentName ?? null,
        d.iotJobId ?? null,
        d.iotJobArn ?? null,
        JSON.stringify(d.spec),
        d.createdMs,
        d.parentTargetArn ?? null,
      );
    return { created: this.get(d.deploymentId)!, superseded: prev ? this.get(prev.id) : undefined };
  }

  get(id: string): DeploymentRecord | undefined {
    const row = this.db.prepare('SELECT * FROM deployments WHERE id = ?').get(id) as Row | undefined;
    return row ? fromRow(row) : undefined;
  }

  /** Newest first. */
  list(filter: DeploymentFilter): DeploymentRecord[] {
    const where: string[] = [];
    const args: unknown[] = [];
    if (filter.latestOnly) where.push('is_latest = 1');
    if (filter.targetArn !== undefined) {
      where.push('target_arn = ?');
      args.push(filter.targetArn);
    }
    if (filter.parentTargetArn !== undefined) {
      where.push('parent_target_arn = ?');
      args.push(filter.parentTargetArn);
    }
    const sql = `SELECT * FROM deployments ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY seq DESC`;
    return (this.db.prepare(sql).all(...args) as Row[]).map(fromRow);
  }

  setStatus(id: string, status: DeploymentStatus): void {
    this.db.prepare('UPDATE deployments SET status = ? WHERE id = ?').run(status, id);
  }

  delete(id: string): boolean {
    return this.db.prepare('DELETE FROM deployments WHERE id = ?').run(id).changes > 0;
  }
}
