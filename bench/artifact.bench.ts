// Artifact download (issue 9): a 200 MB (50 MB with --quick) `greengrass:` artifact uploaded to the
// local cloud with PUT /tendril/artifacts. Measured in the same run:
//  - src/iot downloadArtifact (the nucleus's data-plane download: presigned URL over mTLS, streamed to
//    disk, SHA-256 verified against the recipe digest) -> MB/s; floor: a raw node:http GET of the same
//    presigned URL in the same process with the bytes dropped (the local cloud's presigned URLs are
//    plain http; the cloud serves both from this process).
//  - the daemon (`tendril run`, a separate process) deploying a component with that artifact from the
//    cloud: its RSS growth during the deployment; floor: the RSS growth of a node process doing a raw
//    GET of the same URL to /dev/null.
import {
  CreateComponentVersionCommand,
  CreateDeploymentCommand,
  GetCoreDeviceCommand,
  GreengrassV2Client,
  ListEffectiveDeploymentsCommand,
} from '@aws-sdk/client-greengrassv2';
import { spawn } from 'node:child_process';
import { randomFillSync } from 'node:crypto';
import {
  chmodSync,
  closeSync,
  createReadStream,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { get, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import yaml from 'js-yaml';
import { DataPlaneClient, downloadArtifact } from '../src/iot/index.js';
import { createLocalCloud, type LocalCloud } from '../src/localcloud/index.js';
import type { BenchFigure, BenchSuite } from './harness.js';
import { msSince, nowNs, rssMb, sleep, stopChild, tendrilArgs } from './util.js';

const THING = 'bench-artifact-core';
const GROUP = 'bench-artifact-fleet';
const COMPONENT = 'bench.BigArtifact';
const ARTIFACT = 'big.bin';

function writeRandomFile(file: string, bytes: number): void {
  const chunk = Buffer.alloc(1 << 20);
  const fd = openSync(file, 'w');
  try {
    for (let left = bytes; left > 0; left -= chunk.length) {
      randomFillSync(chunk);
      writeSync(fd, chunk, 0, Math.min(left, chunk.length));
    }
  } finally {
    closeSync(fd);
  }
}

async function upload(cloud: LocalCloud, file: string): Promise<void> {
  const q = new URLSearchParams({
    uri: `greengrass:${ARTIFACT}`,
    componentName: COMPONENT,
    componentVersion: '1.0.0',
  });
  const url = new URL(`${cloud.endpoint}/tendril/artifacts?${q}`);
  const status = await new Promise<number>((resolve, reject) => {
    const req = request(
      url,
      { method: 'PUT', headers: { 'content-length': String(statSync(file).size) } },
      (res) => {
        res.resume();
        res.once('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.once('error', reject);
    pipeline(createReadStream(file), req).catch(reject);
  });
  if (status !== 200) throw new Error(`bench: artifact upload: HTTP ${status}`);
}

/** A raw node:http GET of `url` in this process (as downloadArtifact runs), bytes dropped: elapsed ms. */
async function rawGetMs(url: string): Promise<number> {
  const t0 = nowNs();
  await new Promise<void>((resolve, reject) => {
    get(url, (res) => {
      if (res.statusCode !== 200) reject(new Error(`bench: raw GET: HTTP ${res.statusCode}`));
      res.on('data', () => {});
      res.once('end', resolve);
      res.once('error', reject);
    }).once('error', reject);
  });
  return msSince(t0);
}

/** A node child that GETs `url` to /dev/null; reports its own elapsed ms and its RSS growth sampled from here. */
async function rawDownload(url: string): Promise<{ ms: number; rssGrowth: number }> {
  const script = `
    const http = require('node:http'); const fs = require('node:fs');
    process.stdout.write('ready\\n');
    process.stdin.once('data', () => {
      const t0 = process.hrtime.bigint();
      http.get(process.argv[1], (res) => {
        if (res.statusCode !== 200) { console.error('HTTP ' + res.statusCode); process.exit(1); }
        const out = fs.createWriteStream('/dev/null');
        res.pipe(out);
        out.on('finish', () => { process.stdout.write(String(Number(process.hrtime.bigint() - t0) / 1e6) + '\\n'); process.exit(0); });
      }).on('error', (e) => { console.error(e.message); process.exit(1); });
    });`;
  const child = spawn(process.execPath, ['-e', script, url], { stdio: ['pipe', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  while (!out.includes('ready\n')) await sleep(5);
  await sleep(300);
  const base = rssMb(child.pid!);
  let peak = base;
  const exited = new Promise<number | null>((r) => child.once('exit', r));
  let done = false;
  void exited.then(() => (done = true));
  child.stdin.write('go\n');
  while (!done) {
    try {
      const now = rssMb(child.pid!); // NaN once the child is a zombie
      if (!Number.isNaN(now)) peak = Math.max(peak, now);
    } catch {
      break; // gone between the check and the read
    }
    await sleep(20);
  }
  if ((await exited) !== 0) throw new Error('bench: the raw download failed');
  return { ms: Number(out.split('\n')[1]), rssGrowth: peak - base };
}

const suite: BenchSuite = {
  title: 'Artifact download from the local cloud (greengrass: URI, presigned URL, SHA-256 verified)',
  async run({ quick }) {
    const mb = quick ? 50 : 200;
    const dir = mkdtempSync(join(tmpdir(), 'tendril-bench-artifact-'));
    chmodSync(dir, 0o755);
    const figures: BenchFigure[] = [];
    const emit = process.emitWarning;
    process.emitWarning = (() => {}) as typeof process.emitWarning;
    const cloud = await createLocalCloud({
      dataDir: join(dir, 'cloud'),
      host: '127.0.0.1',
      port: 0,
      log: () => {},
    });
    const gg = new GreengrassV2Client({
      endpoint: cloud.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' },
    });
    let client: DataPlaneClient | undefined;
    let daemon: ReturnType<typeof spawn> | undefined;
    try {
      const source = join(dir, ARTIFACT);
      writeRandomFile(source, mb * 2 ** 20);
      await upload(cloud, source);
      rmSync(source);
      const recipe = {
        RecipeFormatVersion: '2020-01-25',
        ComponentName: COMPONENT,
        ComponentVersion: '1.0.0',
        Manifests: [
          {
            Platform: { os: 'linux' },
            Lifecycle: { run: 'exec sleep 100000' },
            Artifacts: [{ URI: `greengrass:${ARTIFACT}` }],
          },
        ],
      };
      const created = await gg.send(
        new CreateComponentVersionCommand({ inlineRecipe: Buffer.from(JSON.stringify(recipe)) }),
      );
      await cloud.settleComponents();
      process.emitWarning = emit;

      const device = join(dir, 'device');
      const p = await cloud.provision({ thingName: THING, thingGroup: GROUP, outDir: device });
      const init = yaml.load(readFileSync(p.configPath, 'utf8')) as {
        services: Record<string, { configuration: Record<string, unknown> }>;
      };
      const nucleusConfig = init.services['aws.greengrass.Nucleus'].configuration;
      nucleusConfig.runWithDefault = { posixUser: 'root' };
      writeFileSync(join(device, 'init.yaml'), yaml.dump(init));

      // The digest the cloud computed and put in the recipe it serves to devices.
      client = new DataPlaneClient({
        host: String(nucleusConfig.greengrassDataPlaneEndpoint ?? '127.0.0.1'),
        port: cloud.device.dataPlanePort,
        certificatePath: p.certificatePath,
        privateKeyPath: p.privateKeyPath,
        rootCaPath: p.rootCaPath,
        thingName: THING,
      });
      const resolved = await client.resolveComponent(COMPONENT, { bench: '=1.0.0' }, { os: 'linux' });
      const served = JSON.parse(resolved.recipe) as {
        Manifests: { Artifacts?: { URI: string; Digest?: string; Algorithm?: string }[] }[];
      };
      const artifact = served.Manifests.flatMap((m) => m.Artifacts ?? []).find((a) =>
        a.URI.endsWith(ARTIFACT),
      );
      if (!artifact?.Digest) throw new Error('bench: the served recipe has no artifact digest');
      const url = () => client!.artifactUrl(created.arn!, ARTIFACT);

      // Alternate floor and measured download, best of each (the machine's load varies).
      const rounds = quick ? 3 : 5;
      const raw: { ms: number; rssGrowth: number }[] = [];
      const rawMsList: number[] = [];
      const ours: number[] = [];
      for (let i = 0; i < rounds; i++) {
        raw.push(await rawDownload(await url()));
        rawMsList.push(await rawGetMs(await url()));
        const file = join(dir, 'dl', `${i}.bin`);
        const t0 = nowNs();
        const outcome = await downloadArtifact({ url, file, digest: artifact.Digest, algorithm: 'sha256' });
        ours.push(msSince(t0));
        if (outcome !== 'downloaded') throw new Error(`bench: downloadArtifact said ${outcome}`);
        rmSync(file);
      }
      const best = (xs: number[]) => Math.min(...xs);
      const rawMs = best(rawMsList);
      figures.push({
        name: `downloadArtifact (src/iot: presigned URL over mTLS, to disk, SHA-256 verify), ${mb} MB, best of ${rounds}`,
        value: mb / (best(ours) / 1000),
        unit: 'MB/s',
        floor: {
          name: `raw node:http GET of the same presigned URL in the same process, bytes dropped, best of ${rounds}`,
          value: mb / (rawMs / 1000),
        },
        better: 'higher',
      });

      // The daemon deploying it from the cloud: RSS sampled from before CreateDeployment to SUCCEEDED.
      const root = join(dir, 'root');
      daemon = spawn(
        process.execPath,
        [...tendrilArgs(), 'run', '--root', root, '--init-config', join(device, 'init.yaml')],
        { stdio: 'ignore' },
      );
      for (let i = 0; ; i++) {
        const core = await gg
          .send(new GetCoreDeviceCommand({ coreDeviceThingName: THING }))
          .catch(() => undefined);
        if (core?.status) break;
        if (i > 300 || daemon.exitCode !== null) throw new Error('bench: the daemon did not reach the cloud');
        await sleep(100);
      }
      await sleep(3000);
      const pid = daemon.pid!;
      const base = rssMb(pid);
      let peak = base;
      const t0 = nowNs();
      const d = await gg.send(
        new CreateDeploymentCommand({
          targetArn: `arn:aws:iot:us-east-1:123456789012:thinggroup/${GROUP}`,
          deploymentName: 'bench-artifact',
          components: { [COMPONENT]: { componentVersion: '1.0.0' } },
        }),
      );
      let status = '';
      let lastPoll = 0;
      const end = Date.now() + 600000;
      while (!['SUCCEEDED', 'COMPLETED', 'FAILED', 'REJECTED', 'CANCELED'].includes(status)) {
        if (Date.now() > end) throw new Error('bench: the artifact deployment did not end');
        const now = rssMb(pid);
        if (!Number.isNaN(now)) peak = Math.max(peak, now);
        if (Date.now() - lastPoll >= 100) {
          lastPoll = Date.now();
          const list = await gg.send(new ListEffectiveDeploymentsCommand({ coreDeviceThingName: THING }));
          status =
            list.effectiveDeployments?.find((e) => e.deploymentId === d.deploymentId)
              ?.coreDeviceExecutionStatus ?? '';
        }
        await sleep(20);
      }
      const deployMs = msSince(t0);
      if (status !== 'SUCCEEDED') throw new Error(`bench: the artifact deployment ended ${status}`);
      figures.push(
        {
          name: `daemon RSS growth deploying the ${mb} MB artifact (peak during deployment - before; before ${base.toFixed(1)} MB)`,
          value: peak - base,
          unit: 'MB',
          floor: {
            name: 'a node process doing a raw node:http GET of it to /dev/null, peak - before (best round)',
            value: Math.min(...raw.map((r) => r.rssGrowth)),
          },
          better: 'lower',
        },
        {
          name: `daemon: CreateDeployment -> SUCCEEDED with the ${mb} MB artifact (resolve, download, verify, install, start)`,
          value: deployMs,
          unit: 'ms',
          floor: { name: 'raw node:http GET of the artifact (best round)', value: rawMs },
          better: 'lower',
        },
      );
    } finally {
      process.emitWarning = emit;
      if (daemon) await stopChild(daemon);
      client?.close();
      gg.destroy();
      await cloud.close();
      rmSync(dir, { recursive: true, force: true });
    }
    return figures;
  },
};

export default suite;
