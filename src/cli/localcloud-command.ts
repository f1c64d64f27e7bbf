// `tendril localcloud --data DIR [--host H] [--port N]`: runs the local Greengrass cloud until SIGINT or
// SIGTERM, printing its endpoints and writing them to DIR/endpoints.json.
// `tendril localcloud provision --data DIR --thing NAME [--group G] --out OUTDIR`: registers a device and
// writes its certificate, key, CA and nucleus config.yaml, whether or not the server is running.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  createLocalCloud,
  LocalCa,
  LocalCloudStore,
  parseBrokerOption,
  provisionDevice,
  ProvisionError,
  type AccessKey,
  type DeviceEndpoints,
  type ProvisionResult,
} from '../localcloud/index.js';
import { UsageError, type Command } from './command.js';

export interface LocalCloudRunOptions {
  dataDir: string;
  host: string;
  port: number;
  /** --check-credentials: the keys control-plane requests must be SigV4-signed with; unset = no checking. */
  credentials?: AccessKey[];
  /** --broker: 'embedded' (default), 'mosquitto', or a broker URL. */
  broker?: string;
}

export interface LocalCloudEndpoints extends DeviceEndpoints {
  /** The Greengrass V2 control plane, for the SDK's `endpoint` option. */
  controlPlane: string;
}

export interface DevicePorts {
  dataPlanePort: number;
  mqttPort: number;
}

function portFlag(values: Record<string, unknown>, flag: string): number {
  const raw = typeof values[flag] === 'string' ? (values[flag] as string) : '0';
  const port = Number(raw);
  if (!/^\d+$/.test(raw) || port > 65535) throw new UsageError(`--${flag} must be 0-65535, got '${raw}'`);
  return port;
}

/** The device-facing ports (--data-plane-port, --mqtt-port); 0 = any free port. */
export function parseDevicePorts(values: Record<string, unknown>): DevicePorts {
  return { dataPlanePort: portFlag(values, 'data-plane-port'), mqttPort: portFlag(values, 'mqtt-port') };
}

export interface ProvisionOptions {
  dataDir: string;
  thingName: string;
  thingGroup?: string;
  outDir: string;
}

export function parseProvisionFlags(values: Record<string, unknown>): ProvisionOptions {
  const need = (flag: string, what: string): string => {
    const v = values[flag];
    if (typeof v !== 'string' || v === '') throw new UsageError(`--${flag} ${what} is required`);
    return v;
  };
  const group = values.group;
  if (group !== undefined && (typeof group !== 'string' || group === ''))
    throw new UsageError('--group must not be empty');
  return {
    dataDir: need('data', 'DIR'),
    thingName: need('thing', 'NAME'),
    thingGroup: group as string | undefined,
    outDir: need('out', 'OUTDIR'),
  };
}

/** Reads DIR/endpoints.json as the server wrote it; names what is missing. */
export function readEndpoints(dataDir: string): LocalCloudEndpoints {
  const file = join(dataDir, 'endpoints.json');
  if (!existsSync(file))
    throw new UsageError(`${file} does not exist: run 'tendril localcloud --data ${dataDir}' once first`);
  const e = JSON.parse(readFileSync(file, 'utf8')) as Partial<LocalCloudEndpoints>;
  for (const k of ['deviceHost', 'dataPlanePort', 'mqttPort', 'credentialsEndpoint', 'caPath'] as const)
    if (e[k] === undefined)
      throw new UsageError(`${file} has no ${k}: it was written by an older local cloud; start it again`);
  return e as LocalCloudEndpoints;
}

/** Provisions a device against the data directory, with or without a running server. */
export async function runProvision(opts: ProvisionOptions): Promise<ProvisionResult> {
  const endpoints = readEndpoints(opts.dataDir);
  const ca = await LocalCa.open(opts.dataDir);
  const store = new LocalCloudStore(opts.dataDir);
  try {
    return await provisionDevice(store, ca, endpoints, opts, Date.now());
  } catch (e) {
    if (e instanceof ProvisionError) throw new UsageError(e.message);
    throw e;
  } finally {
    store.close();
  }
}

