// The nucleus: boot from a root, serve IPC, run the components of the config tree and keep them
// converged to it, stop in reverse dependency order (spec/config.md section 12, lifecycle.md).
import { chownSync, mkdirSync, symlinkSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigStore, type JsonObject } from '../config/index.js';
import {
  AuthTokenRegistry,
  buildPolicyIndex,
  IpcServer,
  OperationRegistry,
  planSocketPath,
  policyAuthorizer,
  PubSubBroker,
  type Authorize,
} from '../ipc/index.js';
import {
  ComponentLogs,
  componentLogOutput,
  detectResourceController,
  LifecycleManager,
  NoCgroupController,
  ShellProcessLauncher,
  UserDatabase,
  type CgroupController,
  type PosixIdentity,
  type StateChangeEvent,
} from '../lifecycle/index.js';
import { defaultLogConfig, LogManager, parseLogConfig, type Logger } from '../log/index.js';
import { componentBaseEnv } from './component-env.js';
import { acquireInstanceLock, type InstanceLock } from './instance-lock.js';
import { readNucleusSettings, type NucleusSettings } from './nucleus-config.js';
import { createRootLayout, type RootPaths } from './root-layout.js';
import { serviceDefinitions } from './service-definitions.js';

export interface NucleusOptions {
  root: string;
  initConfigFile?: string;
  configFile?: string;
  /** cgroupfs root, default /sys/fs/cgroup (tests point it elsewhere). */
  cgroupRoot?: string;
}

export class Nucleus {
  private reconcileQueued = false;
  private stopping: Promise<void> | undefined;
  private constructor(
    readonly paths: RootPaths,
    readonly store: ConfigStore,
    readonly settings: NucleusSettings,
    readonly manager: LifecycleManager,
    readonly ipc: IpcServer,
    readonly tokens: AuthTokenRegistry,
    readonly resources: CgroupController,
    private readonly logs: LogManager,
    private readonly componentLogs: ComponentLogs,
    private readonly lock: InstanceLock,
    readonly log: Logger,
  ) {}

  static async start(opts: NucleusOptions): Promise<Nucleus> {
    const paths = createRootLayout(opts.root);
    const lock = acquireInstanceLock(paths.lockFile);
    let store: ConfigStore | undefined;
    try {
      store = await ConfigStore.open({
        root: paths.root,
        initConfigFile: opts.initConfigFile,
        configFile: opts.configFile,
      });
      const settings = readNucleusSettings(store.config);
      const logs = new LogManager(parseLogConfig(settings.logging, defaultLogConfig(paths.logs)));
      const log = logs.logger('com.aws.greengrass.lifecyclemanager.Kernel');
      log.info('nucleus-start', `root ${paths.root}, config from ${store.source}`);

      // IPC is up before any component starts [LC-05].
      const tokens = new AuthTokenRegistry();
      const registry = new OperationRegistry();
      new PubSubBroker().register(registry);
      let authorize: Authorize = policyAuthorizer(
        buildPolicyIndex(accessControlOf(store.config.toMap(['services']))),
      );
      const plan = planSocketPath({
        rootPath: paths.root,
        ipcSocketPath: settings.ipcSocketPath,
        cwd: process.cwd(),
      });
      if (plan.symlink) {
        rmSync(plan.symlink.path, { force: true });
        symlinkSync(plan.symlink.target, plan.symlink.path);
      }
      const ipc = new IpcServer({
        socketPath: plan.listenPath,
        authenticate: tokens.lookup,
        authorize: (check) => authorize(check),
        registry,
        log: (level, message) => (level === 'error' ? log.error('ipc', message) : log.debug('ipc', message)),
      });
      await ipc.listen();

      const resources = await detectResourceController({ root: opts.cgroupRoot }).catch(
        (e: Error) => new NoCgroupController(e.message),
      );
      log.info('resource-controller', `cgroup ${resources.version}`);
      const users = await UserDatabase.load();
      const componentLogs = new ComponentLogs({ logsDir: paths.logs });
      const launcher = new ShellProcessLauncher({
        output: componentLogOutput(componentLogs),
        cgroups: resources,
      });
      const workDir = (c: string) => {
        const dir = join(paths.work, c);
        mkdirSync(dir, { recursive: true, mode: 0o700 });
        return dir;
      };
      const manager = new LifecycleManager({
        launcher,
        resources,
        shell: settings.runWithDefault.posixShell,
        workDir,
        env: (c) =>
          componentBaseEnv({
            settings: readNucleusSettings(store!.config),
            authToken: tokens.issue(c),
            socketPath: plan.absolutePath,
            socketPathForComponent: plan.componentPath,
            globalSetenv: store!.config.toMap(['setenv']),
          }),
        resolveRunAs: async (c, runWith) => {
          const id = resolveRunAs(users, runWith, readNucleusSettings(store!.config));
          if (id) chownSync(workDir(c), id.uid, id.gid); // the work dir belongs to the component user [CF-70]
          return id;
        },
      });
      const nucleus = new Nucleus(
        paths,
        store,
        settings,
        manager,
        ipc,
        tokens,
        resources,
        logs,
        componentLogs,
        lock,
        log,
      );
      manager.onStateChange((e) => nucleus.onStateChange(e));
      store.config.onChange((_kind, node) => {
        const path = node.path();
        if (path[0]?.toLowerCase() !== 'services' || path.some((p) => p.startsWith('_'))) return;
        if (
          path.length >= 3 &&
          path[2].toLowerCase() === 'configuration' &&
          path.some((p) => /^accesscontrol$/i.test(p))
        )
          authorize = policyAuthorizer(buildPolicyIndex(accessControlOf(store!.config.toMap(['services']))));
        nucleus.scheduleReconcile();
      });
      nucleus.reconcile();
      return nucleus;
    } catch (e) {
      await store?.close().catch(() => undefined);
      lock.release();
      throw e;
    }
  }

