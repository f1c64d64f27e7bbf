// `tendril localcloud --data DIR [--host H] [--port N]`: runs the local Greengrass cloud until SIGINT or
// SIGTERM, printing its endpoints and writing them to DIR/endpoints.json.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createLocalCloud } from '../localcloud/index.js';
import { UsageError, type Command } from './command.js';

export interface LocalCloudRunOptions {
  dataDir: string;
  host: string;
  port: number;
}

export interface LocalCloudEndpoints {
  /** The Greengrass V2 control plane, for the SDK's `endpoint` option. */
  controlPlane: string;
  region: string;
  accountId: string;
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
  return { dataDir, host, port };
}

/** Starts the local cloud, writes endpoints.json, and stops when `signal` aborts. */
export async function runLocalCloud(
  opts: LocalCloudRunOptions,
  signal: AbortSignal,
  out: (line: string) => void,
): Promise<LocalCloudEndpoints> {
  const cloud = await createLocalCloud({ dataDir: opts.dataDir, host: opts.host, port: opts.port });
  const endpoints: LocalCloudEndpoints = {
    controlPlane: cloud.endpoint,
    region: cloud.arn.region,
    accountId: cloud.arn.accountId,
  };
  writeFileSync(join(opts.dataDir, 'endpoints.json'), JSON.stringify(endpoints, null, 2) + '\n');
  out(`local cloud control plane: ${cloud.endpoint}`);
  out(`data directory: ${opts.dataDir} (endpoints in endpoints.json)`);
  if (!signal.aborted)
    await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve()));
  await cloud.close();
  out('local cloud stopped');
  return endpoints;
}

export const localcloudCommand: Command = {
  name: 'localcloud',
  summary: 'run the offline Greengrass V2 cloud (control plane) until SIGINT/SIGTERM',
  usage: 'localcloud --data DIR [--host 127.0.0.1] [--port N]',
  options: {
    data: { type: 'string' },
    host: { type: 'string' },
    port: { type: 'string' },
  },
  optionHelp: {
    data: 'directory for the local cloud state (SQLite) and artifacts; created if missing',
    host: 'address to listen on (default 127.0.0.1)',
    port: 'port to listen on (default 0: any free port)',
  },
  details:
    'Point @aws-sdk/client-greengrassv2 at the printed endpoint with any region and dummy credentials.\n' +
    'Artifacts: place them under DIR/artifacts/s3/<bucket>/<key> (s3:// URIs) or\n' +
    'DIR/artifacts/greengrass/<component>/<version>/<name> (greengrass: URIs), or upload them with\n' +
    'PUT <endpoint>/tendril/artifacts?uri=<uri>[&componentName=C&componentVersion=V].',
  async run(values) {
    const opts = parseLocalCloudFlags(values);
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