/**
 * --check-credentials ACCESS_KEY_ID:SECRET, repeatable and comma-separated. The secret is never echoed
 * in an error; a key id may not hold whitespace, '/', ':' or ','.
 */
export function parseCredentialsFlag(raw: unknown): AccessKey[] | undefined {
  if (raw === undefined) return undefined;
  const values = Array.isArray(raw) ? raw : [raw];
  const keys: AccessKey[] = [];
  const seen = new Set<string>();
  let n = 0;
  for (const value of values) {
    if (typeof value !== 'string')
      throw new UsageError('--check-credentials expects ACCESS_KEY_ID:SECRET_ACCESS_KEY');
    for (const item of value.split(',')) {
      n++;
      const colon = item.indexOf(':');
      const id = colon < 0 ? '' : item.slice(0, colon);
      const secret = colon < 0 ? '' : item.slice(colon + 1);
      if (colon < 0 || secret === '' || !/^[^\s/:,]+$/.test(id))
        throw new UsageError(
          `--check-credentials: entry ${n} is not ACCESS_KEY_ID:SECRET_ACCESS_KEY ` +
            '(a non-empty key id without whitespace, "/" or ":", a colon, then a non-empty secret; ' +
            'separate several keys with commas or repeat the flag)',
        );
      if (seen.has(id)) throw new UsageError(`--check-credentials: access key ${id} is given more than once`);
      seen.add(id);
      keys.push({ accessKeyId: id, secretAccessKey: secret });
    }
  }
  return keys;
}

/** Parses the command's flags; throws UsageError naming the flag. */
export function parseLocalCloudFlags(values: Record<string, unknown>): LocalCloudRunOptions {
  const dataDir = values.data;
  if (typeof dataDir !== 'string' || dataDir === '') throw new UsageError('--data DIR is required');
  const host = typeof values.host === 'string' ? values.host : '127.0.0.1';
  if (host === '') throw new UsageError('--host must not be empty');
  const rawPort = typeof values.port === 'string' ? values.port : '0';
  const port = Number(rawPort);
  if (!/^\d+$/.test(rawPort) || port > 65535)
    throw new UsageError(`--port must be 0-65535, got '${rawPort}'`);
  const credentials = parseCredentialsFlag(values['check-credentials']);
  const broker = values.broker;
  if (broker !== undefined) {
    try {
      parseBrokerOption(broker);
    } catch (e) {
      throw new UsageError(`--${(e as Error).message}`);
    }
  }
  return {
    dataDir,
    host,
    port,
    ...(credentials !== undefined ? { credentials } : {}),
    ...(typeof broker === 'string' ? { broker } : {}),
  };
}

/** How the device broker is described on the console; a URL without its password. */
function brokerDescription(opts: LocalCloudRunOptions): string {
  if (opts.broker === undefined || opts.broker === 'embedded') return 'MQTT 3.1.1';
  if (opts.broker === 'mosquitto') return `mosquitto, its files in ${join(opts.dataDir, 'mosquitto')}`;
  const url = new URL(opts.broker);
  if (url.password) url.password = '***';
  return `the broker at ${url.href}`;
}

/** Starts the local cloud, writes endpoints.json, and stops when `signal` aborts. */
export async function runLocalCloud(
  opts: LocalCloudRunOptions & Partial<DevicePorts>,
  signal: AbortSignal,
  out: (line: string) => void,
): Promise<LocalCloudEndpoints> {
  const cloud = await createLocalCloud({
    dataDir: opts.dataDir,
    host: opts.host,
    port: opts.port,
    dataPlanePort: opts.dataPlanePort,
    mqttPort: opts.mqttPort,
    credentials: opts.credentials,
    broker: opts.broker,
  });
  const endpoints: LocalCloudEndpoints = { controlPlane: cloud.endpoint, ...cloud.device };
  writeFileSync(join(opts.dataDir, 'endpoints.json'), JSON.stringify(endpoints, null, 2) + '\n');
  out(`local cloud control plane: ${cloud.endpoint}`);
  out(`device data plane and credentials (mTLS): ${cloud.device.dataPlane}`);
  out(`device MQTT (mTLS, ${brokerDescription(opts)}): ${cloud.device.deviceHost}:${cloud.device.mqttPort}`);
  out(`data directory: ${opts.dataDir} (endpoints in endpoints.json)`);
  if (opts.credentials !== undefined)
    out(
      `control-plane credentials checking: on (${opts.credentials.length} key${opts.credentials.length === 1 ? '' : 's'}: ` +
        `${opts.credentials.map((k) => k.accessKeyId).join(', ')})`,
    );
  if (!signal.aborted)
    await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve()));
  await cloud.close();
  out('local cloud stopped');
  return endpoints;
}

