// Local-cloud deployment latency (issue 9): the local cloud and a nucleus provisioned against it, as
// `tendril demo` runs them; CreateDeployment through the unmodified @aws-sdk/client-greengrassv2 to the
// thing group -> SUCCEEDED as ListEffectiveDeployments reports it, for 1, 20 and 100 trivial components
// (`exec sleep 100000`, no artifacts). Floor: the same components started by a LOCAL deployment on the
// same nucleus (queue.offer with a recipe directory) -> SUCCEEDED in its deployment history.
import {
  CreateComponentVersionCommand,
  CreateDeploymentCommand,
  GetCoreDeviceCommand,
  GreengrassV2Client,
  ListEffectiveDeploymentsCommand,
} from '@aws-sdk/client-greengrassv2';
import { randomUUID } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import yaml from 'js-yaml';
import type { LocalCloud } from '../src/localcloud/index.js';
import { Nucleus } from '../src/nucleus/index.js';
import type { BenchFigure, BenchSuite } from './harness.js';
import { msSince, nowNs, sleep, startBenchCloud } from './util.js';

const THING = 'bench-core';
const GROUP = 'bench-fleet';
const GROUP_ARN = `arn:aws:iot:us-east-1:123456789012:thinggroup/${GROUP}`;
const POLL_MS = 20;
const name = (i: number) => `bench.Trivial${i}`;

function recipe(i: number): string {
  return JSON.stringify({
    RecipeFormatVersion: '2020-01-25',
    ComponentName: name(i),
    ComponentVersion: '1.0.0',
    ComponentPublisher: 'Tendril bench',
    Manifests: [{ Platform: { os: 'linux' }, Lifecycle: { run: 'exec sleep 100000' } }],
  });
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, ms = 300000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`bench: timed out waiting for ${what}`);
    await sleep(POLL_MS);
  }
}

const TERMINAL = new Set(['SUCCEEDED', 'COMPLETED', 'FAILED', 'REJECTED', 'CANCELED', 'TIMED_OUT']);

interface Rig {
  cloud: LocalCloud;
  gg: GreengrassV2Client;
  nucleus: Nucleus;
  dir: string;
}

/** CreateDeployment to the group -> its terminal status as ListEffectiveDeployments reports it. */
async function cloudDeployment(r: Rig, n: number): Promise<{ ms: number; status: string }> {
  const components = Object.fromEntries(
    Array.from({ length: n }, (_, i) => [name(i), { componentVersion: '1.0.0' }]),
  );
  const t0 = nowNs();
  const created = await r.gg.send(
    new CreateDeploymentCommand({ targetArn: GROUP_ARN, deploymentName: `bench-${n}`, components }),
  );
  const status = await until(`cloud deployment of ${n}`, async () => {
    const list = await r.gg.send(new ListEffectiveDeploymentsCommand({ coreDeviceThingName: THING }));
    const s = list.effectiveDeployments?.find(
      (e) => e.deploymentId === created.deploymentId,
    )?.coreDeviceExecutionStatus;
    return s !== undefined && TERMINAL.has(s) ? s : undefined;
  });
  return { ms: msSince(t0), status };
}

/** A LOCAL deployment offered to the nucleus's queue -> its terminal status in the deployment history. */
async function localDeployment(
  r: Rig,
  request: Record<string, unknown>,
): Promise<{ ms: number; status: string }> {
  const id = randomUUID();
  const t0 = nowNs();
  await r.nucleus.queue.offer({
    id,
    type: 'LOCAL',
    stage: 'DEFAULT',
    document: { requestId: id, requestTimestamp: Date.now(), ...request },
  });
  const status = await until(`local deployment ${id}`, async () => {
    const s = r.nucleus.history.get(id)?.status;
    return s !== undefined && TERMINAL.has(s) ? s : undefined;
  });
  return { ms: msSince(t0), status };
}

function running(r: Rig, n: number): number {
  let k = 0;
  for (let i = 0; i < n; i++) if (r.nucleus.manager.get(name(i))?.status().state === 'RUNNING') k++;
  return k;
}

function expectOk(what: string, status: string): void {
  if (status !== 'SUCCEEDED' && status !== 'COMPLETED') throw new Error(`bench: ${what} ended ${status}`);
}

