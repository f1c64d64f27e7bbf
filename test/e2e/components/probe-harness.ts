// Set-up for the end-to-end IPC tests with components the nucleus runs: a local cloud, a nucleus
// provisioned against it (so that the MQTT proxy has a real connection), and two components deployed
// with `greengrass-cli deployment create` from recipes: com.example.Probe (ipc-probe.cjs, the official
// IPC client driven over pub/sub) and com.example.Sleeper (a shell loop to pause, restart and stop).
// The test talks to the probe with an official client of its own under the identity
// com.example.Driver (a component without lifecycle), which holds only a pub/sub policy for the
// probe's topics.
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  CreateComponentVersionCommand,
  CreateDeploymentCommand,
  ListEffectiveDeploymentsCommand,
} from '@aws-sdk/client-greengrassv2';
import yaml from 'js-yaml';
import { stageNodeModules } from '../../../src/cli/stage-node-modules.js';
import { Nucleus } from '../../../src/nucleus/index.js';
import { repoRoot, runCli, waitFor } from '../../support/daemon.js';
import { officialClient, type Client } from '../../support/ipc-client.js';
import { eventually, startCloudHarness, type CloudHarness } from '../../integration/iot/helpers.js';

export const THING = 'probe-core';
export const PROBE = 'com.example.Probe';
export const SLEEPER = 'com.example.Sleeper';
export const DRIVER = 'com.example.Driver';

/** What the probe answered: the call's value, or the error the official client raised. */
export interface ProbeAnswer {
  id: string;
  /** The operation asked for (added here, for failure messages). */
  op?: string;
  ok: boolean;
  value?: Record<string, unknown>;
  errorCode?: string;
  message?: string;
}

export interface ProbeStream {
  /** Resolves with the next event of the stream (in order). */
  next(): Promise<Record<string, unknown>>;
  events: Record<string, unknown>[];
  close(): Promise<void>;
}

const b64 = (x: unknown) => Buffer.from(x as Uint8Array).toString('base64');

/** Values for the probe: Buffers as {$b64}, Dates as {$date}. */
function encode(v: unknown): unknown {
  if (Buffer.isBuffer(v)) return { $b64: b64(v) };
  if (v instanceof Date) return { $date: v.getTime() };
  if (Array.isArray(v)) return v.map(encode);
  if (v && typeof v === 'object')
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, encode(x)]));
  return v;
}

export class Probe {
  private seq = 0;
  private readonly waiting = new Map<string, (a: ProbeAnswer) => void>();
  private readonly streams = new Map<string, { events: Record<string, unknown>[]; wake?: () => void }>();

  constructor(private readonly driver: Client) {}

  /** Feeds a message from probe/result. */
  onResult(r: Record<string, unknown>): void {
    const id = String(r.id);
    const s = this.streams.get(id);
    if (s && ('event' in r || 'streamError' in r || 'ended' in r)) {
      if (process.env.PROBE_DEBUG)
        console.log(`probe stream ${Date.now() % 100000} ${id}: ${JSON.stringify(r).slice(0, 200)}`);
      s.events.push(r);
      s.wake?.();
      return;
    }
    const w = this.waiting.get(id);
    this.waiting.delete(id);
    w?.(r as unknown as ProbeAnswer);
  }

  private async send(op: string, args: unknown, stream = false): Promise<ProbeAnswer> {
    const id = `r${++this.seq}`;
    const answer = new Promise<ProbeAnswer>((r) => this.waiting.set(id, r));
    if (stream) this.streams.set(id, { events: [] });
    await this.driver.publishToTopic({
      topic: 'probe/cmd',
      publishMessage: { jsonMessage: { message: { id, op, args: encode(args), stream } } },
    });
    const a = await answer;
    if (process.env.PROBE_DEBUG) console.log(`probe ${op} ${JSON.stringify(args)} -> ${JSON.stringify(a)}`);
    return { ...a, id, op };
  }

  /** One request/response call made by the probe component with its own client. */
  call(op: string, args: unknown = {}): Promise<ProbeAnswer> {
    return this.send(op, args);
  }

  /** A streaming operation opened by the probe; fails with the answer when activation fails. */
  async stream(op: string, args: unknown): Promise<ProbeStream & { answer: ProbeAnswer }> {
    const answer = await this.send(op, args, true);
    const s = this.streams.get(answer.id)!;
    let read = 0;
    return {
      answer,
      events: s.events,
      next: async () => {
        while (s.events.length <= read) await new Promise<void>((r) => (s.wake = r));
        const e = s.events[read++];
        if (!('event' in e)) throw new Error(`stream ${op} ended: ${JSON.stringify(e)}`);
        return e.event as Record<string, unknown>;
      },
      close: async () => {
        await this.call('closeStream', { stream: answer.id });
      },
    };
  }
}

