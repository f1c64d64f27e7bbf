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
import { Router } from './http/router.js';
import { requestListener } from './http/server.js';
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
  close(): Promise<void>;
}

function formatHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

export async function createLocalCloud(opts: LocalCloudOptions): Promise<LocalCloud> {
  const host = opts.host ?? '127.0.0.1';
  const log = opts.log ?? ((msg: string) => process.stderr.write(`localcloud: ${msg}\n`));
  const store = new LocalCloudStore(opts.dataDir);
  const artifacts = new ArtifactStore(opts.dataDir, store.secret);
  const settler = new ComponentSettler(store, artifacts, log);
  const events = new LocalCloudEvents();
  let endpoint = '';
  const ctx: CloudContext = {
    store,
    arn: {
      partition: 'aws',
      region: opts.region ?? 'us-east-1',
      accountId: opts.accountId ?? '123456789012',
    },
    now: opts.now ?? Date.now,
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
  const server: Server = createServer(requestListener(router, [artifactRawHandler(ctx)], log));
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
    close: async () => {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await settler.settle();
      store.close();
    },
  };
}
