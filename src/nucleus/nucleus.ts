// The nucleus: boot from a root, serve IPC, run the components of the config tree and keep them
// converged to it, stop in reverse dependency order (spec/config.md section 12, lifecycle.md).
import { chownSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigStore } from '../config/index.js';
import { ComponentStore, DeploymentEngine, DeploymentQueue } from '../deployment/index.js';
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
import { devicePlatform } from '../recipe/index.js';
import { componentBaseEnv } from './component-env.js';
import { DeploymentHistory } from './deployment-history.js';
import { acquireInstanceLock, type InstanceLock } from './instance-lock.js';
import { killLeftoverProcesses } from './leftover-processes.js';
import { startCliService } from './cli-backend.js';
import { startNucleusIpc, type NucleusIpc } from './ipc-wiring.js';
import { readNucleusSettings, TENDRIL_VERSION, type NucleusSettings } from './nucleus-config.js';
import { installationDir } from './alts.js';
import { nucleusBootstrapRunner } from './bootstrap-runner.js';
import { AltsSelfUpdate } from './self-update.js';
import { createRootLayout, type RootPaths } from './root-layout.js';
import { serviceDefinitions } from './service-definitions.js';
import { prepareCloud, type CloudWiring } from './cloud-wiring.js';
import { startTelemetry, type TelemetryWiring } from './telemetry-wiring.js';
import { TES_SERVICE_NAME } from './tes-wiring.js';

/** Services the nucleus provides itself; deployments keep them and never run them as components. */
const BUILTIN_SERVICES = [
  'main',
  'DeploymentService',
  'FleetStatusService',
  'TelemetryAgent',
  TES_SERVICE_NAME,
];

export interface NucleusOptions {
  root: string;
  initConfigFile?: string;
  configFile?: string;
  /** cgroupfs root, default /sys/fs/cgroup (tests point it elsewhere). */
  cgroupRoot?: string;
  /**
   * Called when a deployment needs the nucleus restarted (100) or the host rebooted (101) to go on
   * [CF-96]; the caller stops this nucleus and starts it again (nucleus/launcher.ts). Without it such
   * deployments fail.
   */
  onRestart?: (code: 100 | 101, reason: string) => void;
}

export class Nucleus {
  private reconcileQueued = false;
  /** Set by config changes under an accessControl node; policies are rebuilt once per reconcile. */
  policiesChanged = false;
  private stopping: Promise<void> | undefined;
  /** The cloud connection (MQTT, jobs, shadow, fleet status), when configured. */
  cloud: CloudWiring | undefined;
  /** Sampling, `$local/greengrass/telemetry`, <root>/telemetry/latest.json, cloud telemetry (issue 10). */
  telemetry: TelemetryWiring | undefined;
  private constructor(
    readonly paths: RootPaths,
    readonly store: ConfigStore,
    readonly settings: NucleusSettings,
    readonly manager: LifecycleManager,
    readonly ipc: NucleusIpc,
    readonly resources: CgroupController,
    readonly deployments: DeploymentEngine,
    readonly queue: DeploymentQueue,
    readonly history: DeploymentHistory,
    private readonly logs: LogManager,
    private readonly componentLogs: ComponentLogs,
    private readonly lock: InstanceLock,
    readonly log: Logger,
  ) {}

