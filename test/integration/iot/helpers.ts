// A local cloud on loopback for the device-side tests: fixed ports across restarts (so a restarted
// broker is reachable at the same address), the unmodified SDK client, and one provisioned thing.
import { GreengrassV2Client } from '@aws-sdk/client-greengrassv2';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import yaml from 'js-yaml';
import { readFileSync } from 'node:fs';
import {
  createLocalCloud,
  type LocalCloud,
  type LocalCloudOptions,
  type ProvisionResult,
} from '../../../src/localcloud/index.js';
import type { IotConnectionOptions } from '../../../src/iot/index.js';

export interface CloudHarness {
  cloud: LocalCloud;
  client: GreengrassV2Client;
  dir: string;
  /** Stops the local cloud, waits `downMs`, starts it again on the same ports and data. */
  restart(downMs?: number): Promise<void>;
  stopCloud(): Promise<void>;
  startCloud(): Promise<void>;
  close(): Promise<void>;
}

function sdkClient(endpoint: string): GreengrassV2Client {
  return new GreengrassV2Client({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'x', secretAccessKey: 'y' },
    maxAttempts: 1,
  });
}

/** `extra`: local cloud options kept across restarts (`broker`, and `log`, silent by default). */
export async function startCloudHarness(
  extra: Pick<LocalCloudOptions, 'broker' | 'log'> = {},
): Promise<CloudHarness> {
  const dir = mkdtempSync(join(tmpdir(), 'tendril-iot-'));
  chmodSync(dir, 0o755); // the component user (nobody) must reach a nucleus root below
  const dataDir = join(dir, 'cloud');
  const first = await createLocalCloud({ dataDir, host: '127.0.0.1', port: 0, log: () => {}, ...extra });
  const ports = {
    port: first.port,
    dataPlanePort: first.device.dataPlanePort,
    mqttPort: first.device.mqttPort,
  };
  let running: LocalCloud | undefined = first;
  const h: CloudHarness = {
    cloud: first,
    client: sdkClient(first.endpoint),
    dir,
    stopCloud: async () => {
      h.client.destroy();
      await running?.close();
      running = undefined;
    },
    startCloud: async () => {
      running = await createLocalCloud({ dataDir, host: '127.0.0.1', ...ports, log: () => {}, ...extra });
      h.cloud = running;
      h.client = sdkClient(running.endpoint);
    },
    restart: async (downMs = 0) => {
      await h.stopCloud();
      if (downMs > 0) await new Promise((r) => setTimeout(r, downMs));
      await h.startCloud();
    },
    close: async () => {
      await h.stopCloud();
      if (!process.env.KEEP_TEST_DIRS) rmSync(dir, { recursive: true, force: true });
    },
  };
  return h;
}

/** Connection options for a provisioned thing, read back from the config.yaml it got. */
export function connectionOptions(
  p: ProvisionResult,
  over: Partial<IotConnectionOptions> = {},
): IotConnectionOptions {
  const cfg = yaml.load(readFileSync(p.configPath, 'utf8')) as {
    services: Record<string, { configuration: { iotDataEndpoint: string; mqtt: { port: number } } }>;
  };
  const n = cfg.services['aws.greengrass.Nucleus'].configuration;
  return {
    thingName: p.thingName,
    endpoint: n.iotDataEndpoint,
    port: n.mqtt.port,
    certificatePath: p.certificatePath,
    privateKeyPath: p.privateKeyPath,
    rootCaPath: p.rootCaPath,
    version: 'mqtt3',
    keepAliveSeconds: 60,
    pingTimeoutMs: 30000,
    operationTimeoutMs: 30000,
    socketConnectTimeoutMs: 3000,
    minReconnectSeconds: 1,
    maxReconnectSeconds: 4,
    ...over,
  };
}

/** Polls `probe` until it returns a value other than undefined/false; fails with `what` after `ms`. */
export async function eventually<T>(
  what: string,
  probe: () => T | undefined | false | Promise<T | undefined | false>,
  ms = 30000,
): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
