// createLocalCloud: the Greengrass V2 control plane over node:http, with its state in SQLite in dataDir.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { artifactRawHandler, artifactRoutes } from './api/artifacts.js';
import { clientDeviceRoutes } from './api/client-devices.js';
import { componentRoutes } from './api/components.js';
import { connectivityRoutes } from './api/connectivity.js';
import { coreDeviceRoutes } from './api/core-devices.js';
import { createComponentRoutes } from './api/create-component.js';
import { deploymentRoutes } from './api/deployments.js';
import { resolveRoutes } from './api/resolve.js';
import { serviceRoleRoutes } from './api/service-role.js';
import { tagRoutes } from './api/tags.js';
import type { ArnContext } from './arn.js';
import { ArtifactStore } from './artifact-store.js';
import { ComponentSettler } from './component-status.js';
import { LocalCloudEvents, type CloudContext } from './context.js';
import { parseBrokerOption } from './device/broker-mosquitto.js';
import { deploymentConfigurationRawHandler } from './device/data-plane.js';
import { startDevicePlane, type DevicePlane } from './device/device-plane.js';
import type { DevicePolicy } from './device/policy.js';
import {
  provisionDevice,
  type DeviceEndpoints,
  type ProvisionRequest,
  type ProvisionResult,
} from './device/provision.js';
import { ApiError, validationError } from './http/errors.js';
import { thingName } from './validate.js';
import type { ShadowRecord } from './store/index.js';
import { Router } from './http/router.js';
import { requestListener, sendError, type RawHandler } from './http/server.js';
import { SigV4Verifier, type AccessKey } from './sigv4.js';
import { LocalCloudStore } from './store/index.js';

export interface LocalCloudOptions {
  /** Directory holding localcloud.sqlite and artifacts/; created if missing. */
  dataDir: string;
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 0 (any free port). */
  port?: number;
  /** Default us-east-1. */
  region?: string;
  /** Default 123456789012. */
  accountId?: string;
  /** Epoch milliseconds; default Date.now. */
  now?: () => number;
  /** Default: writes to stderr. */
  log?: (msg: string) => void;
  /** Port of the mutual-TLS data plane and credentials provider; default 0 (any free port). */
  dataPlanePort?: number;
  /** Port of the MQTT broker (TLS, mutual authentication); default 0 (any free port). */
  mqttPort?: number;
  /**
   * The device MQTT broker: 'embedded' (default, aedes in this process), 'mosquitto' (a mosquitto process
   * started and stopped with the local cloud, its files in <dataDir>/mosquitto/), or the URL of an already
   * running broker (mqtt://, mqtts://, mqtt+unix:///path) the cloud's services connect to; then `mqttPort`
   * is its device listener's port (default: the port of an mqtts:// URL).
   */
  broker?: string;
  /** The mosquitto executable for broker 'mosquitto'; default: found on the PATH or in /usr/sbin. */
  mosquittoPath?: string;
  /** Topics devices may use; default: their own `$aws/things/<thing>/...` topics (and `<thing>-gci`). */
  devicePolicy?: DevicePolicy;
  /** Role aliases the credentials provider knows; default ['GreengrassV2TokenExchangeRoleAlias']. */
  roleAliases?: string[];
  /**
   * When set, every control-plane request (not the presigned download URLs, which carry their own
   * signature) must be AWS SigV4-signed for service `greengrass` and this cloud's region by one of these
   * keys, with x-amz-date within 15 minutes. Default: off, any credentials are accepted [CP-02].
   */
  credentials?: AccessKey[];
}

export interface LocalCloud {
  /** The control-plane endpoint, e.g. http://127.0.0.1:8080, for the SDK's `endpoint` option. */
  readonly endpoint: string;
  readonly host: string;
  readonly port: number;
  /** The store, for the device-facing side to record device status (core devices, installed components, ...). */
  readonly store: LocalCloudStore;
  readonly events: LocalCloudEvents;
  readonly artifacts: ArtifactStore;
  readonly arn: ArnContext;
  /** Resolves once every new component version has been checked (DEPLOYABLE or FAILED). */
  settleComponents(): Promise<void>;
  /** Where devices connect: data plane, MQTT, credentials provider, and the CA they trust. */
  readonly device: DeviceEndpoints;
  /** Registers a thing (idempotent). */
  createThing(name: string): void;
  /** Adds a thing to a group (creating either if needed); an active group deployment reaches it. */
  addThingToGroup(group: string, thing: string): Promise<void>;
  /** Registers the thing, issues its certificate and writes OUTDIR/config.yaml for the nucleus. */
  provision(req: ProvisionRequest): Promise<ProvisionResult>;
  /** A shadow as stored ('' = the classic shadow). */
  getShadow(thing: string, shadowName: string): ShadowRecord | undefined;
  /** Resolves once the device-side messages of every control-plane event so far have been published. */
  deviceIdle(): Promise<void>;
  close(): Promise<void>;
}