  static async start(opts: NucleusOptions): Promise<Nucleus> {
    const paths = createRootLayout(opts.root);
    const lock = acquireInstanceLock(paths.lockFile);
    let store: ConfigStore | undefined;
    // the logger exists once the config is read; tlog trouble before that has no log to go to
    let configLog: Logger | undefined;
    try {
      store = await ConfigStore.open({
        root: paths.root,
        initConfigFile: opts.initConfigFile,
        configFile: opts.configFile,
        onError: (e) => configLog?.warn('config-write-failed', (e as Error).message),
        onWriteError: (e, retryInMs) =>
          configLog?.warn(
            'config-tlog-write-failed',
            `${(e as Error).message}; the changes are kept and written again in ${retryInMs} ms`,
          ),
      });
      const settings = readNucleusSettings(store.config);
      const logs = new LogManager(parseLogConfig(settings.logging, defaultLogConfig(paths.logs)));
      configLog = logs.logger('com.aws.greengrass.config.Configuration');
      const log = logs.logger('com.aws.greengrass.lifecyclemanager.Kernel');
      log.info(
        'nucleus-start',
        `Tendril ${TENDRIL_VERSION} from ${installationDir()}, root ${paths.root}, config from ${store.source}`,
      );

      // IPC is up before any component starts [LC-05].
      const ipc = await startNucleusIpc({
        rootPath: paths.root,
        ipcSocketPath: settings.ipcSocketPath,
        store,
        log: logs.logger('com.aws.greengrass.ipc.IPCEventStreamService'),
      });
      const tokens = ipc.tokens;
      const plan = ipc.plan;

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
      const componentEnv = (c: string) =>
        componentBaseEnv({
          settings: readNucleusSettings(store!.config),
          authToken: tokens.issue(c),
          socketPath: plan.absolutePath,
          socketPathForComponent: plan.componentPath,
          globalSetenv: store!.config.toMap(['setenv']),
        });
      const runAs = async (c: string, runWith: Record<string, unknown> | undefined) => {
        const id = resolveRunAs(users, runWith, readNucleusSettings(store!.config));
        if (id) chownSync(workDir(c), id.uid, id.gid); // the work dir belongs to the component user [CF-70]
        return id;
      };
      const shell = settings.runWithDefault.posixShell;
      const manager = new LifecycleManager({
        launcher,
        resources,
        shell,
        workDir,
        env: componentEnv,
        resolveRunAs: runAs,
      });
      ipc.attachLifecycle(manager);

      const queue = await DeploymentQueue.open(paths.root);
      const componentStore = new ComponentStore(paths.root);
      const platform = devicePlatform(settings.platformOverride);
      const cloudLog = logs.logger('com.aws.greengrass.mqttclient.MqttClient');
      const cloud = await prepareCloud({
        store,
        queue,
        componentStore,
        root: paths.root,
        nucleusName: settings.nucleusName,
        platform,
        authenticate: tokens.lookup, // the token exchange service's SVCUID check [CL-59]
        log: (msg) => cloudLog.info('cloud', msg),
      });
      ipc.mqttproxy.attach(cloud?.iotCore); // before any component starts [IPC-54, IPC-55]
      const history = new DeploymentHistory(store);
      const deployLog = logs.logger('com.aws.greengrass.deployment.DeploymentService');
      const deployments = new DeploymentEngine({
        root: paths.root,
        store,
        componentStore,
        states: manager,
        platform,
        thingName: settings.thingName || undefined,
        queue,
        hooks: ipc.safeUpdateHooks,
        reporters: [history, ...(cloud?.reporters ?? [])],
        source: cloud?.source,
        builtinServices: [...BUILTIN_SERVICES, settings.nucleusName],
        log: (msg) => deployLog.info('deployment', msg),
        // [LC-35, CF-95..CF-99] bootstrap steps, self-update, and the restart they may need
        bootstrap: nucleusBootstrapRunner({
          launcher,
          shell: () => shell,
          workDir,
          env: componentEnv,
          resolveRunAs: runAs,
        }),
        selfUpdate: new AltsSelfUpdate(paths.root, paths.alts, platform, (m) =>
          deployLog.info('self-update', m),
        ),
        requestRestart: opts.onRestart,
      });

      // after kill -9 the previous nucleus's components still run: reap them before starting new
      // copies (DESIGN idea 4; see leftover-processes.ts)
      const leftovers = await killLeftoverProcesses(
        resources,
        Object.keys(store.config.toMap(['services'])),
        plan.absolutePath,
      );
      if (leftovers.length)
        log.info(
          'leftover-processes-killed',
          `pids ${leftovers.join(',')} of an earlier nucleus on this root`,
        );
      const nucleus = new Nucleus(
        paths,
        store,
        settings,
        manager,
        ipc,
        resources,
        deployments,
        queue,
        history,
        logs,
        componentLogs,
        lock,
        log,
      );
      manager.onStateChange((e) => nucleus.onStateChange(e));
      startCliService(nucleus); // Greengrass CLI operations and <root>/cli_ipc_info [IPC-88, CF-75]
      store.config.onChange((_kind, node) => {
        const path = node.path();
        if (path[0]?.toLowerCase() !== 'services' || path.some((p) => p.startsWith('_'))) return;
        if (path.some((p) => p.toLowerCase() === 'accesscontrol')) nucleus.policiesChanged = true;
        nucleus.scheduleReconcile();
      });
      await deployments.recoverInterruptedActivation();
      await deployments.recoverKernelRollback();
      nucleus.reconcile();
      deployments.start();
      nucleus.cloud = cloud;
      await cloud?.start(deployments, manager);
      const telemetryLog = logs.logger('com.aws.greengrass.telemetry.TelemetryAgent');
      nucleus.telemetry = await startTelemetry({
        telemetryDir: paths.telemetry,
        store,
        nucleusName: settings.nucleusName,
        manager,
        resources,
        ipc,
        cloud,
        log: (msg) => telemetryLog.info('telemetry', msg),
      });
      return nucleus;
    } catch (e) {
      await store?.close().catch(() => undefined);
      lock.release();
      throw e;
    }
  }

  /** Converges the running components to the services of the config tree. */
  reconcile(): void {
    if (this.policiesChanged) {
      this.policiesChanged = false;
      this.ipc.refreshPolicies();
    }
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
      for (const name of r.removed) this.ipc.tokens.revoke(name);
    } catch (e) {
      this.log.error('services-invalid', (e as Error).message);
    }
  }

  scheduleReconcile(): void {
    if (this.reconcileQueued || this.stopping) return;
    this.reconcileQueued = true;
    setImmediate(() => {
      if (this.store.inTransaction) {
        // act on whole trees only: a deployment's activation or rollback is still writing [LC-16]
        const off = this.store.onTransactionEnd(() => {
          off();
          this.reconcileQueued = false;
          this.scheduleReconcile();
        });
        return;
      }
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
    // (only while the service exists: a removed component must not be recreated by its last event)
    if (this.store.config.findTopics(['services', e.component]))
      this.store.config.set(['services', e.component, '_private', '_State'], e.newState);
  }

  /** Stops every component (dependers first), then IPC, the tlog and the lock. Idempotent. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.log.info('nucleus-shutdown', 'stopping all services');
      await this.deployments.stop();
      await this.telemetry?.stop();
      await this.cloud?.stop();
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
