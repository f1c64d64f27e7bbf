// Fleet status consumer (cloud.md section 3): messages on `$aws/things/<thing>/greengrassv2/health/json`
// drive the core device record and its installed components [CL-46], [CL-47], [CL-53]. A malformed message
// changes nothing; the reason, naming the field, is logged and returned.
import type { CloudContext } from '../context.js';
import type { LifecycleState, ReportedComponent } from '../store/index.js';

const TOPIC = /^\$aws\/things\/([^/]+)\/greengrassv2\/health\/json$/;
const STATES = [
  'NEW',
  'INSTALLED',
  'STARTING',
  'RUNNING',
  'STOPPING',
  'ERRORED',
  'BROKEN',
  'FINISHED',
  'UNINSTALLED',
  'UNINSTALLING',
  'STATELESS',
];

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

export class FleetStatusError extends Error {}

function str(o: Obj, key: string, field = key): string | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw new FleetStatusError(`${field} must be a string`);
  return v;
}

export class FleetStatusConsumer {
  constructor(
    private readonly ctx: CloudContext,
    private readonly log: (msg: string) => void,
  ) {}

  /** Handles a device publish; returns false if the topic is not the fleet status topic. */
  handle(thing: string, topic: string, payload: Buffer): boolean {
    const m = TOPIC.exec(topic);
    if (!m) return false;
    if (m[1] !== thing) {
      this.log(`fleet status: ${thing} published for another thing (${m[1]}); ignored`);
      return true;
    }
    try {
      this.consume(thing, payload);
    } catch (e) {
      if (!(e instanceof FleetStatusError)) throw e;
      this.log(`fleet status from ${thing} refused: ${e.message}`);
    }
    return true;
  }

  /** Applies one message; throws FleetStatusError naming the bad field, before any change. */
  consume(thing: string, payload: Buffer): void {
    let msg: unknown;
    try {
      msg = JSON.parse(payload.toString('utf8'));
    } catch (e) {
      throw new FleetStatusError(`the payload is not valid JSON: ${(e as Error).message}`);
    }
    if (!isObj(msg)) throw new FleetStatusError('the payload must be a JSON object');
    const status = msg.overallDeviceStatus;
    if (status !== 'HEALTHY' && status !== 'UNHEALTHY')
      throw new FleetStatusError('overallDeviceStatus must be HEALTHY or UNHEALTHY');
    const timestamp = msg.timestamp;
    if (typeof timestamp !== 'number' || !Number.isFinite(timestamp) || timestamp < 0)
      throw new FleetStatusError('timestamp must be a number of epoch milliseconds');
    const messageType = msg.messageType;
    if (messageType !== 'COMPLETE' && messageType !== 'PARTIAL')
      throw new FleetStatusError('messageType must be COMPLETE or PARTIAL');
    if (msg.thing !== undefined && msg.thing !== thing)
      throw new FleetStatusError(`thing ${String(msg.thing)} does not match the topic's thing ${thing}`);
    const chunk = msg.chunkInfo;
    if (chunk !== undefined && chunk !== null && (!isObj(chunk) || !Number.isInteger(chunk.chunkId)))
      throw new FleetStatusError('chunkInfo.chunkId must be an integer');
    const info = msg.deploymentInformation;
    if (info !== undefined && info !== null && !isObj(info))
      throw new FleetStatusError('deploymentInformation must be an object');
    const source = isObj(info) ? str(info, 'deploymentId', 'deploymentInformation.deploymentId') : undefined;
    const unchanged =
      isObj(info) && Array.isArray(info.unchangedRootComponents) ? info.unchangedRootComponents : [];
    const rawComponents = msg.components ?? [];
    if (!Array.isArray(rawComponents)) throw new FleetStatusError('components must be a list');
    const previous = new Map(
      this.ctx.store.coreDevices.installedComponents(thing, false).map((c) => [c.componentName, c]),
    );
    const components: ReportedComponent[] = rawComponents.map((c, i) => {
      const f = `components[${i}]`;
      if (!isObj(c)) throw new FleetStatusError(`${f} must be an object`);
      const name = str(c, 'componentName', `${f}.componentName`);
      if (!name) throw new FleetStatusError(`${f}.componentName is required`);
      const state = str(c, 'status', `${f}.status`);
      if (state !== undefined && !STATES.includes(state))
        throw new FleetStatusError(`${f}.status ${state} is not a lifecycle state`);
      const details = c.componentStatusDetails;
      if (details !== undefined && details !== null && !isObj(details))
        throw new FleetStatusError(`${f}.componentStatusDetails must be an object or null`);
      const codes = isObj(details) ? details.statusCodes : undefined;
      if (codes !== undefined && codes !== null && !Array.isArray(codes))
        throw new FleetStatusError(`${f}.componentStatusDetails.statusCodes must be a list`);
      const before = previous.get(name);
      return {
        componentName: name,
        componentVersion: str(c, 'version', `${f}.version`) || undefined,
        lifecycleState: (state === 'UNINSTALLING' || state === 'STATELESS' ? undefined : state) as
          LifecycleState | 'UNINSTALLED' | undefined,
        lifecycleStateDetails: isObj(details)
          ? str(details, 'statusReason', `${f}.componentStatusDetails.statusReason`)
          : undefined,
        lifecycleStatusCodes: Array.isArray(codes) ? codes.map(String) : undefined,
        isRoot: c.isRoot === true,
        lastStatusChangeMs: before && before.lifecycleState === state ? before.lastStatusChangeMs : timestamp,
        lastReportedMs: timestamp,
        lastInstallationSource: source ?? before?.lastInstallationSource,
      };
    });
    this.ctx.store.transaction(() => {
      this.ctx.store.coreDevices.recordStatus({
        coreDeviceThingName: thing,
        coreVersion: str(msg, 'ggcVersion'),
        platform: str(msg, 'platform'),
        architecture: str(msg, 'architecture'),
        runtime: str(msg, 'runtime') ?? 'aws_nucleus_classic',
        status,
        lastStatusUpdateMs: timestamp,
      });
      const firstChunk = !isObj(chunk) || chunk.chunkId === 1;
      if (messageType === 'COMPLETE' && firstChunk)
        this.ctx.store.coreDevices.replaceInstalledComponents(thing, components);
      else this.ctx.store.coreDevices.upsertInstalledComponents(thing, components);
      // Unchanged root components were reported on too (CL-53).
      const listed = new Set(components.map((c) => c.componentName));
      const touch = this.ctx.store.coreDevices
        .installedComponents(thing, false)
        .filter((c) => unchanged.includes(c.componentName) && !listed.has(c.componentName))
        .map((c) => ({ ...c, lastReportedMs: timestamp }));
      this.ctx.store.coreDevices.upsertInstalledComponents(thing, touch);
    });
  }
}