async function rig(dir: string, max: number): Promise<Rig> {
  const { cloud, gg } = await startBenchCloud(dir);
  try {
    for (let i = 0; i < max; i++)
      await gg.send(new CreateComponentVersionCommand({ inlineRecipe: Buffer.from(recipe(i)) }));
    await cloud.settleComponents();
    const device = join(dir, 'device');
    const p = await cloud.provision({ thingName: THING, thingGroup: GROUP, outDir: device });
    const init = yaml.load(readFileSync(p.configPath, 'utf8')) as {
      services: Record<string, { configuration: Record<string, unknown> }>;
    };
    init.services['aws.greengrass.Nucleus'].configuration.runWithDefault = { posixUser: 'root' };
    writeFileSync(join(device, 'init.yaml'), yaml.dump(init));
    const nucleus = await Nucleus.start({
      root: join(dir, 'root'),
      initConfigFile: join(device, 'init.yaml'),
    });
    const r: Rig = { cloud, gg, nucleus, dir };
    await until(
      'the core device',
      async () =>
        (await gg.send(new GetCoreDeviceCommand({ coreDeviceThingName: THING })).catch(() => undefined))
          ?.status,
      30000,
    );
    return r;
  } catch (e) {
    gg.destroy();
    await cloud.close();
    throw e;
  }
}

const suite: BenchSuite = {
  title: 'Local-cloud deployments (SDK CreateDeployment -> SUCCEEDED, nucleus over MQTT + mTLS)',
  async run({ quick }) {
    const sizes = [1, 20, 100];
    const rounds = quick ? 1 : 3;
    const dir = mkdtempSync(join(tmpdir(), 'tendril-bench-cloud-'));
    chmodSync(dir, 0o755);
    const figures: BenchFigure[] = [];
    let r: Rig | undefined;
    // Silence the SDK's note that its later releases need Node 22 (this one works on Node 20).
    const emit = process.emitWarning;
    process.emitWarning = (() => {}) as typeof process.emitWarning;
    try {
      r = await rig(dir, Math.max(...sizes));
      process.emitWarning = emit;
      for (const n of sizes) {
        const recipes = join(dir, `recipes${n}`);
        mkdirSync(recipes);
        for (let i = 0; i < n; i++) writeFileSync(join(recipes, `${name(i)}-1.0.0.json`), recipe(i));
        const add = Object.fromEntries(Array.from({ length: n }, (_, i) => [name(i), '1.0.0']));
        const remove = Object.keys(add);
        const cloudMs: number[] = [];
        const localMs: number[] = [];
        for (let round = 0; round < rounds; round++) {
          // cloud: deploy, check they run, then clear the group (untimed)
          const c = await cloudDeployment(r, n);
          expectOk(`cloud deployment of ${n}`, c.status);
          if (running(r, n) !== n) throw new Error(`bench: ${running(r, n)}/${n} RUNNING after SUCCEEDED`);
          cloudMs.push(c.ms);
          expectOk('clearing the group', (await cloudDeployment(r, 0)).status);
          // floor: the same recipes as a LOCAL deployment on the same nucleus, then removed (untimed)
          const l = await localDeployment(r, {
            recipeDirectoryPath: recipes,
            rootComponentVersionsToAdd: add,
          });
          expectOk(`local deployment of ${n}`, l.status);
          if (running(r, n) !== n)
            throw new Error(`bench: ${running(r, n)}/${n} RUNNING after local SUCCEEDED`);
          localMs.push(l.ms);
          expectOk('removing them', (await localDeployment(r, { rootComponentsToRemove: remove })).status);
        }
        const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
        figures.push({
          name: `CreateDeployment -> SUCCEEDED (ListEffectiveDeployments, ${POLL_MS} ms polls), ${n} component${n > 1 ? 's' : ''}${rounds > 1 ? `, median of ${rounds}` : ''}`,
          value: median(cloudMs),
          unit: 'ms',
          floor: { name: 'same components, LOCAL deployment on the same nucleus', value: median(localMs) },
          better: 'lower',
        });
      }
    } finally {
      process.emitWarning = emit;
      if (r) {
        await r.nucleus.stop();
        r.gg.destroy();
        await r.cloud.close();
      }
      rmSync(dir, { recursive: true, force: true });
    }
    return figures;
  },
};

export default suite;
