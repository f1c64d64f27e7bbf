// A small device for deployment integration tests: a real ConfigStore, ComponentStore and
// LifecycleManager running real processes, and a tiny reconciler that calls manager.apply with
// every `services.<name>` that has a lifecycle whenever something under `services` changes (the
// nucleus's production reconciler does the same job).
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { expect } from 'chai';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ConfigStore, type JsonObject } from '../../src/config/index.js';
import {
  ComponentStore,
  DeploymentEngine,
  DeploymentQueue,
  type DeploymentEngineOptions,
  type ProcessedDeployment,
  type QueuedDeployment,
} from '../../src/deployment/index.js';
import { LifecycleManager, type ServiceDefinitions } from '../../src/lifecycle/index.js';
import { TestLauncher } from './lifecycle-launcher.js';

export const LINUX = { os: 'linux', architecture: 'amd64' };

export interface Harness {
  root: string;
  /** Where test recipes are written before import. */
  source: string;
  store: ConfigStore;
  components: ComponentStore;
  manager: LifecycleManager;
  launcher: TestLauncher;
  queue: DeploymentQueue;
  engine: DeploymentEngine;
  reconcileErrors: string[];
  /** Statuses delivered to the harness's recording consumer, in order. */
  reported: ProcessedDeployment[];
  close(): Promise<void>;
}

/** `services.<name>` entries that have a lifecycle, as definitions. */
export function serviceDefinitions(services: JsonObject): ServiceDefinitions {
  const defs: Record<string, JsonObject> = {};
  for (const [name, v] of Object.entries(services)) {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) continue;
    const lc = v.lifecycle;
    if (lc !== null && typeof lc === 'object' && !Array.isArray(lc)) defs[name] = v;
  }
  return defs as ServiceDefinitions;
}

export async function openHarness(
  opts: { root?: string; engine?: Partial<DeploymentEngineOptions> } = {},
): Promise<Harness> {
  const root = opts.root ?? mkdtempSync(path.join(tmpdir(), 'tendril-deploy-'));
  const source = path.join(root, 'source');
  mkdirSync(path.join(source, 'recipes'), { recursive: true });
  const store = await ConfigStore.open({ root, effectiveConfigDebounceMs: 0 });
  const components = new ComponentStore(root);
  const launcher = new TestLauncher();
  const manager = new LifecycleManager({
    launcher,
    workDir: (n) => {
      const d = path.join(root, 'work', n);
      mkdirSync(d, { recursive: true });
      return d;
    },
    env: () => ({ PATH: process.env.PATH ?? '/usr/bin:/bin', TOP: root }),
    killGraceMs: 300,
    backoff: { baseMs: 20, maxMs: 100 },
    stopTimeoutMs: 5000,
  });
  const reconcileErrors: string[] = [];
  let scheduled = false;
  const reconcile = (): void => {
    scheduled = false;
    try {
      manager.apply(serviceDefinitions(store.config.toMap(['services'])));
    } catch (e) {
      reconcileErrors.push((e as Error).message);
    }
  };
  const unsubscribe = store.config.onChange((_kind, node) => {
    if (node.path()[0]?.toLowerCase() !== 'services' || scheduled) return;
    scheduled = true;
    setImmediate(reconcile);
  });
  const queue = await DeploymentQueue.open(root);
  const reported: ProcessedDeployment[] = [];
  const engine = new DeploymentEngine({
    root,
    store,
    componentStore: components,
    states: manager,
    platform: LINUX,
    queue,
    timeouts: { convergeMs: 20_000, settleMs: 400 },
    reporters: [{ name: 'recorder', report: async (s) => (reported.push(s), true) }],
    ...opts.engine,
  });
  // as the nucleus boots: undo a services write a crash interrupted, then start the components
  await engine.recoverInterruptedActivation();
  reconcile();
  return {
    root,
    source,
    store,
    components,
    manager,
    launcher,
    queue,
    engine,
    reconcileErrors,
    reported,
    async close() {
      await engine.stop();
      unsubscribe();
      await manager.close();
      launcher.killAll();
      await store.close();
    },
  };
}

/** Writes a recipe whose `run` appends `<name>@<version>` to `$TOP/started` then sleeps (or runs `run`). */
export function writeRecipe(
  h: Pick<Harness, 'source'>,
  name: string,
  version: string,
  o: { deps?: Record<string, string>; run?: string; defaults?: JsonObject } = {},
): void {
  const recipe = {
    RecipeFormatVersion: '2020-01-25',
    ComponentName: name,
    ComponentVersion: version,
    ComponentDependencies: Object.fromEntries(
      Object.entries(o.deps ?? {}).map(([n, r]) => [n, { VersionRequirement: r, DependencyType: 'HARD' }]),
    ),
    ComponentConfiguration: { DefaultConfiguration: o.defaults ?? {} },
    Manifests: [
      {
        Platform: { os: 'linux' },
        Lifecycle: { run: o.run ?? `echo ${name}@${version} >> "$TOP/started"; exec sleep 60` },
      },
    ],
  };
  writeFileSync(path.join(h.source, 'recipes', `${name}-${version}.json`), JSON.stringify(recipe));
}

/** Removes the harness root (after close). */
export function removeRoot(h: Pick<Harness, 'root'>): void {
  rmSync(h.root, { recursive: true, force: true });
}

export const ARN = 'arn:aws:greengrass:us-east-1:123456789012:configuration:thinggroup/G:1';
let clock = Date.now();

export function cloudDoc(
  id: string,
  components: Record<string, { version: string; configurationUpdate?: JsonObject }>,
  extra: JsonObject = {},
): QueuedDeployment {
  return {
    id,
    type: 'IOT_JOBS',
    stage: 'DEFAULT',
    document: {
      deploymentId: id,
      configurationArn: ARN,
      creationTimestamp: ++clock,
      components,
      failureHandlingPolicy: 'ROLLBACK',
      componentUpdatePolicy: { action: 'SKIP_NOTIFY_COMPONENTS', timeout: 60 },
      ...extra,
    },
  };
}

export async function deploy(h: Harness, entry: QueuedDeployment) {
  expect(await h.queue.offer(entry)).to.equal('queued');
  const outcome = await h.engine.runNext();
  if (!outcome) throw new Error('nothing ran');
  return outcome;
}

export function started(h: Harness): string[] {
  const f = path.join(h.root, 'started');
  return existsSync(f) ? readFileSync(f, 'utf8').trim().split('\n') : [];
}

/** Imports every source recipe again (cleanup removes versions no service uses). */
export async function reimport(h: Harness): Promise<void> {
  await h.components.importComponents({ recipeDir: path.join(h.source, 'recipes'), platform: LINUX });
}

export const stateOf = (h: Harness, name: string) => h.manager.get(name)?.status().state;