/** The presigned GET routes: their URL carries its own signature (CL-34, CL-39). */
const PRESIGNED_PATHS = new Set(['/tendril/artifacts/download', '/tendril/deployment-configuration']);

/**
 * With credentials checking on, the local routes that stream their body (artifact upload) need a SigV4
 * signature too, over the headers with `x-amz-content-sha256: UNSIGNED-PAYLOAD`; checked before the raw
 * handler sees the request. Returns true (handled) only when it refuses the request.
 */
function rawRouteGate(verifier: SigV4Verifier): RawHandler {
  return async (req, res, url) => {
    if (!url.pathname.startsWith('/tendril/')) return false;
    if (req.method === 'GET' && PRESIGNED_PATHS.has(url.pathname)) return false;
    try {
      await verifier.verify(req, 'streamed');
      return false;
    } catch (e) {
      if (!(e instanceof ApiError)) throw e;
      req.resume();
      sendError(res, e);
      return true;
    }
  };
}

function formatHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

export async function createLocalCloud(opts: LocalCloudOptions): Promise<LocalCloud> {
  const host = opts.host ?? '127.0.0.1';
  const log = opts.log ?? ((msg: string) => process.stderr.write(`localcloud: ${msg}\n`));
  const region = opts.region ?? 'us-east-1';
  const now = opts.now ?? Date.now;
  // Checked before anything is opened: a bad key list throws a TypeError naming it.
  const verifier =
    opts.credentials === undefined ? undefined : new SigV4Verifier(opts.credentials, region, now);
  const broker = parseBrokerOption(opts.broker, opts.mosquittoPath);
  const store = new LocalCloudStore(opts.dataDir);
  const artifacts = new ArtifactStore(opts.dataDir, store.secret);
  const settler = new ComponentSettler(store, artifacts, log);
  const events = new LocalCloudEvents();
  let endpoint = '';
  const ctx: CloudContext = {
    store,
    arn: {
      partition: 'aws',
      region,
      accountId: opts.accountId ?? '123456789012',
    },
    now,
    artifacts,
    events,
    baseUrl: () => endpoint,
    settleComponents: () => settler.settle(),
  };
  const router = new Router().add(
    ...serviceRoleRoutes(ctx),
    ...connectivityRoutes(ctx),
    ...clientDeviceRoutes(ctx),
    ...coreDeviceRoutes(ctx),
    ...deploymentRoutes(ctx),
    ...createComponentRoutes(ctx),
    ...artifactRoutes(ctx),
    ...componentRoutes(ctx),
    ...resolveRoutes(ctx),
    ...tagRoutes(ctx),
  );
  const raw = [artifactRawHandler(ctx), deploymentConfigurationRawHandler(ctx)];
  const server: Server = createServer(
    verifier === undefined
      ? requestListener(router, raw, log)
      : requestListener(router, [rawRouteGate(verifier), ...raw], log, (req, body) =>
          verifier.verify(req, body),
        ),
  );
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(opts.port ?? 0, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (e) {
    store.close();
    throw e;
  }
  const port = (server.address() as AddressInfo).port;
  endpoint = `http://${formatHost(host)}:${port}`;
  let device: DevicePlane;
  try {
    device = await startDevicePlane(ctx, {
      dataDir: opts.dataDir,
      host,
      dataPlanePort: opts.dataPlanePort ?? 0,
      mqttPort: opts.mqttPort ?? 0,
      policy: opts.devicePolicy,
      roleAliases: opts.roleAliases ?? ['GreengrassV2TokenExchangeRoleAlias'],
      broker,
      log,
    });
  } catch (e) {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    store.close();
    throw e;
  }
  const checkedName = (v: string, field: string) => thingName(v, field);
  // Versions left REQUESTED by a previous run are checked now.
  void settler.settle();
  return {
    endpoint,
    host,
    port,
    store,
    events,
    artifacts,
    arn: ctx.arn,
    settleComponents: () => settler.settle(),
    device: device.endpoints,
    createThing: (name) => {
      store.things.create(checkedName(name, 'thingName'), ctx.now());
    },
    addThingToGroup: async (group, thing) => {
      checkedName(group, 'thingGroup');
      checkedName(thing, 'thingName');
      if (!store.things.get(thing)) throw validationError(`thing ${thing} does not exist`, 'thingName');
      store.transaction(() => {
        store.things.createGroup(group, ctx.now());
        store.coreDevices.addToThingGroup(group, thing);
      });
      await device.jobs.thingAddedToGroup(group, thing);
    },
    provision: async (req) => {
      const result = await provisionDevice(store, device.ca, device.endpoints, req, ctx.now());
      if (result.thingGroup !== undefined)
        await device.jobs.thingAddedToGroup(result.thingGroup, result.thingName);
      return result;
    },
    getShadow: (thing, name) => store.shadows.get(thing, name),
    deviceIdle: () => device.idle(),
    close: async () => {
      await device.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await settler.settle();
      store.close();
    },
  };
}
