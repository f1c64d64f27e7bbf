// Local cloud: control-plane requests/s (GetComponent, ListComponents over 1,000 components) beside a bare
// node:http server answering a fixed small JSON, and IoT jobs fan-out of one deployment to a 1,000-thing
// group beside inserting the same rows in one SQLite transaction; all measured in the same run.
import {
  CreateDeploymentCommand,
  GetComponentCommand,
  GreengrassV2Client,
  ListComponentsCommand,
} from '@aws-sdk/client-greengrassv2';
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, request, Agent } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLocalCloud, componentVersionArn } from '../src/localcloud/index.js';
import type { BenchFigure, BenchSuite } from './harness.js';

const CONCURRENCY = 16;

/** Requests/s of `send` with CONCURRENCY callers for `ms` milliseconds. */
async function rate(send: () => Promise<unknown>, ms: number): Promise<number> {
  let count = 0;
  const end = performance.now() + ms;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (performance.now() < end) {
        await send();
        count++;
      }
    }),
  );
  return count / ((performance.now() - t0) / 1000);
}

function client(endpoint: string): GreengrassV2Client {
  return new GreengrassV2Client({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'x', secretAccessKey: 'y' },
    maxAttempts: 1,
  });
}

/** Floor: a bare node:http server with a fixed small JSON body, called through the same SDK client stack. */
async function bareServerRate(ms: number): Promise<number> {
  const body = JSON.stringify({ arn: 'arn:aws:greengrass:us-east-1:123456789012:components:C', tags: {} });
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(body.length) });
    res.end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as AddressInfo).port;
  const c = client(`http://127.0.0.1:${port}`);
  const arn = 'arn:aws:greengrass:us-east-1:123456789012:components:C:versions:1.0.0';
  const r = await rate(() => c.send(new GetComponentCommand({ arn })), ms);
  c.destroy();
  server.closeAllConnections();
  await new Promise<void>((res) => server.close(() => res()));
  return r;
}

/** Floor for raw HTTP: the same bare server called with node:http and keep-alive. */
async function bareRawRate(ms: number): Promise<number> {
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': '2' });
    res.end('{}');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as AddressInfo).port;
  const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  const r = await rate(
    () =>
      new Promise<void>((resolve, reject) => {
        request({ host: '127.0.0.1', port, path: '/', agent }, (res) => {
          res.resume();
          res.on('end', resolve);
        })
          .on('error', reject)
          .end();
      }),
    ms,
  );
  agent.destroy();
  server.closeAllConnections();
  await new Promise<void>((res) => server.close(() => res()));
  return r;
}

function sqliteFloor(dir: string, things: number): number {
  const db = new Database(join(dir, 'floor.sqlite'));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.exec(`CREATE TABLE e (job_id TEXT, thing TEXT, status TEXT, status_details TEXT, queued_ms INTEGER,
    started_ms INTEGER, updated_ms INTEGER, version INTEGER, execution_number INTEGER, PRIMARY KEY (job_id, thing));
    CREATE TABLE d (thing TEXT, deployment_id TEXT, status TEXT, created_ms INTEGER, PRIMARY KEY (thing, deployment_id))`);
  const put = db.prepare(`INSERT INTO e VALUES (?, ?, 'QUEUED', '{}', ?, NULL, ?, 1, 1)`);
  const put2 = db.prepare(`INSERT INTO d VALUES (?, ?, 'QUEUED', ?)`);
  const t0 = performance.now();
  db.transaction(() => {
    for (let i = 0; i < things; i++) {
      put.run('job', `thing-${i}`, 1, 1);
      put2.run(`thing-${i}`, 'dep', 1);
    }
  })();
  const ms = performance.now() - t0;
  db.close();
  return ms;
}

const suite: BenchSuite = {
  title: 'Local cloud (control plane and jobs fan-out)',
  async run({ quick }) {
    const window = quick ? 500 : 3000;
    const things = 1000;
    const dir = mkdtempSync(join(tmpdir(), 'tendril-bench-localcloud-'));
    const cloud = await createLocalCloud({ dataDir: join(dir, 'cloud'), log: () => {} });
    const figures: BenchFigure[] = [];
    try {
      cloud.store.transaction(() => {
        for (let i = 0; i < 1000; i++)
          cloud.store.components.insert({
            name: `com.bench.C${String(i).padStart(4, '0')}`,
            version: '1.0.0',
            createdMs: Date.now(),
            state: 'DEPLOYABLE',
            recipe: {
              RecipeFormatVersion: '2020-01-25',
              ComponentName: `com.bench.C${i}`,
              ComponentVersion: '1.0.0',
              Manifests: [{ Platform: { os: 'linux' }, Lifecycle: { run: 'true' } }],
            },
            platforms: [{ attributes: { os: 'linux' } }],
          });
      });
      const c = client(cloud.endpoint);
      const arn = componentVersionArn(cloud.arn, 'com.bench.C0500', '1.0.0');
      const bareSdk = await bareServerRate(window);
      const bareRaw = await bareRawRate(window);
      const get = await rate(() => c.send(new GetComponentCommand({ arn })), window);
      const list = await rate(() => c.send(new ListComponentsCommand({ maxResults: 50 })), window);
      figures.push(
        {
          name: 'GetComponent (SDK, 1,000 components, 16 concurrent)',
          value: get,
          unit: 'req/s',
          floor: { name: 'bare node:http fixed JSON via the same SDK', value: bareSdk },
          better: 'higher',
        },
        {
          name: 'ListComponents page of 50 (SDK, 1,000 components)',
          value: list,
          unit: 'req/s',
          floor: { name: 'bare node:http fixed JSON via the same SDK', value: bareSdk },
          better: 'higher',
        },
        {
          name: 'bare node:http fixed JSON via the SDK',
          value: bareSdk,
          unit: 'req/s',
          floor: { name: 'same server via raw node:http keep-alive', value: bareRaw },
          better: 'higher',
        },
      );

      cloud.store.transaction(() => {
        for (let i = 0; i < things; i++) {
          cloud.store.things.create(`thing-${i}`, Date.now());
          cloud.store.coreDevices.addToThingGroup('big', `thing-${i}`);
        }
      });
      const t0 = performance.now();
      await c.send(
        new CreateDeploymentCommand({
          targetArn: 'arn:aws:iot:us-east-1:123456789012:thinggroup/big',
          components: { 'com.bench.C0001': { componentVersion: '1.0.0' } },
        }),
      );
      await cloud.deviceIdle();
      const fanOut = performance.now() - t0;
      const queued = cloud.store.jobs.pending('thing-999').length;
      if (queued !== 1) throw new Error(`fan-out did not queue thing-999 (pending ${queued})`);
      c.destroy();
      figures.push({
        name: `CreateDeployment to a ${things}-thing group: jobs, executions, effective deployments, 2 notifications each`,
        value: fanOut,
        unit: 'ms',
        floor: { name: 'same rows inserted in one SQLite transaction', value: sqliteFloor(dir, things) },
        better: 'lower',
      });
    } finally {
      await cloud.close();
      rmSync(dir, { recursive: true, force: true });
    }
    return figures;
  },
};

export default suite;
