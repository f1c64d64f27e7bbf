// The IPC server and the services the nucleus serves itself, wired to the config tree and the
// lifecycle manager [LC-05, CF-82]. Built before any component starts.
import { rmSync, symlinkSync } from 'node:fs';
import type { ConfigStore, JsonObject } from '../config/index.js';
import {
  AuthTokenRegistry,
  buildPolicyIndex,
  ComponentMetricService,
  ComponentUpdateNotifier,
  ConfigurationService,
  ConfigurationValidator,
  IpcServer,
  lifecycleControl,
  LifecycleService,
  MqttProxyService,
  OperationRegistry,
  planSocketPath,
  policyAuthorizer,
  PubSubBroker,
  registerUnavailableOperations,
  type Authorize,
  type SocketPathPlan,
} from '../ipc/index.js';
import type { LifecycleManager } from '../lifecycle/index.js';
import type { Logger } from '../log/index.js';
import type { SafeUpdateHooks } from '../deployment/index.js';

export interface NucleusIpc {
  server: IpcServer;
  tokens: AuthTokenRegistry;
  registry: OperationRegistry;
  /** The local pub/sub broker, for messages the nucleus publishes itself (telemetry). */
  pubsub: PubSubBroker;
  /** PutComponentMetric; the telemetry agent sets its sink [IPC-66]. */
  metrics: ComponentMetricService;
  /** PublishToIoTCore/SubscribeToIoTCore; the cloud wiring attaches its connection [IPC-54, IPC-55]. */
  mqttproxy: MqttProxyService;
  plan: SocketPathPlan;
  /** Attaches the lifecycle services once the manager exists. */
  attachLifecycle(manager: LifecycleManager): void;
  /** For the deployment engine: notify/validate through the components' subscriptions. */
  safeUpdateHooks: SafeUpdateHooks;
  /** Rebuilds the authorization index from every component's accessControl [IPC-94]. */
  refreshPolicies(): void;
  close(): Promise<void>;
}

function accessControlOf(services: JsonObject): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, def] of Object.entries(services)) {
    if (typeof def !== 'object' || def === null || Array.isArray(def)) continue;
    const conf = Object.entries(def).find(([k]) => k.toLowerCase() === 'configuration')?.[1];
    if (typeof conf !== 'object' || conf === null || Array.isArray(conf)) continue;
    const ac = Object.entries(conf).find(([k]) => k.toLowerCase() === 'accesscontrol')?.[1];
    if (ac !== undefined) out[name] = ac;
  }
  return out;
}

export async function startNucleusIpc(opts: {
  rootPath: string;
  ipcSocketPath?: string;
  store: ConfigStore;
  log: Logger;
}): Promise<NucleusIpc> {
  const { store, log } = opts;
  const tokens = new AuthTokenRegistry();
  const registry = new OperationRegistry();
  const pubsub = new PubSubBroker().register(registry);
  const metrics = new ComponentMetricService().register(registry);
  const configuration = new ConfigurationService({ config: store.config, sync: () => store.sync() }).register(
    registry,
  );
  const validator = new ConfigurationValidator().register(registry);
  const mqttproxy = new MqttProxyService().register(registry);
  // mqttproxy, metric, token and plugin operations: fallbacks; a real handler registered before this wins [IPC-88].
  registerUnavailableOperations(registry);
  let updates: ComponentUpdateNotifier | undefined;

  let authorize: Authorize = () => false;
  const refreshPolicies = () => {
    const services = store.config.toMap(['services']);
    const thingName = store.config.get(['system', 'thingName']);
    const componentVersions = Object.fromEntries(
      Object.entries(services).flatMap(([name, def]) => {
        const version = (def as { version?: unknown } | null)?.version;
        return typeof version === 'string' ? [[name, version]] : [];
      }),
    );
    // Recipe variables in policy resources [IPC-99, RC-33].
    const index = buildPolicyIndex(accessControlOf(services), {
      thingName: typeof thingName === 'string' && thingName !== '' ? thingName : undefined,
      rootPath: opts.rootPath,
      componentVersions,
    });
    for (const w of index.warnings) log.warn('ipc-policy', w);
    authorize = policyAuthorizer(index);
  };
  refreshPolicies();

  const plan = planSocketPath({
    rootPath: opts.rootPath,
    ipcSocketPath: opts.ipcSocketPath,
    cwd: process.cwd(),
  });
  if (plan.symlink) {
    rmSync(plan.symlink.path, { force: true });
    symlinkSync(plan.symlink.target, plan.symlink.path);
  }
  const server = new IpcServer({
    socketPath: plan.listenPath,
    authenticate: tokens.lookup,
    authorize: (check) => authorize(check),
    registry,
    log: (level, message) => (level === 'error' ? log.error('ipc', message) : log.debug('ipc', message)),
  });
  await server.listen();

  return {
    server,
    tokens,
    registry,
    pubsub,
    metrics,
    mqttproxy,
    plan,
    refreshPolicies,
    attachLifecycle(manager) {
      const control = lifecycleControl(manager);
      new LifecycleService(control, (m) => log.error('ipc-lifecycle', m)).register(registry);
      updates = new ComponentUpdateNotifier({ exists: control.exists }).register(registry);
    },
    safeUpdateHooks: {
      async preUpdate(deploymentId, timeoutMs) {
        const r = await updates?.preUpdate(deploymentId, timeoutMs);
        return r?.deferredBy ? { recheckAfterMs: r.deferredBy.recheckAfterMs } : undefined;
      },
      async validateConfiguration(component, configuration, deploymentId, timeoutMs) {
        const r = await validator.validate(component, configuration, deploymentId, timeoutMs);
        if (r.status === 'ACCEPTED') return { status: 'ACCEPTED' };
        if (r.status === 'REJECTED') return { status: 'REJECTED', message: r.message };
        return undefined; // no subscriber, or no answer in time: proceed (DESIGN decision on DP-50)
      },
      async postUpdate(deploymentId) {
        updates?.postUpdate(deploymentId);
      },
    },
    async close() {
      configuration.close();
      await server.close();
    },
  };
}
