// Fleet status (cloud.md section 3) on `$aws/things/<thing>/greengrassv2/health/json`: a COMPLETE
// message at launch (NUCLEUS_LAUNCH), a PARTIAL one after every terminal deployment status with its
// deploymentInformation, and one when a component turns ERRORED or BROKEN [CL-48, CL-49]; the
// sequence number is persisted [CF-59]; UNHEALTHY when any service is BROKEN [CL-51]. Messages of
// cloud deployments are spooled offline, the others are dropped while disconnected [CL-52].
import type { ConfigStore, JsonObject } from '../config/index.js';
import type { DeploymentStatusReporter, ProcessedDeployment } from '../deployment/index.js';
import type { IotConnection } from './connection.js';

export const FLEET_STATUS_SEQUENCE_PATH = ['services', 'FleetStatusService', 'sequenceNumber'];
const MAX_MESSAGE_BYTES = 128_000;

export type FleetStatusTrigger =
  | 'NUCLEUS_LAUNCH'
  | 'CADENCE'
  | 'NETWORK_RECONFIGURE'
  | 'THING_GROUP_DEPLOYMENT'
  | 'THING_DEPLOYMENT'
  | 'LOCAL_DEPLOYMENT'
  | 'COMPONENT_STATUS_CHANGE'
  | 'RECONNECT';

export interface ComponentStatusInfo {
  componentName: string;
  version: string;
  fleetConfigArns: string[];
  componentStatusDetails: { statusCodes: string[]; statusReason: string } | null;
  isRoot: boolean;
  status: string;
}

export interface FleetStatusOptions {
  connection: IotConnection;
  store: ConfigStore;
  ggcVersion: string;
  platform: string;
  architecture: string;
  /** Every service with its version and lifecycle state; isRoot and fleetConfigArns from the groups. */
  components(): ComponentStatusInfo[];
  log?: (msg: string) => void;
}

const TRIGGERS: Record<string, FleetStatusTrigger> = {
  IOT_JOBS: 'THING_GROUP_DEPLOYMENT',
  SHADOW: 'THING_DEPLOYMENT',
  LOCAL: 'LOCAL_DEPLOYMENT',
};

export class FleetStatusService {
  readonly reporter: DeploymentStatusReporter;
  private launched = false;
  /** Service names the cloud last heard of (the launch's COMPLETE list, then each deployment's). */
  private known: Set<string> | undefined;
  /** Messages sent (or spooled) so far. */
  sent = 0;

  constructor(private readonly o: FleetStatusOptions) {
    this.reporter = { name: 'FleetStatus', report: (s) => this.onDeploymentStatus(s) };
  }

  /** NUCLEUS_LAUNCH on the first connection. */
  start(): void {
    this.o.connection.onConnect(() => {
      if (this.launched) return;
      this.launched = true;
      const all = this.o.components();
      this.known = new Set(all.map((c) => c.componentName));
      void this.publish('NUCLEUS_LAUNCH', all, undefined, false);
    });
  }

  /** A component changed state: report ERRORED and BROKEN [CL-49]. */
  componentStateChanged(component: string, state: string): void {
    if (state !== 'ERRORED' && state !== 'BROKEN') return;
    const c = this.o.components().filter((x) => x.componentName === component);
    if (c.length > 0) void this.publish('COMPONENT_STATUS_CHANGE', c, undefined, false);
  }

