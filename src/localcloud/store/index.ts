// The local cloud's store: one SQLite database, one class per resource. The control plane and the later
// device-facing side (data plane, jobs, shadows, fleet status) both go through it.
import { randomBytes } from 'node:crypto';
import { ClientDeviceStore } from './client-devices.js';
import { ComponentStore } from './components.js';
import { ConnectivityStore } from './connectivity.js';
import { CoreDeviceStore } from './core-devices.js';
import { metaValue, openDatabase, type Db } from './db.js';
import { DeploymentStore } from './deployments.js';
import { IdempotencyStore } from './idempotency.js';
import { JobStore } from './jobs.js';
import { ServiceRoleStore } from './service-role.js';
import { ShadowStore } from './shadows.js';
import { TagStore } from './tags.js';
import { ThingStore } from './things.js';

export * from './client-devices.js';
export * from './components.js';
export * from './connectivity.js';
export * from './core-devices.js';
export * from './deployments.js';
export * from './jobs.js';
export * from './service-role.js';
export * from './shadows.js';
export * from './things.js';

export class LocalCloudStore {
  readonly components: ComponentStore;
  readonly deployments: DeploymentStore;
  readonly coreDevices: CoreDeviceStore;
  readonly clientDevices: ClientDeviceStore;
  readonly connectivity: ConnectivityStore;
  readonly tags: TagStore;
  readonly idempotency: IdempotencyStore;
  readonly serviceRole: ServiceRoleStore;
  readonly things: ThingStore;
  readonly jobs: JobStore;
  readonly shadows: ShadowStore;
  /** A per-data-directory secret, e.g. for signing artifact download URLs. */
  readonly secret: string;
  private readonly db: Db;

  constructor(dataDir: string) {
    this.db = openDatabase(dataDir);
    this.components = new ComponentStore(this.db);
    this.deployments = new DeploymentStore(this.db);
    this.coreDevices = new CoreDeviceStore(this.db);
    this.clientDevices = new ClientDeviceStore(this.db);
    this.connectivity = new ConnectivityStore(this.db);
    this.tags = new TagStore(this.db);
    this.idempotency = new IdempotencyStore(this.db);
    this.serviceRole = new ServiceRoleStore(this.db);
    this.things = new ThingStore(this.db);
    this.jobs = new JobStore(this.db);
    this.shadows = new ShadowStore(this.db);
    this.secret = metaValue(this.db, 'secret', () => randomBytes(32).toString('hex'));
  }

  /** Runs `fn` in one SQLite transaction: all its writes happen, or none. */
  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }

  close(): void {
    this.db.close();
  }
}
