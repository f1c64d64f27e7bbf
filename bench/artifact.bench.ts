// Artifact download (issues 7 and 9): a 1 GiB (128 MiB with --quick) `greengrass:` artifact uploaded
// to the local cloud with PUT /tendril/artifacts. The cloud serves from this process; every client
// runs in a process of its own (bench/artifact-client.ts), as the nucleus runs apart from the cloud,
// alternating round by round so all see the same machine load:
//  - src/iot downloadArtifact (the nucleus's download: to disk, SHA-256 verified against the digest
//    of the recipe the data plane serves) -> MB/s and the process's RSS growth; floors: a raw
//    node:http GET of the same URL with the bytes dropped, the same with SHA-256 of the bytes (the
//    hash the download cannot skip), and curl to /dev/null (a native client). Over the http:// URL
//    the local cloud hands out, and over HTTPS (the same bytes behind a TLS server in this process,
//    trusted by the children through NODE_EXTRA_CA_CERTS), as S3 serves presigned URLs.
//  - the daemon (`tendril run`, compiled dist) deploying a component with that artifact from the
//    cloud: its RSS growth during the deployment, and CreateDeployment -> SUCCEEDED.
import {
  CreateComponentVersionCommand,
  CreateDeploymentCommand,
  GetCoreDeviceCommand,
  ListEffectiveDeploymentsCommand,
} from '@aws-sdk/client-greengrassv2';
import { execFile, spawn } from 'node:child_process';
import { createHash, randomFillSync } from 'node:crypto';
import {
  chmodSync,
  closeSync,
  mkdirSync,
  createReadStream,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { request } from 'node:http';
import { createServer as createHttpsServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';
import yaml from 'js-yaml';
import { DataPlaneClient } from '../src/iot/index.js';
import { LocalCa, type LocalCloud } from '../src/localcloud/index.js';
import type { BenchFigure, BenchSuite } from './harness.js';
import { msSince, nowNs, repo, rssMb, sleep, startBenchCloud, stopChild, tendrilArgs } from './util.js';

const execFileAsync = promisify(execFile);

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

interface ClientRun {
  ms: number;
  /** user + sys CPU of the client process, all threads. */
  cpuMs: number;
  /** Peak RSS during the fetch minus RSS just before it, MB. */
  rssGrowth: number;
}

/**
 * One fetch by bench/artifact-client.ts in a child process (the cloud serves from this one): its own
 * elapsed ms, and its RSS sampled from here every 20 ms. The disk is synced first (untimed), so the
 * write-back of the previous round's gigabyte does not land in this one.
 */
async function runClient(
  mode: string,
  job: Record<string, string>,
  env: NodeJS.ProcessEnv,
): Promise<ClientRun> {
  await execFileAsync('sync');
  const child = spawn(process.execPath, ['--import', 'tsx', join(repo, 'bench/artifact-client.ts'), mode], {
    cwd: repo,
    env,
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((r) => child.once('exit', r));
  let done = false;
  void exited.then(() => (done = true));
  while (!out.includes('ready\n')) {
    if (done) throw new Error(`bench: the ${mode} client exited early`);
    await sleep(5);
  }
  await sleep(300);
  const base = rssMb(child.pid!);
  let peak = base;
  child.stdin.write(JSON.stringify(job) + '\n');
  while (!done) {
    try {
      const now = rssMb(child.pid!); // NaN once the child is a zombie
      if (!Number.isNaN(now)) peak = Math.max(peak, now);
    } catch {
      break; // gone between the check and the read
    }
    await sleep(20);
  }
  if ((await exited) !== 0) throw new Error(`bench: the ${mode} client failed`);
  const result = JSON.parse(out.split('\n')[1]) as { ms: number; cpuMs: number };
  return { ms: result.ms, cpuMs: result.cpuMs, rssGrowth: peak - base };
}

/** curl's own transfer time of `url` to `out` (a native floor), or undefined without curl. */
async function curlMs(url: string, caFile: string, out: string): Promise<number | undefined> {
  await execFileAsync('sync');
  try {
    const r = await execFileAsync('curl', ['-sS', '--cacert', caFile, '-o', out, '-w', '%{time_total}', url]);
    return Number(r.stdout) * 1000;
  } catch {
    return undefined;
  }
}

/** The same presigned URL over HTTPS: a TLS server here serving the cloud's stored artifact file. */
async function httpsFront(
  cloud: LocalCloud,
  dir: string,
): Promise<{ server: Server; port: number; caFile: string }> {
  const ca = await LocalCa.open(join(dir, 'bench-ca'));
  const id = await ca.issueServer(['localhost']);
  const caFile = join(dir, 'bench-ca.pem');
  writeFileSync(caFile, id.caPem);
  const server = createHttpsServer({ key: id.privateKeyPem, cert: id.certificatePem }, (req, res) => {
    const path = new URL(req.url ?? '/', 'https://localhost').searchParams.get('path') ?? '';
    if (!cloud.artifacts.exists(path)) return void res.writeHead(404).end();
    res.writeHead(200, { 'content-length': String(cloud.artifacts.size(path)) });
    cloud.artifacts.read(path).pipe(res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, port: (server.address() as AddressInfo).port, caFile };
}

/** SHA-256 throughput of one core of this machine over 256 MiB in memory, best of 3, MB/s. */
function sha256Mbps(): number {
  const buf = randomFillSync(Buffer.alloc(1 << 20));
  let bestMs = Infinity;
  for (let r = 0; r < 3; r++) {
    const t0 = nowNs();
    const h = createHash('sha256');
    for (let i = 0; i < 256; i++) h.update(buf);
    h.digest();
    bestMs = Math.min(bestMs, msSince(t0));
  }
  return mbps(256, bestMs);
}

const mbps = (mb: number, ms: number) => mb / (ms / 1000);
const MODES = ['raw', 'raw-sha256', 'raw-disk', 'download'] as const;
type Mode = (typeof MODES)[number];
const best = (xs: number[]) => Math.min(...xs);

const suite: BenchSuite = {
  title: 'Artifact download from the local cloud (greengrass: URI, presigned URL, SHA-256 verified)',
  async run({ quick }) {
    const mb = quick ? 128 : 1024;
    const dir = mkdtempSync(join(tmpdir(), 'tendril-bench-artifact-'));
    chmodSync(dir, 0o755);
    const figures: BenchFigure[] = [];
    const emit = process.emitWarning;
    process.emitWarning = (() => {}) as typeof process.emitWarning;
    const { cloud, gg } = await startBenchCloud(dir);
    let client: DataPlaneClient | undefined;
    let daemon: ReturnType<typeof spawn> | undefined;
    let front: Awaited<ReturnType<typeof httpsFront>> | undefined;
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

      // Each client in a process of its own, alternating so all see the same load; best of each.
      // Over the http:// URL the local cloud hands out, and over HTTPS (as S3 serves presigned URLs).
      front = await httpsFront(cloud, dir);
      const env = { ...process.env, NODE_EXTRA_CA_CERTS: front.caFile };
      const rounds = quick ? 3 : 7;
      const sha = sha256Mbps();
      let rawHttpMs = Infinity;
      let rawHttpRss = NaN;
      for (const scheme of ['http', 'https'] as const) {
        const runs: Record<Mode, ClientRun[]> = { raw: [], 'raw-sha256': [], 'raw-disk': [], download: [] };
        const curl: Record<'null' | 'disk', number[]> = { null: [], disk: [] };
        const load0 = loadavg()[0];
        for (let i = 0; i < rounds; i++) {
          const presigned = new URL(await url());
          const at =
            scheme === 'http'
              ? presigned.href
              : `https://localhost:${front.port}${presigned.pathname}${presigned.search}`;
          const file = join(dir, 'dl', `${i}.bin`);
          mkdirSync(join(dir, 'dl'), { recursive: true });
          for (const mode of MODES) {
            runs[mode].push(await runClient(mode, { url: at, file, digest: artifact.Digest }, env));
            rmSync(file, { force: true });
          }
          for (const [k, out] of [
            ['null', '/dev/null'],
            ['disk', file],
          ] as const) {
            const c = await curlMs(at, front.caFile, out);
            if (c !== undefined) curl[k].push(c);
            rmSync(file, { force: true });
          }
        }
        const load = `1-min load average ${load0.toFixed(2)} -> ${loadavg()[0].toFixed(2)} on ${cpus().length} cores`;
        const rate = (k: Mode) => mbps(mb, best(runs[k].map((r) => r.ms)));
        const ours = rate('download');
        if (scheme === 'http') {
          rawHttpMs = best(runs.raw.map((r) => r.ms));
          rawHttpRss = Math.max(...runs.raw.map((r) => r.rssGrowth));
        }
        const node = `node:http${scheme === 'https' ? 's' : ''} GET of the same URL`;
        const floors: Array<[string, number]> = [
          [`${node}, body dropped (no hash, no disk)`, rate('raw')],
          [
            `${node} with SHA-256 of the body, dropped (SHA-256 alone: ${Math.round(sha)} MB/s)`,
            rate('raw-sha256'),
          ],
          [`${node} piped to a file (fs.createWriteStream, no hash)`, rate('raw-disk')],
        ];
        if (curl.null.length > 0)
          floors.push(['curl -o /dev/null of the same URL (native client)', mbps(mb, best(curl.null))]);
        if (curl.disk.length > 0) floors.push(['curl -o FILE of the same URL', mbps(mb, best(curl.disk))]);
        floors.forEach(([name, value], i) =>
          figures.push({
            name:
              i === 0
                ? `downloadArtifact, ${scheme === 'http' ? 'the http:// presigned URL the local cloud hands out' : 'the same URL over HTTPS (TLS server in the bench process)'}, ${mb} MB to disk, SHA-256 verified, best of ${rounds} (${load})`
                : `the same download (${scheme})`,
            value: ours,
            unit: 'MB/s',
            floor: { name, value },
            ...(i === 0 ? { target: '>= 80% of the floor (ratio <= 1.25x)' } : {}),
            better: 'higher',
          }),
        );
        // CPU per GiB does not depend on what else the machine runs, unlike MB/s.
        const cpu = (k: Mode) => best(runs[k].map((r) => r.cpuMs)) / 1000 / (mb / 1024);
        figures.push({
          name: `downloadArtifact CPU per GiB (${scheme}; user+sys of all its threads, best round; the raw GET alone: ${cpu('raw').toFixed(2)} s, piped to a file: ${cpu('raw-disk').toFixed(2)} s)`,
          value: cpu('download'),
          unit: 's',
          floor: { name: 'the raw GET with SHA-256 of the body, dropped', value: cpu('raw-sha256') },
          better: 'lower',
        });
        figures.push({
          name: `downloadArtifact process RSS growth (${scheme}; peak during the download - before, worst of ${rounds})`,
          value: Math.max(...runs.download.map((r) => r.rssGrowth)),
          unit: 'MB',
          floor: {
            name: 'the raw node:http GET process, worst round',
            value: Math.max(...runs.raw.map((r) => r.rssGrowth)),
          },
          target: '< 30 MB',
          better: 'lower',
        });
      }

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
      await execFileAsync('sync');
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
            name: 'the raw node:http GET process (bytes dropped), worst round',
            value: rawHttpRss,
          },
          target: '< 30 MB',
          better: 'lower',
        },
        {
          name: `daemon: CreateDeployment -> SUCCEEDED with the ${mb} MB artifact (resolve, download, verify, install, start)`,
          value: deployMs,
          unit: 'ms',
          floor: { name: 'raw node:http GET of the artifact (best round)', value: rawHttpMs },
          better: 'lower',
        },
      );
    } finally {
      process.emitWarning = emit;
      if (daemon) await stopChild(daemon);
      client?.close();
      front?.server.closeAllConnections();
      front?.server.close();
      gg.destroy();
      await cloud.close();
      rmSync(dir, { recursive: true, force: true });
    }
    return figures;
  },
};

export default suite;
