// The nucleus in the cloud: when the configuration names a thing, its certificate and an IoT data
// endpoint, the nucleus connects over MQTT (src/iot), takes thing-group deployments from IoT Jobs,
// resolves and fetches components through the data plane, and reports fleet status. It also starts
// the token exchange service (tes-wiring.ts) and downloads s3:// artifacts with its credentials, all
// through the network proxy when one is configured [CF-40]. Without those keys the nucleus stays
// offline and nothing of src/iot (nor aws-crt) is loaded.
import type { ConfigStore, JsonObject, JsonValue } from '../config/index.js';
import {
  currentGroupRoots,
  type ComponentSource,
  type ComponentStore,
  type DeploymentEngine,
  type DeploymentQueue,
  type DeploymentStatusReporter,
} from '../deployment/index.js';
import type { LifecycleManager } from '../lifecycle/index.js';
import type { IotCoreLink } from '../ipc/index.js';
import type { DevicePlatform } from '../recipe/index.js';
import { TENDRIL_VERSION } from './nucleus-config.js';
import {
  forgetTokenExchange,
  startTokenExchange,
  withTokenExchangeService,
  type TokenExchange,
} from './tes-wiring.js';

export interface CloudWiring {
  /** Status consumers to add after the local history [DP-69]. */
  reporters: DeploymentStatusReporter[];
  /** Cloud resolution and artifact download for IOT_JOBS and SHADOW deployments. */
  source: ComponentSource;
  start(engine: DeploymentEngine, manager: LifecycleManager): Promise<void>;
  stop(): Promise<void>;
  /** The core device's thing name. */
  thingName: string;
  /** QoS 1 while connected (not spooled); rejects when offline (the telemetry agent keeps its own outbox). */
  publishNow(topic: string, payload: object): Promise<void>;
  /** The connection, for the IPC MQTT proxy [IPC-54, IPC-55]. */
  iotCore: IotCoreLink;
}

export interface CloudWiringInput {
  store: ConfigStore;
  queue: DeploymentQueue;
  componentStore: ComponentStore;
  root: string;
  nucleusName: string;
  platform: DevicePlatform;
  /** The component an SVCUID belongs to, for the token exchange service [CL-59]. */
  authenticate?: (token: string) => string | undefined;
  log: (msg: string) => void;
}

