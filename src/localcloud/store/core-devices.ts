// Core devices and what they report: status, installed components, effective deployments, thing-group
// membership. These are written by the device-facing side (fleet status, job executions, shadows; cloud.md
// CL-53) through this API, and read by the control plane [CP-37], [CP-43], [CP-45], [CP-46].
import type { Db } from './db.js';

export type CoreDeviceStatus = 'HEALTHY' | 'UNHEALTHY';

export interface CoreDeviceRecord {
  coreDeviceThingName: string;
  coreVersion?: string;
  platform?: string;
  architecture?: string;
  runtime?: string;
  status: CoreDeviceStatus;
  lastStatusUpdateMs: number;
}

export type LifecycleState =
  'NEW' | 'INSTALLED' | 'STARTING' | 'RUNNING' | 'STOPPING' | 'ERRORED' | 'BROKEN' | 'FINISHED';

export interface InstalledComponentRecord {
  componentName: string;
  componentVersion?: string;
  lifecycleState?: LifecycleState;
  lifecycleStateDetails?: string;
  isRoot: boolean;
  lastStatusChangeMs?: number;
  lastReportedMs?: number;
  lastInstallationSource?: string;
  lifecycleStatusCodes?: string[];
}

/** A component as a device reports it; `UNINSTALLED` removes it from the inventory (CL-47). */
export type ReportedComponent = Omit<InstalledComponentRecord, 'lifecycleState'> & {
  lifecycleState?: LifecycleState | 'UNINSTALLED';
};

export type EffectiveDeploymentStatus =
  'IN_PROGRESS' | 'QUEUED' | 'FAILED' | 'COMPLETED' | 'TIMED_OUT' | 'CANCELED' | 'REJECTED' | 'SUCCEEDED';

export interface EffectiveDeploymentRecord {
  deploymentId: string;
  deploymentName: string;
  iotJobId?: string;
  iotJobArn?: string;
  description?: string;
  targetArn: string;
  coreDeviceExecutionStatus: EffectiveDeploymentStatus;
  reason?: string;
  createdMs: number;
  modifiedMs: number;
  statusDetails?: { errorStack?: string[]; errorTypes?: string[] };
}

export interface CoreDeviceFilter {
  thingGroupName?: string;
  status?: CoreDeviceStatus;
  runtime?: string;
}

interface DeviceRow {
  thing: string;
  core_version: string | null;
  platform: string | null;
  architecture: string | null;
  runtime: string | null;
  status: string;
  last_update_ms: number;
}

interface InstalledRow {
  name: string;
  version: string | null;
  lifecycle_state: string | null;
  details: string | null;
  is_root: number;
  last_change_ms: number | null;
  last_reported_ms: number | null;
  source: string | null;
  status_codes: string | null;
}

interface EffectiveRow {
  deployment_id: string;
  name: string;
  job_id: string | null;
  job_arn: string | null;
  description: string | null;
  target_arn: string;
  status: string;
  reason: string | null;
  created_ms: number;
  modified_ms: number;
  details: string | null;
}

const opt = <T>(v: T | null): T | undefined => (v === null ? undefined : v);

export class CoreDeviceStore {
  constructor(private readonly db: Db) {}

  /** Creates or updates a core device from a status report (CL-53). */
  recordStatus(rec: CoreDeviceRecord): void {
    this.db
      .prepare(
        `INSERT INTO core_devices (thing, core_version, platform, architecture, runtime, status, last_update_ms)
         VALUES (?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (thing) DO UPDATE SET core_version = excluded.core_version, platform = excluded.platform,
           architecture = excluded.architecture, runtime = excluded.runtime, status = excluded.status,
           last_update_ms = excluded.last_update_ms`,
      )
      .run(
        rec.coreDeviceThingName,
        rec.coreVersion ?? null,
        rec.platform ?? null,
        rec.architecture ?? null,
        rec.runtime ?? null,
        rec.status,
        rec.lastStatusUpdateMs,
      );
  }

  get(thing: string): CoreDeviceRecord | undefined {
    const r = this.db.prepare('SELECT * FROM core_devices WHERE thing = ?').get(thing) as
      DeviceRow | undefined;
    return r ? deviceFromRow(r) : undefined;
  }

  /** In thing-name order. */
  list(filter: CoreDeviceFilter = {}): CoreDeviceRecord[] {
    const where: string[] = [];
    const args: unknown[] = [];
    if (filter.thingGroupName !== undefined) {
      where.push('thing IN (SELECT thing FROM thing_group_members WHERE group_name = ?)');
      args.push(filter.thingGroupName);
    }
    if (filter.status !== undefined) {
      where.push('status = ?');
      args.push(filter.status);
    }
    if (filter.runtime !== undefined) {
      where.push('runtime = ?');
      args.push(filter.runtime);
    }
    const sql = `SELECT * FROM core_devices ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY thing`;
    return (this.db.prepare(sql).all(...args) as DeviceRow[]).map(deviceFromRow);
  }

  /** Removes the device and everything recorded about it. */
  delete(thing: string): boolean {
    for (const table of ['installed_components', 'effective_deployments'])
      this.db.prepare(`DELETE FROM ${table} WHERE thing = ?`).run(thing);
    this.db.prepare('DELETE FROM client_devices WHERE core = ?').run(thing);
    return this.db.prepare('DELETE FROM core_devices WHERE thing = ?').run(thing).changes > 0;
  }