/** The thing ARN of the rig's core device (for thing-targeted cloud deployments). */
export const THING_ARN = `arn:aws:iot:us-east-1:123456789012:thing/${THING}`;

export interface ProbeRig {
  cloud: CloudHarness;
  provisioned: Awaited<ReturnType<CloudHarness['cloud']['provision']>>;
  nucleus: Nucleus;
  root: string;
  probe: Probe;
  driver: Client;
  recipes: string;
  artifacts: string;
  /**
   * A thing deployment from the cloud of the three components at 1.0.0 with `merge` configuration
   * updates (cloud deployments notify components and ask them to validate; local ones do not,
   * DP-48, DP-49); resolves with its deployment id.
   */
  cloudDeploy(merge: Record<string, Record<string, unknown>>): Promise<string>;
  /**
   * The core device's execution status of a cloud deployment (undefined until reported); a thing
   * deployment ends COMPLETED (DP-82), a group one SUCCEEDED.
   */
  cloudStatus(deploymentId: string): Promise<string | undefined>;
  close(): Promise<void>;
}

/** The counter the sleeper writes every 20 ms, in its work dir. */
export function sleeperCounter(root: string): number {
  const f = join(root, 'work', SLEEPER, 'counter');
  return existsSync(f) ? Number(readFileSync(f, 'utf8').trim() || 0) : 0;
}

function writeRecipes(dir: string, nodePath: string): { recipes: string; artifacts: string } {
  const recipes = join(dir, 'recipes');
  const artifacts = join(dir, 'artifacts');
  mkdirSync(recipes, { recursive: true });
  mkdirSync(join(artifacts, PROBE, '1.0.0'), { recursive: true });
  copyFileSync(
    join(repoRoot, 'test/e2e/components/ipc-probe.cjs'),
    join(artifacts, PROBE, '1.0.0', 'probe.cjs'),
  );
  const probe = {
    RecipeFormatVersion: '2020-01-25',
    ComponentName: PROBE,
    ComponentVersion: '1.0.0',
    ComponentConfiguration: {
      DefaultConfiguration: {
        greeting: 'hello',
        nested: { a: 1, b: { c: 'deep' } },
        accessControl: {
          'aws.greengrass.ipc.pubsub': {
            [`${PROBE}:pubsub`]: {
              operations: ['*'],
              resources: ['probe/cmd', 'probe/result', 'probe/data/*'],
            },
          },
          'aws.greengrass.ipc.lifecycle': {
            [`${PROBE}:lifecycle`]: {
              operations: ['aws.greengrass#PauseComponent', 'aws.greengrass#ResumeComponent'],
              resources: [SLEEPER, 'com.example.Missing'],
            },
          },
          'aws.greengrass.ipc.mqttproxy': {
            [`${PROBE}:mqtt`]: {
              operations: ['*'],
              // [IPC-92] {iot:thingName} is replaced with the core device's thing name
              resources: ['$aws/things/{iot:thingName}/probe/#'],
            },
          },
          'aws.greengrass.Cli': {
            [`${PROBE}:cli`]: { operations: ['*'], resources: ['*'] },
          },
        },
      },
    },
    Manifests: [
      {
        Platform: { os: 'linux' },
        Lifecycle: {
          setenv: { NODE_PATH: nodePath },
          run: `exec ${process.execPath} {artifacts:path}/probe.cjs`,
        },
      },
    ],
  };
  const sleeper = {
    RecipeFormatVersion: '2020-01-25',
    ComponentName: SLEEPER,
    ComponentVersion: '1.0.0',
    ComponentConfiguration: { DefaultConfiguration: { mood: 'calm' } },
    Manifests: [
      {
        Platform: { os: 'linux' },
        Lifecycle: {
          run: 'i=0; while true; do i=$((i+1)); echo $i > counter.tmp; mv counter.tmp counter; sleep 0.02; done',
        },
      },
    ],
  };
  // the test's own identity: deployed too, since a deployment removes services it does not resolve
  const driver = {
    RecipeFormatVersion: '2020-01-25',
    ComponentName: DRIVER,
    ComponentVersion: '1.0.0',
    ComponentConfiguration: {
      DefaultConfiguration: {
        accessControl: {
          'aws.greengrass.ipc.pubsub': {
            [`${DRIVER}:pubsub`]: {
              operations: ['*'],
              resources: ['probe/cmd', 'probe/result', 'probe/data/*'],
            },
          },
        },
      },
    },
    Manifests: [{ Platform: { os: 'linux' }, Lifecycle: {} }],
  };
  writeFileSync(join(recipes, `${DRIVER}-1.0.0.json`), JSON.stringify(driver));
  writeFileSync(join(recipes, `${PROBE}-1.0.0.json`), JSON.stringify(probe));
  writeFileSync(join(recipes, `${SLEEPER}-1.0.0.json`), JSON.stringify(sleeper));
  return { recipes, artifacts };
}

