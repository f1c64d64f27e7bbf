// The device's own record of deployment outcomes: a status consumer of the deployment outbox that
// keeps the latest status of the last deployments in the config tree (durable), for the CLI's
// GetLocalDeploymentStatus / ListLocalDeployments and for `tendril` status views.
import type { ConfigStore, JsonObject } from '../config/index.js';
import type { DeploymentStatusReporter, ProcessedDeployment } from '../deployment/index.js';

export const DEPLOYMENT_HISTORY_PATH = [
  'services',
  'DeploymentService',
  'runtime',
  'DeploymentHistory',
] as const;

export interface DeploymentRecord {
  deploymentId: string;
  type: string;
  status: string;
  details: Record<string, string>;
  rootComponents: string[];
  updatedAt: number;
}

export class DeploymentHistory implements DeploymentStatusReporter {
  readonly name = 'DeploymentHistory';

  constructor(
    private readonly store: ConfigStore,
    private readonly keep = 50,
  ) {}

  async report(s: ProcessedDeployment): Promise<boolean> {
    const id = s.DeploymentId;
    const record: DeploymentRecord = {
      deploymentId: id,
      type: s.DeploymentType,
      status: s.DeploymentStatus,
      details: s.DeploymentStatusDetails,
      rootComponents: s.DeploymentRootPackages,
      updatedAt: this.store.config.now(),
    };
    await this.store.merge(record as unknown as JsonObject, { at: [...DEPLOYMENT_HISTORY_PATH, id] });
    const all = this.list();
    for (const old of all.slice(this.keep))
      await this.store.remove([...DEPLOYMENT_HISTORY_PATH, old.deploymentId]);
    return true;
  }

  /** Newest first. */
  list(): DeploymentRecord[] {
    const map = this.store.config.toMap([...DEPLOYMENT_HISTORY_PATH]);
    return (Object.values(map) as unknown as DeploymentRecord[]).sort((a, b) => b.updatedAt - a.updatedAt);
  }

  get(id: string): DeploymentRecord | undefined {
    return this.list().find((r) => r.deploymentId === id);
  }
}
