// The local cloud as its own process (`tendril localcloud` from dist/), so that it can be killed with
// SIGKILL (the MQTT broker, the data plane and the control plane live in it) and started again on the
// same ports and data. The unmodified @aws-sdk/client-greengrassv2 drives it.
import {
  CreateComponentVersionCommand,
  CreateDeploymentCommand,
  DescribeComponentCommand,
  GreengrassV2Client,
  ListEffectiveDeploymentsCommand,
  type ComponentDeploymentSpecification,
  type EffectiveDeployment,
} from '@aws-sdk/client-greengrassv2';
import type { ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import yaml from 'js-yaml';
import { exitOf } from '../../test/support/daemon.js';
import { spawnTendril, tendril, until } from './proc.js';

export interface CloudEndpoints {
  controlPlane: string;
  dataPlanePort: number;
  mqttPort: number;
  caPath: string;
}

export interface Device {
  thing: string;
  group: string;
  groupArn: string;
  dir: string;
  certificatePath: string;
  privateKeyPath: string;
  rootCaPath: string;
  /** The provisioned nucleus config, with the component user set. */
  initConfig: string;
}

export class CloudProcess {
  private child: ChildProcess | undefined;
  endpoints: CloudEndpoints | undefined;
  client: GreengrassV2Client | undefined;
  constructor(readonly dataDir: string) {}

  get sdk(): GreengrassV2Client {
    if (!this.client) throw new Error('the local cloud is not running');
    return this.client;
  }
  get ep(): CloudEndpoints {
    if (!this.endpoints) throw new Error('the local cloud never started');
    return this.endpoints;
  }
  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Starts it; after the first start, on the same ports. */
  async start(): Promise<void> {
    const ports = this.endpoints
      ? [
          '--port',
          new URL(this.endpoints.controlPlane).port,
          '--data-plane-port',
          String(this.endpoints.dataPlanePort),
          '--mqtt-port',
          String(this.endpoints.mqttPort),
        ]
      : [];
    const file = join(this.dataDir, 'endpoints.json');
    rmSync(file, { force: true });
    const { child, out } = spawnTendril(['localcloud', '--data', this.dataDir, ...ports]);
    this.child = child;
    await until(
      'the local cloud to start',
      () => existsSync(file) || child.exitCode !== null,
      60_000,
      10,
    ).catch((e: Error) => {
      throw new Error(`${e.message}: ${out()}`);
    });
    if (child.exitCode !== null) throw new Error(`the local cloud exited at start: ${out().trim()}`);
    this.endpoints = JSON.parse(readFileSync(file, 'utf8')) as CloudEndpoints;
    this.client?.destroy();
    this.client = new GreengrassV2Client({
      endpoint: this.endpoints.controlPlane,
      region: 'us-east-1',
      credentials: { accessKeyId: 'x', secretAccessKey: 'y' },
      maxAttempts: 1,
    });
  }

  /** SIGSTOP: the process (and the broker in it) stops answering; its connections stay open. */
  freeze(): void {
    if (this.child?.pid) process.kill(this.child.pid, 'SIGSTOP');
  }

  async kill9(): Promise<void> {
    if (!this.child) return;
    this.child.kill('SIGKILL');
    await exitOf(this.child);
    this.child = undefined;
  }

  async stop(): Promise<void> {
    if (!this.child) return;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child?.kill('SIGKILL'), 20_000);
    await exitOf(this.child);
    clearTimeout(timer);
    this.child = undefined;
    this.client?.destroy();
    this.client = undefined;
  }

  /** Provisions a thing into a group; the init config runs components as nobody. */
  async provision(thing: string, group: string, dir: string) {
    const r = await tendril([
      'localcloud',
      'provision',
      '--data',
      this.dataDir,
      '--thing',
      thing,
      '--group',
      group,
      '--out',
      dir,
    ]);
    if (r.code !== 0) throw new Error(`provisioning ${thing} failed: ${r.stderr.trim()}`);
    const file = join(dir, 'config.yaml');
    const init = yaml.load(readFileSync(file, 'utf8')) as {
      system: Record<string, string>;
      services: Record<string, { configuration: Record<string, unknown> }>;
    };
    const nucleus = init.services['aws.greengrass.Nucleus'].configuration;
    nucleus.runWithDefault = { posixUser: 'nobody:nogroup' };
    const initConfig = join(dir, 'init.yaml');
    writeFileSync(initConfig, yaml.dump(init));
    const device: Device = {
      thing,
      group,
      groupArn: `arn:aws:iot:us-east-1:123456789012:thinggroup/${group}`,
      dir,
      certificatePath: init.system.certificateFilePath,
      privateKeyPath: init.system.privateKeyPath,
      rootCaPath: init.system.rootCaPath,
      initConfig,
    };
    return device;
  }

  /**
   * Uploads the artifacts, then creates the component version from `recipe` (with their digests) and
   * waits until the cloud calls it DEPLOYABLE.
   */
  async createComponent(recipe: Record<string, unknown>, artifacts: Record<string, Buffer> = {}) {
    const name = String(recipe.ComponentName);
    const version = String(recipe.ComponentVersion);
    const uris: Record<string, unknown>[] = [];
    for (const [file, bytes] of Object.entries(artifacts)) {
      const q = new URLSearchParams({
        uri: `greengrass:${file}`,
        componentName: name,
        componentVersion: version,
      });
      const res = await fetch(`${this.ep.controlPlane}/tendril/artifacts?${q}`, {
        method: 'PUT',
        body: bytes,
      });
      if (res.status !== 200)
        throw new Error(`artifact upload ${file}: HTTP ${res.status} ${await res.text()}`);
      uris.push({
        Uri: `greengrass:${file}`,
        Digest: createHash('sha256').update(bytes).digest('base64'),
        Algorithm: 'SHA-256',
      });
    }
    const manifests = (recipe.Manifests as Record<string, unknown>[]).map((m) => ({
      ...m,
      Artifacts: [...((m.Artifacts as unknown[]) ?? []), ...uris],
    }));
    const out = await this.sdk.send(
      new CreateComponentVersionCommand({
        inlineRecipe: Buffer.from(JSON.stringify({ ...recipe, Manifests: manifests })),
      }),
    );
    await until(`${name}@${version} to be DEPLOYABLE`, async () => {
      const d = await this.sdk.send(new DescribeComponentCommand({ arn: out.arn }));
      const state = d.status?.componentState;
      if (state === 'FAILED') throw new Error(`${name}@${version} FAILED in the cloud: ${d.status?.message}`);
      return state === 'DEPLOYABLE';
    });
  }

  async deploy(
    device: Device,
    components: Record<string, ComponentDeploymentSpecification>,
  ): Promise<string> {
    const r = await this.sdk.send(
      new CreateDeploymentCommand({ targetArn: device.groupArn, deploymentName: device.group, components }),
    );
    return r.deploymentId!;
  }

  async effective(device: Device, deploymentId: string): Promise<EffectiveDeployment | undefined> {
    const r = await this.sdk.send(new ListEffectiveDeploymentsCommand({ coreDeviceThingName: device.thing }));
    return r.effectiveDeployments?.find((d) => d.deploymentId === deploymentId);
  }

  /** Polls (through restarts of the cloud) until the deployment has a terminal status for the device. */
  async terminal(device: Device, deploymentId: string, ms = 120_000): Promise<EffectiveDeployment> {
    return until(
      `a terminal status of deployment ${deploymentId}`,
      async () => {
        if (!this.client) return undefined;
        const d = await this.effective(device, deploymentId).catch(() => undefined);
        return d && !['IN_PROGRESS', 'QUEUED'].includes(d.coreDeviceExecutionStatus ?? '') ? d : undefined;
      },
      ms,
      100,
    );
  }

  /** Waits until the cloud knows the core device (its first status arrived). */
  async deviceKnown(device: Device): Promise<void> {
    await until(`the cloud to know ${device.thing}`, async () =>
      this.sdk
        .send(new ListEffectiveDeploymentsCommand({ coreDeviceThingName: device.thing }))
        .then(() => true)
        .catch(() => false),
    );
  }
}
