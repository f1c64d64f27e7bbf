// Wires the device-facing side into one local cloud: the CA and server certificate, the mutual-TLS data
// plane, the MQTT broker and the in-process services behind it (jobs, shadows, fleet status), driven by the
// control plane's events.
import type { CloudContext } from '../context.js';
import { startDeviceBroker, type DeviceBroker } from './broker.js';
import { startMosquittoBroker, type BrokerSelection } from './broker-mosquitto.js';
import { startDataPlane, type DataPlaneServer } from './data-plane.js';
import { FleetStatusConsumer } from './fleet-status.js';
import { JobsService } from './jobs.js';
import { LocalCa } from './pki.js';
import { DEFAULT_DEVICE_POLICY, devicePolicyProblem, type DevicePolicy } from './policy.js';
import type { DeviceEndpoints } from './provision.js';
import { ShadowService } from './shadows.js';
import { TelemetryConsumer } from './telemetry.js';

export interface DevicePlaneOptions {
  dataDir: string;
  host: string;
  dataPlanePort: number;
  mqttPort: number;
  policy?: DevicePolicy;
  roleAliases: string[];
  /** Default: the embedded broker. */
  broker?: BrokerSelection;
  log(msg: string): void;
}

export interface DevicePlane {
  readonly ca: LocalCa;
  readonly endpoints: DeviceEndpoints;
  readonly broker: DeviceBroker;
  readonly jobs: JobsService;
  readonly shadows: ShadowService;
  readonly fleetStatus: FleetStatusConsumer;
  readonly telemetry: TelemetryConsumer;
  /** Resolves when every event handler started so far has published its messages. */
  idle(): Promise<void>;
  close(): Promise<void>;
}

export async function startDevicePlane(ctx: CloudContext, opts: DevicePlaneOptions): Promise<DevicePlane> {
  const policy = opts.policy ?? DEFAULT_DEVICE_POLICY;
  const problem = devicePolicyProblem(policy);
  if (problem) throw new Error(`invalid device policy: ${problem}`);
  const ca = await LocalCa.open(opts.dataDir);
  const identity = await ca.issueServer([opts.host]);
  const selection = opts.broker ?? { kind: 'embedded' };
  const isKnownThing = (t: string) => ctx.store.things.get(t) !== undefined;
  const broker =
    selection.kind === 'embedded'
      ? await startDeviceBroker({
          host: opts.host,
          port: opts.mqttPort,
          identity,
          policy,
          isKnownThing,
          log: opts.log,
        })
      : await startMosquittoBroker({
          selection,
          dataDir: opts.dataDir,
          host: opts.host,
          port: opts.mqttPort,
          identity,
          policy,
          ca,
          isKnownThing,
          log: opts.log,
        });
  let dataPlane: DataPlaneServer;
  try {
    dataPlane = await startDataPlane(ctx, {
      host: opts.host,
      port: opts.dataPlanePort,
      identity,
      roleAliases: () => opts.roleAliases,
      log: opts.log,
    });
  } catch (e) {
    await broker.close();
    throw e;
  }
  const jobs = new JobsService(ctx, broker, opts.log);
  const shadows = new ShadowService(ctx, broker, opts.log);
  const fleetStatus = new FleetStatusConsumer(ctx, opts.log);
  const telemetry = new TelemetryConsumer(opts.dataDir, () => ctx.now(), opts.log);
  broker.onPublish((thing, topic, payload) => {
    if (jobs.handle(thing, topic, payload)) return;
    if (shadows.handle(thing, topic, payload)) return;
    if (telemetry.handle(thing, topic, payload)) return;
    fleetStatus.handle(thing, topic, payload);
  });
  const pending = new Set<Promise<void>>();
  const track = (p: Promise<void>) => {
    const q = p
      .catch((e: unknown) => opts.log(`device plane: ${String(e)}`))
      .finally(() => pending.delete(q));
    pending.add(q);
  };
  broker.onConnect((thing) => {
    for (const g of ctx.store.coreDevices.thingGroupsOf(thing)) track(jobs.thingAddedToGroup(g, thing));
  });
  const onCreated: Parameters<typeof ctx.events.on<'deploymentCreated'>>[1] = (d, superseded) => {
    track(jobs.deploymentCreated(d, superseded));
    track(shadows.deploymentCreated(d));
  };
  const onCanceled: Parameters<typeof ctx.events.on<'deploymentCanceled'>>[1] = (d) => {
    track(jobs.deploymentCanceled(d));
    track(shadows.deploymentCanceled(d));
  };
  const onConnectivity: Parameters<typeof ctx.events.on<'connectivityInfoUpdated'>>[1] = (thing, version) =>
    track(shadows.connectivityInfoUpdated(thing, version));
  ctx.events.on('deploymentCreated', onCreated);
  ctx.events.on('deploymentCanceled', onCanceled);
  ctx.events.on('connectivityInfoUpdated', onConnectivity);
  track(jobs.reconcile());
  const host = opts.host.includes(':') ? `[${opts.host}]` : opts.host;
  const endpoints: DeviceEndpoints = {
    region: ctx.arn.region,
    accountId: ctx.arn.accountId,
    deviceHost: opts.host,
    dataPlane: `https://${host}:${dataPlane.port}`,
    dataPlanePort: dataPlane.port,
    mqttPort: broker.port,
    credentialsEndpoint: `${host}:${dataPlane.port}`,
    roleAlias: opts.roleAliases[0] ?? 'GreengrassV2TokenExchangeRoleAlias',
    caPath: ca.caPath,
  };
  const idle = async () => {
    while (pending.size > 0) await Promise.all([...pending]);
  };
  return {
    ca,
    endpoints,
    broker,
    jobs,
    shadows,
    fleetStatus,
    telemetry,
    idle,
    close: async () => {
      ctx.events.off('deploymentCreated', onCreated);
      ctx.events.off('deploymentCanceled', onCanceled);
      ctx.events.off('connectivityInfoUpdated', onConnectivity);
      await idle();
      await dataPlane.close();
      await broker.close();
      telemetry.close();
    },
  };
}