  addToThingGroup(groupName: string, thing: string): void {
    this.db
      .prepare('INSERT OR IGNORE INTO thing_group_members (group_name, thing) VALUES (?, ?)')
      .run(groupName, thing);
  }

  removeFromThingGroup(groupName: string, thing: string): void {
    this.db
      .prepare('DELETE FROM thing_group_members WHERE group_name = ? AND thing = ?')
      .run(groupName, thing);
  }

  thingGroupsOf(thing: string): string[] {
    const rows = this.db
      .prepare('SELECT group_name FROM thing_group_members WHERE thing = ? ORDER BY group_name')
      .all(thing) as { group_name: string }[];
    return rows.map((r) => r.group_name);
  }

  /** A COMPLETE report: the listed components become the whole inventory (CL-53). */
  replaceInstalledComponents(thing: string, components: ReportedComponent[]): void {
    this.db.prepare('DELETE FROM installed_components WHERE thing = ?').run(thing);
    this.upsertInstalledComponents(thing, components);
  }

  /** A PARTIAL report: upserts the listed components; `UNINSTALLED` removes one (CL-53). */
  upsertInstalledComponents(thing: string, components: ReportedComponent[]): void {
    const del = this.db.prepare('DELETE FROM installed_components WHERE thing = ? AND name = ?');
    const put = this.db.prepare(
      `INSERT OR REPLACE INTO installed_components
       (thing, name, version, lifecycle_state, details, is_root, last_change_ms, last_reported_ms, source, status_codes)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    for (const c of components) {
      if (c.lifecycleState === 'UNINSTALLED') {
        del.run(thing, c.componentName);
        continue;
      }
      put.run(
        thing,
        c.componentName,
        c.componentVersion ?? null,
        c.lifecycleState ?? null,
        c.lifecycleStateDetails ?? null,
        c.isRoot ? 1 : 0,
        c.lastStatusChangeMs ?? null,
        c.lastReportedMs ?? null,
        c.lastInstallationSource ?? null,
        c.lifecycleStatusCodes ? JSON.stringify(c.lifecycleStatusCodes) : null,
      );
    }
  }

  /** In component-name order; `rootOnly` is topologyFilter=ROOT. */
  installedComponents(thing: string, rootOnly: boolean): InstalledComponentRecord[] {
    const rows = this.db
      .prepare(
        `SELECT * FROM installed_components WHERE thing = ? ${rootOnly ? 'AND is_root = 1' : ''} ORDER BY name`,
      )
      .all(thing) as InstalledRow[];
    return rows.map((r) => ({
      componentName: r.name,
      componentVersion: opt(r.version),
      lifecycleState: opt(r.lifecycle_state) as LifecycleState | undefined,
      lifecycleStateDetails: opt(r.details),
      isRoot: r.is_root === 1,
      lastStatusChangeMs: opt(r.last_change_ms),
      lastReportedMs: opt(r.last_reported_ms),
      lastInstallationSource: opt(r.source),
      lifecycleStatusCodes: r.status_codes ? (JSON.parse(r.status_codes) as string[]) : undefined,
    }));
  }

  /** Creates or updates the device's view of one deployment (from a job execution or the shadow). */
  recordEffectiveDeployment(thing: string, rec: EffectiveDeploymentRecord): void {
    this.db
      .prepare(
        `INSERT OR REPLACE INTO effective_deployments
         (thing, deployment_id, name, job_id, job_arn, description, target_arn, status, reason, created_ms, modified_ms, details)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        thing,
        rec.deploymentId,
        rec.deploymentName,
        rec.iotJobId ?? null,
        rec.iotJobArn ?? null,
        rec.description ?? null,
        rec.targetArn,
        rec.coreDeviceExecutionStatus,
        rec.reason ?? null,
        rec.createdMs,
        rec.modifiedMs,
        rec.statusDetails ? JSON.stringify(rec.statusDetails) : null,
      );
  }

  /** Most recently modified first. */
  effectiveDeployments(thing: string): EffectiveDeploymentRecord[] {
    const rows = this.db
      .prepare('SELECT * FROM effective_deployments WHERE thing = ? ORDER BY modified_ms DESC, deployment_id')
      .all(thing) as EffectiveRow[];
    return rows.map((r) => ({
      deploymentId: r.deployment_id,
      deploymentName: r.name,
      iotJobId: opt(r.job_id),
      iotJobArn: opt(r.job_arn),
      description: opt(r.description),
      targetArn: r.target_arn,
      coreDeviceExecutionStatus: r.status as EffectiveDeploymentStatus,
      reason: opt(r.reason),
      createdMs: r.created_ms,
      modifiedMs: r.modified_ms,
      statusDetails: r.details
        ? (JSON.parse(r.details) as EffectiveDeploymentRecord['statusDetails'])
        : undefined,
    }));
  }
}

function deviceFromRow(r: DeviceRow): CoreDeviceRecord {
  return {
    coreDeviceThingName: r.thing,
    coreVersion: opt(r.core_version),
    platform: opt(r.platform),
    architecture: opt(r.architecture),
    runtime: opt(r.runtime),
    status: r.status as CoreDeviceStatus,
    lastStatusUpdateMs: r.last_update_ms,
  };
}