  /** Converges the running components to the services of the config tree. */
  reconcile(): void {
    const defs = serviceDefinitions(
      this.store.config.toMap(['services']),
      readNucleusSettings(this.store.config),
    );
    try {
      const r = this.manager.apply(defs);
      if (r.added.length || r.removed.length || Object.keys(r.changed).length)
        this.log.info('services-applied', undefined, {
          added: r.added.join(','),
          removed: r.removed.join(','),
          changed: Object.entries(r.changed)
            .map(([n, c]) => `${n}:${c}`)
            .join(','),
        });
      for (const name of r.removed) this.tokens.revoke(name);
    } catch (e) {
      this.log.error('services-invalid', (e as Error).message);
    }
  }

  scheduleReconcile(): void {
    if (this.reconcileQueued || this.stopping) return;
    this.reconcileQueued = true;
    setImmediate(() => {
      this.reconcileQueued = false;
      if (!this.stopping) this.reconcile();
    });
  }

  private onStateChange(e: StateChangeEvent): void {
    this.log.info('service-set-state', undefined, {
      serviceName: e.component,
      currentState: e.oldState,
      newState: e.newState,
    });
    // memory-only status, as the Java nucleus keeps it under _private [LC-08]
    this.store.config.set(['services', e.component, '_private', '_State'], e.newState);
  }

  /** Stops every component (dependers first), then IPC, the tlog and the lock. Idempotent. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.log.info('nucleus-shutdown', 'stopping all services');
      await this.manager.close();
      await this.ipc.close();
      await this.store.close();
      this.log.info('nucleus-shutdown-complete');
      this.componentLogs.close();
      this.logs.close();
      this.lock.release();
    })();
    return this.stopping;
  }
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

/** [LC-65] component runWith.posixUser -> runWithDefault.posixUser -> the nucleus user if not root. */
function resolveRunAs(
  users: UserDatabase,
  runWith: Record<string, unknown> | undefined,
  settings: NucleusSettings,
): PosixIdentity | null {
  const own = runWith
    ? Object.entries(runWith).find(([k]) => k.toLowerCase() === 'posixuser')?.[1]
    : undefined;
  if (typeof own === 'string' && own) return users.resolve(own, 'runWith.posixUser');
  if (settings.runWithDefault.posixUser)
    return users.resolve(settings.runWithDefault.posixUser, 'runWithDefault.posixUser');
  if (process.getuid?.() !== 0) return null;
  throw new Error(
    'no posixUser: set services.<component>.runWith.posixUser or the nucleus runWithDefault.posixUser (components do not run as root)',
  );
}