function isMap(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function ci(map: unknown, ...keys: string[]): JsonValue | undefined {
  let cur: unknown = map;
  for (const key of keys) {
    if (!isMap(cur)) return undefined;
    const k = Object.keys(cur).find((x) => x.toLowerCase() === key.toLowerCase());
    cur = k === undefined ? undefined : cur[k];
  }
  return cur as JsonValue | undefined;
}

const str = (v: JsonValue | undefined): string => (v === undefined || v === null ? '' : String(v));
const num = (v: JsonValue | undefined, dflt: number): number => {
  const n = Number(v);
  return v === undefined || v === null || v === '' || !Number.isFinite(n) ? dflt : n;
};

/** The cloud connection of this configuration, or undefined when the device is not configured for one. */
export async function prepareCloud(input: CloudWiringInput): Promise<CloudWiring | undefined> {
  const system = input.store.config.toMap(['system']);
  const conf = ci(input.store.config.toMap(['services']), input.nucleusName, 'configuration');
  const thingName = str(ci(system, 'thingName'));
  const endpoint = str(ci(conf, 'iotDataEndpoint'));
  const cert = str(ci(system, 'certificateFilePath'));
  const key = str(ci(system, 'privateKeyPath'));
  const ca = str(ci(system, 'rootCaPath'));
  if (!thingName || !endpoint || !cert || !key || !ca) {
    forgetTokenExchange(input.store);
    return undefined;
  }
  // Loaded only now: aws-crt (under src/iot) costs about 20 MB.
  const iot = await import('../iot/index.js');
  const region = str(ci(conf, 'awsRegion')) || 'us-east-1';
  const mqtt = ci(conf, 'mqtt');
  // [CF-40] a bad proxy setting stops the boot with the field and the reason
  const proxyUrl = str(ci(conf, 'networkProxy', 'proxy', 'url'));
  const proxy = proxyUrl
    ? new iot.NetworkProxy({
        url: proxyUrl,
        username: str(ci(conf, 'networkProxy', 'proxy', 'username')) || undefined,
        password: str(ci(conf, 'networkProxy', 'proxy', 'password')) || undefined,
        noProxyAddresses: str(ci(conf, 'networkProxy', 'noProxyAddresses')),
      })
    : undefined;
  if (proxy)
    input.log(
      `network proxy ${proxy.host}:${proxy.port} (not for: ${proxy.noProxyAddresses.join(',') || 'none'})`,
    );
  const operationTimeoutMs = num(ci(mqtt, 'operationTimeoutMs'), 30_000);
  const connection = new iot.IotConnection({
    thingName,
    endpoint,
    port: num(ci(mqtt, 'port'), 8883),
    certificatePath: cert,
    privateKeyPath: key,
    rootCaPath: ca,
    version: str(ci(mqtt, 'version')) === 'mqtt5' || str(ci(mqtt, 'version')) === '' ? 'mqtt5' : 'mqtt3',
    keepAliveSeconds: Math.round(num(ci(mqtt, 'keepAliveTimeoutMs'), 60_000) / 1000),
    pingTimeoutMs: num(ci(mqtt, 'pingTimeoutMs'), 30_000),
    operationTimeoutMs,
    socketConnectTimeoutMs: num(ci(mqtt, 'socketConnectTimeoutMs'), 3_000),
    minReconnectSeconds: num(ci(mqtt, 'minimumReconnectDelaySeconds'), 1),
    maxReconnectSeconds: num(ci(mqtt, 'maximumReconnectDelaySeconds'), 120),
    spool: {
      maxSizeInBytes: num(ci(mqtt, 'spooler', 'maxSizeInBytes'), iot.DEFAULT_SPOOL_BYTES),
      keepQos0WhenOffline: str(ci(mqtt, 'spooler', 'keepQos0WhenOffline')) === 'true',
    },
    maxInFlightPublishes: num(ci(mqtt, 'maxInFlightPublishes'), 5),
    maxPublishRetry: num(ci(mqtt, 'maxPublishRetry'), 100),
    ...(proxy && !proxy.bypass(endpoint)
      ? {
          httpProxy: {
            host: proxy.host,
            port: proxy.port,
            username: proxy.username,
            password: proxy.password,
          },
        }
      : {}),
    log: input.log,
  });
  // [CL-20, CL-21] the data plane endpoint.
  let dpHost = str(ci(conf, 'greengrassDataPlaneEndpoint'));
  if (dpHost === 'iotdata') dpHost = endpoint;
  if (!dpHost) dpHost = `greengrass-ats.iot.${region}.amazonaws.com`;
  let dpPort = num(ci(conf, 'greengrassDataPlanePort'), 8443);
  const m = /^(.*):(\d+)$/.exec(dpHost);
  if (m) [dpHost, dpPort] = [m[1], Number(m[2])];
  const client = new iot.DataPlaneClient({
    host: dpHost,
    port: dpPort,
    certificatePath: cert,
    privateKeyPath: key,
    rootCaPath: ca,
    thingName,
    proxy,
    log: input.log,
  });
  // [CL-63, CL-64] s3:// artifacts with the TES credentials, at the endpoint override if set
  // (built first: a bad override stops the boot before anything listens)
  const started: { tes?: TokenExchange } = {};
  const s3 = input.authenticate
    ? new iot.S3ArtifactFetcher({
        credentials: () =>
          started.tes
            ? started.tes.credentials.resolveCredentials()
            : Promise.reject(new Error('TES is not running')),
        region,
        endpoint: str(ci(conf, 's3EndpointOverride')) || undefined,
        certificatePath: cert,
        privateKeyPath: key,
        rootCaPath: ca,
        proxy,
        log: input.log,
      })
    : undefined;
  // [CL-57..CL-62] the token exchange service, up before any component starts
  const tes = input.authenticate
    ? await startTokenExchange({
        iot,
        store: input.store,
        nucleusName: input.nucleusName,
        authenticate: input.authenticate,
        proxy,
        log: input.log,
      })
    : undefined;
  started.tes = tes;
  const source = new iot.CloudComponentSource({
    client,
    store: input.componentStore,
    queue: input.queue,
    platform: input.platform,
    root: input.root,
    s3,
    proxy,
    log: input.log,
  });
  let engine: DeploymentEngine | undefined;
  let manager: LifecycleManager | undefined;
  const jobs = new iot.IotJobsListener({
    connection,
    queue: input.queue,
    flushStatuses: () => engine?.flushOutbox() ?? Promise.resolve(),
    pendingStatuses: () => engine?.outbox.pending().map((p) => p.status) ?? [],
    expandDocument: async (doc) =>
      Array.isArray(doc.requiredCapabilities) && doc.requiredCapabilities.includes('LARGE_CONFIGURATION')
        ? client.deploymentConfiguration(String(doc.deploymentId))
        : doc,
    operationTimeoutMs,
    log: input.log,
  });
  const shadow = new iot.ShadowDeploymentListener({
    connection,
    queue: input.queue,
    ggcVersion: TENDRIL_VERSION,
    operationTimeoutMs,
    log: input.log,
  });
  const fleet = new iot.FleetStatusService({
    connection,
    store: input.store,
    ggcVersion: TENDRIL_VERSION,
    platform: input.platform.os ?? 'linux',
    architecture: input.platform.architecture ?? '',
    components: () => componentStatuses(input.store, manager),
    log: input.log,
  });
  return {
    reporters: [jobs.reporter, shadow.reporter, fleet.reporter],
    source: withTokenExchangeService(source, input.log),
    thingName,
    iotCore: connection,
    publishNow: (topic, payload) => connection.publish(topic, payload, { qos: 1, spoolOffline: false }),
    start: async (e, lm) => {
      engine = e;
      manager = lm;
      lm.onStateChange((ev) => fleet.componentStateChanged(ev.component, ev.newState));
      fleet.start();
      await jobs.start();
      await shadow.start();
      connection.start();
    },
    stop: async () => {
      await connection.stop();
      await tes?.stop();
      s3?.close();
      client.close();
    },
  };
}

/** Every service with a version, its lifecycle state, and whether a group lists it as a root. */
function componentStatuses(store: ConfigStore, manager: LifecycleManager | undefined) {
  const services = store.config.toMap(['services']);
  const groups = currentGroupRoots(services);
  const g2r = ci(services, 'DeploymentService', 'GroupToRootComponents');
  const arnsOf = (name: string): string[] => {
    const out: string[] = [];
    for (const group of Object.keys(groups)) {
      const arn = str(ci(g2r, group, name, 'groupConfigArn'));
      if (groups[group][name] !== undefined && arn) out.push(arn);
    }
    return out;
  };
  const out = [];
  for (const [name, def] of Object.entries(services)) {
    const version = str(ci(def, 'version'));
    if (!isMap(def) || !version) continue;
    const status = manager?.get(name)?.status().state ?? 'RUNNING';
    const broken = status === 'BROKEN' || status === 'ERRORED';
    out.push({
      componentName: name,
      version,
      fleetConfigArns: arnsOf(name),
      componentStatusDetails: broken ? { statusCodes: [], statusReason: `the component is ${status}` } : null,
      isRoot: Object.values(groups).some((g) => g[name] !== undefined),
      status,
    });
  }
  return out;
}