  private async onDeploymentStatus(s: ProcessedDeployment): Promise<boolean> {
    if (s.DeploymentStatus === 'IN_PROGRESS') return true;
    const roots = new Set(s.DeploymentRootPackages);
    const all = this.o.components();
    // [CL-48] PARTIAL: the deployment's components (roots and what they brought along).
    const listed = all.filter(
      (c) => roots.has(c.componentName) || c.fleetConfigArns.includes(s.ConfigurationArn),
    );
    // [CL-47] a component gone since the last report is reported once as UNINSTALLED, so that the
    // cloud prunes it from the installed components
    const present = new Set(all.map((c) => c.componentName));
    for (const name of this.known ?? [])
      if (!present.has(name))
        listed.push({
          componentName: name,
          version: '',
          fleetConfigArns: [],
          componentStatusDetails: null,
          isRoot: false,
          status: 'UNINSTALLED',
        });
    this.known = present;
    const d = s.DeploymentStatusDetails;
    const list = (v: string | undefined): string[] | null => {
      if (v === undefined) return null;
      try {
        return JSON.parse(v) as string[];
      } catch {
        return [v];
      }
    };
    const info = {
      status: s.DeploymentStatus,
      statusDetails: {
        detailedStatus: d['detailed-deployment-status'] ?? null,
        failureCause: d['deployment-failure-cause'] ?? null,
        errorStack: list(d['deployment-error-stack']),
        errorTypes: list(d['deployment-error-types']),
      },
      fleetConfigurationArnForStatus: s.ConfigurationArn,
      deploymentId: s.GreengrassDeploymentId,
      unchangedRootComponents: [],
    };
    const cloud = s.DeploymentType !== 'LOCAL';
    if (!cloud && !this.o.connection.connected) return true;
    // Spooled (cloud deployments, [CL-52]): accepted once it is in the spool.
    const sent = this.publish(TRIGGERS[s.DeploymentType], listed, info, cloud);
    sent.catch(() => undefined);
    return true;
  }

  private async publish(
    trigger: FleetStatusTrigger,
    components: ComponentStatusInfo[],
    deploymentInformation: JsonObject | undefined,
    spoolOffline: boolean,
  ): Promise<void> {
    const c = this.o.connection;
    if (!spoolOffline && !c.connected) return;
    const seq = Number(this.o.store.config.get(FLEET_STATUS_SEQUENCE_PATH) ?? 0) + 1;
    await this.o.store.set(FLEET_STATUS_SEQUENCE_PATH, seq);
    const complete =
      trigger === 'NUCLEUS_LAUNCH' || trigger === 'CADENCE' || trigger === 'NETWORK_RECONFIGURE';
    const all = this.o.components();
    const message = {
      ggcVersion: this.o.ggcVersion,
      platform: this.o.platform,
      architecture: this.o.architecture,
      thing: c.thingName,
      overallDeviceStatus: all.some((x) => x.status === 'BROKEN') ? 'UNHEALTHY' : 'HEALTHY',
      sequenceNumber: seq,
      timestamp: Date.now(),
      messageType: complete ? 'COMPLETE' : 'PARTIAL',
      trigger,
      components,
      ...(deploymentInformation ? { deploymentInformation } : {}),
    };
    const topic = `$aws/things/${c.thingName}/greengrassv2/health/json`;
    const chunks = chunk(message, components);
    this.sent++;
    try {
      await Promise.all(chunks.map((m) => c.publish(topic, m, { qos: 1, spoolOffline })));
    } catch (e) {
      this.o.log?.(`fleet status ${trigger} not sent: ${(e as Error).message}`);
    }
  }
}

/** [CL-45] split over components above 128,000 bytes, with chunkInfo only when there are several. */
function chunk(
  message: Record<string, unknown>,
  components: ComponentStatusInfo[],
): Array<Record<string, unknown>> {
  if (Buffer.byteLength(JSON.stringify(message)) <= MAX_MESSAGE_BYTES || components.length <= 1)
    return [message];
  const base = Buffer.byteLength(JSON.stringify({ ...message, components: [] })) + 64;
  const groups: ComponentStatusInfo[][] = [[]];
  let size = base;
  for (const c of components) {
    const n = Buffer.byteLength(JSON.stringify(c)) + 1;
    if (size + n > MAX_MESSAGE_BYTES && groups[groups.length - 1].length > 0) {
      groups.push([]);
      size = base;
    }
    groups[groups.length - 1].push(c);
    size += n;
  }
  return groups.map((g, i) => ({
    ...message,
    chunkInfo: { chunkId: i + 1, totalChunks: groups.length },
    components: g,
  }));
}
