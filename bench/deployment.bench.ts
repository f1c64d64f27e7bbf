// Deployment figures (issue: deployments): a local deployment of 1 component with a no-op install,
// and of 20 and 100 components in one deployment, from the queue's acknowledgement (what
// CreateLocalDeployment returns after) to the durable SUCCEEDED in the deployment history, on a
// real nucleus in this process (components run as nobody, in cgroups). Floor, same run: the same
// lifecycles started directly by a LifecycleManager (no recipe import, resolution, config write,
// snapshot or settle window) until every one is FINISHED.
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  detectResourceController,
  LifecycleManager,
  ShellProcessLauncher,
  type ServiceDefinitions,
} from '../src/lifecycle/index.js';
import { Nucleus } from '../src/nucleus/index.js';
import type { BenchFigure, BenchSuite } from './harness.js';
import { msSince, nowNs, percentile, waitUntil } from './util.js';

const INSTALL = 'true';

function writeRecipes(dir: string, names: string[]): void {
  mkdirSync(dir, { recursive: true });
  for (const n of names)
    writeFileSync(
      join(dir, `${n}-1.0.0.yaml`),
      [
        'RecipeFormatVersion: "2020-01-25"',
        `ComponentName: ${n}`,
        'ComponentVersion: 1.0.0',
        'Manifests:',
        '  - Platform: { os: linux }',
        '    Lifecycle:',
        `      Install: "${INSTALL}"`,
      ].join('\n'),
    );
}

/** ms from the queue's acknowledgement to a durable SUCCEEDED. */
async function deployMs(nucleus: Nucleus, id: string, recipeDir: string, names: string[]): Promise<number> {
  const t0 = nowNs();
  await nucleus.queue.offer({
    id,
    type: 'LOCAL',
    stage: 'DEFAULT',
    document: {
      requestId: id,
      requestTimestamp: Date.now(),
      recipeDirectoryPath: recipeDir,
      rootComponentVersionsToAdd: Object.fromEntries(names.map((n) => [n, '1.0.0'])),
    },
  });
  await waitUntil(
    () => {
      const r = nucleus.history.get(id);
      return r !== undefined && r.status !== 'IN_PROGRESS';
    },
    120_000,
    `deployment ${id}`,
  );
  const ms = msSince(t0);
  const r = nucleus.history.get(id);
  if (r?.status !== 'SUCCEEDED')
    throw new Error(`bench: ${id} ended ${r?.status}: ${JSON.stringify(r?.details)}`);
  return ms;
}

/** ms from LifecycleManager.apply to every component FINISHED (the floor). */
async function directMs(manager: LifecycleManager, names: string[]): Promise<number> {
  const defs: ServiceDefinitions = Object.fromEntries(
    names.map((n) => [n, { version: '1.0.0', lifecycle: { install: INSTALL } }]),
  );
  const t0 = nowNs();
  manager.apply({ ...(manager.order.length ? currentDefs(manager) : {}), ...defs });
  await waitUntil(() => names.every((n) => manager.get(n)?.state === 'FINISHED'), 120_000, 'direct start');
  return msSince(t0);
}

function currentDefs(manager: LifecycleManager): ServiceDefinitions {
  return Object.fromEntries(manager.order.map((n) => [n, manager.get(n)!.definition])) as ServiceDefinitions;
}

const suite: BenchSuite = {
  title: 'Deployments (local, real nucleus in process, no-op install, cgroups v1)',
  async run({ quick }) {
    const reps = quick ? 3 : 7;
    const many = quick ? 30 : 100;
    const dir = mkdtempSync(join(tmpdir(), 'tendril-bench-deploy-'));
    chmodSync(dir, 0o755); // the component user (nobody) must reach the root
    const init = join(dir, 'init.yaml');
    writeFileSync(
      init,
      'services:\n  aws.greengrass.Nucleus:\n    configuration: { runWithDefault: { posixUser: "nobody:nogroup" } }\n',
    );
    const nucleus = await Nucleus.start({ root: join(dir, 'root'), initConfigFile: init });
    const resources = await detectResourceController({ parent: 'tendril-bench' });
    const workDir = join(dir, 'work');
    mkdirSync(workDir);
    const manager = new LifecycleManager({
      launcher: new ShellProcessLauncher({ cgroups: resources }),
      resources,
      workDir: () => workDir,
    });
    try {
      const one: number[] = [];
      const oneFloor: number[] = [];
      for (let i = 0; i < reps; i++) {
        const name = `BenchDeployOne${i}`;
        writeRecipes(join(dir, `one${i}`), [name]);
        one.push(await deployMs(nucleus, `one-${i}`, join(dir, `one${i}`), [name]));
        oneFloor.push(await directMs(manager, [`FloorOne${i}`]));
      }
      /** One deployment of `n` new components, and the lifecycle manager starting as many. */
      const batch = async (label: string, n: number) => {
        const names = Array.from({ length: n }, (_, i) => `BenchDeploy${label}${i}`);
        writeRecipes(join(dir, label), names);
        const ms = await deployMs(nucleus, label, join(dir, label), names);
        const floor = await directMs(
          manager,
          names.map((x) => x.replace('BenchDeploy', 'Floor')),
        );
        return { ms, floor };
      };
      const twenty = await batch('Twenty', 20);
      const { ms: manyMs, floor: manyFloor } = await batch('Many', many);
      const settle = '; includes the 0.5 s settle window [DP-55]';
      return [
        {
          name: `local deployment of 1 component, create -> SUCCEEDED (median of ${reps}${settle})`,
          value: percentile(one, 50),
          unit: 'ms',
          floor: { name: 'LifecycleManager start to FINISHED', value: percentile(oneFloor, 50) },
          target: '< 1000 ms',
          better: 'lower',
        },
        {
          name: `local deployment of 20 components in one deployment, create -> SUCCEEDED${settle}`,
          value: twenty.ms,
          unit: 'ms',
          floor: { name: 'LifecycleManager start of 20 to FINISHED', value: twenty.floor },
          better: 'lower',
        },
        {
          name: `local deployment of ${many} components in one deployment, create -> SUCCEEDED${settle}`,
          value: manyMs,
          unit: 'ms',
          floor: { name: `LifecycleManager start of ${many} to FINISHED`, value: manyFloor },
          target: many === 100 ? '< 10000 ms' : '< 10000 ms (for 100)',
          better: 'lower',
        },
      ] satisfies BenchFigure[];
    } finally {
      await manager.close();
      await nucleus.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  },
};

export default suite;