export const localcloudCommand: Command = {
  name: 'localcloud',
  summary:
    'run the offline Greengrass V2 cloud (control plane, data plane, MQTT) until SIGINT/SIGTERM, or provision a device',
  usage:
    'localcloud --data DIR [--host 127.0.0.1] [--port N] [--data-plane-port N] [--mqtt-port N]\n' +
    '                  [--check-credentials ACCESS_KEY_ID:SECRET[,...]]... [--broker embedded|mosquitto|URL]\n' +
    '       localcloud provision --data DIR --thing NAME [--group G] --out OUTDIR',
  options: {
    data: { type: 'string' },
    host: { type: 'string' },
    port: { type: 'string' },
    'data-plane-port': { type: 'string' },
    'mqtt-port': { type: 'string' },
    'check-credentials': { type: 'string', multiple: true },
    broker: { type: 'string' },
    thing: { type: 'string' },
    group: { type: 'string' },
    out: { type: 'string' },
  },
  optionHelp: {
    data: 'directory for the local cloud state (SQLite), artifacts and CA; created if missing',
    host: 'address to listen on (default 127.0.0.1)',
    port: 'control-plane port (default 0: any free port)',
    'data-plane-port': 'mTLS data plane and credentials provider port (default 0)',
    'mqtt-port': 'mTLS MQTT broker port (default 0)',
    'check-credentials':
      'ACCESS_KEY_ID:SECRET: accept only control-plane requests SigV4-signed with this key (repeat the flag or separate keys with commas; default: any credentials)',
    broker:
      "device MQTT broker: 'embedded' (default, in this process), 'mosquitto' (started and stopped with the local cloud, files in DIR/mosquitto), or the URL of a running broker (mqtt://, mqtts://, mqtt+unix:///path; --mqtt-port is then its device port)",
    thing: 'provision: the thing name (certificate CN and MQTT client id)',
    group: 'provision: a thing group to add the thing to (created if missing)',
    out: 'provision: directory for config.yaml, device.pem.crt, private.pem.key, root.ca.pem',
  },
  details:
    'Point @aws-sdk/client-greengrassv2 at the printed endpoint with any region and dummy credentials\n' +
    '(with --check-credentials: region us-east-1 and one of the keys).\n' +
    'Artifacts: place them under DIR/artifacts/s3/<bucket>/<key> (s3:// URIs) or\n' +
    'DIR/artifacts/greengrass/<component>/<version>/<name> (greengrass: URIs), or upload them with\n' +
    'PUT <endpoint>/tendril/artifacts?uri=<uri>[&componentName=C&componentVersion=V].\n' +
    'With --check-credentials, requests must be SigV4-signed (service greengrass, region us-east-1)\n' +
    'by one of the keys, x-amz-date within 15 minutes; uploads sign the header\n' +
    "'x-amz-content-sha256: UNSIGNED-PAYLOAD' (curl --aws-sigv4 aws:amz:us-east-1:greengrass --user ID:SECRET).\n" +
    'Presigned download URLs need no signature. Flags are visible to other local users (ps).',
  async run(values, positionals) {
    if (positionals[0] === 'provision') {
      const result = await runProvision(parseProvisionFlags(values));
      process.stdout.write(`provisioned ${result.thingName}: ${result.configPath}\n`);
      return 0;
    }
    if (positionals.length > 0) throw new UsageError(`unknown subcommand '${positionals[0]}'`);
    const opts = { ...parseLocalCloudFlags(values), ...parseDevicePorts(values) };
    const ac = new AbortController();
    const stop = () => ac.abort();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    try {
      await runLocalCloud(opts, ac.signal, (line) => process.stdout.write(line + '\n'));
    } finally {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
    }
    return 0;
  },
};