export async function startProbeRig(): Promise<ProbeRig> {
  const cloud = await startCloudHarness();
  let nucleus: Nucleus | undefined;
  let driver: Client | undefined;
  try {
    const nodePath = stageNodeModules(
      join(repoRoot, 'node_modules'),
      ['aws-iot-device-sdk-v2'],
      join(cloud.dir, 'node_modules'),
    );
    const device = join(cloud.dir, 'device');
    const p = await cloud.cloud.provision({ thingName: THING, outDir: device });
    const init = yaml.load(readFileSync(p.configPath, 'utf8')) as {
      services: Record<string, Record<string, unknown>>;
    };
    const nucleusConf = init.services['aws.greengrass.Nucleus'].configuration as Record<string, unknown>;
    if (process.getuid?.() === 0) nucleusConf.runWithDefault = { posixUser: 'nobody:nogroup' };
    writeFileSync(join(device, 'init.yaml'), yaml.dump(init));
    const root = join(cloud.dir, 'root');
    nucleus = await Nucleus.start({ root, initConfigFile: join(device, 'init.yaml') });
    const n = nucleus;
    await eventually('the nucleus MQTT connection', () => n.cloud?.iotCore.connected);
    const { recipes, artifacts } = writeRecipes(join(cloud.dir, 'source'), nodePath);
    const created = await runCli('greengrass-cli', [
      '--ggcRootPath',
      root,
      'deployment',
      'create',
      '--recipeDir',
      recipes,
      '--artifactDir',
      artifacts,
      '--merge',
      `${PROBE}=1.0.0`,
      '--merge',
      `${SLEEPER}=1.0.0`,
      '--merge',
      `${DRIVER}=1.0.0`,
    ]);
    if (created.code !== 0) throw new Error(`deployment create failed: ${created.stderr}`);
    const log = join(root, 'logs', `${PROBE}.log`);
    await waitFor(
      'the probe ready',
      () => existsSync(log) && readFileSync(log, 'utf8').includes('probe: ready'),
      60000,
    );

    driver = officialClient(n.ipc.plan.absolutePath, n.ipc.tokens.issue(DRIVER));
    await driver.connect();
    const probe = new Probe(driver);
    const results = driver.subscribeToTopic({ topic: 'probe/result' });
    results.on('message', (m) => {
      const r = m.jsonMessage?.message as Record<string, unknown> | undefined;
      if (r) probe.onResult(r);
    });
    await results.activate();
    // the same recipes in the cloud, for cloud deployments (the artifact is already in the store)
    for (const name of [PROBE, SLEEPER, DRIVER])
      await cloud.client.send(
        new CreateComponentVersionCommand({
          inlineRecipe: readFileSync(join(recipes, `${name}-1.0.0.json`)),
        }),
      );
    const d = driver;
    return {
      cloudDeploy: async (merge) => {
        const components: Record<
          string,
          { componentVersion: string; configurationUpdate?: { merge: string } }
        > = {};
        for (const name of [PROBE, SLEEPER, DRIVER])
          components[name] = {
            componentVersion: '1.0.0',
            ...(merge[name] ? { configurationUpdate: { merge: JSON.stringify(merge[name]) } } : {}),
          };
        const r = await cloud.client.send(new CreateDeploymentCommand({ targetArn: THING_ARN, components }));
        return r.deploymentId!;
      },
      cloudStatus: async (deploymentId) => {
        const r = await cloud.client.send(
          new ListEffectiveDeploymentsCommand({ coreDeviceThingName: THING }),
        );
        return r.effectiveDeployments?.find((x) => x.deploymentId === deploymentId)
          ?.coreDeviceExecutionStatus;
      },
      cloud,
      provisioned: p,
      nucleus: n,
      root,
      probe,
      driver: d,
      recipes,
      artifacts,
      close: async () => {
        await d.close().catch(() => undefined);
        await n.stop();
        await cloud.close();
      },
    };
  } catch (e) {
    await driver?.close().catch(() => undefined);
    await nucleus?.stop().catch(() => undefined);
    await cloud.close();
    throw e;
  }
}
