// IPC benchmarks: the official greengrasscoreipc client against Tendril's IPC server, each figure
// beside a floor measured in the same run: the same client against a minimal server that answers
// every request at once with a response of the same size (no service layer, no authorization).
// Both servers run in a child process, apart from the clients, as the nucleus runs apart from its
// components, and the subscribers in another; the memory figure is the server process's heap.
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { io } from 'aws-crt';
import { greengrasscoreipc } from 'aws-iot-device-sdk-v2';
import { frame, RawPeer, str } from '../test/integration/ipc/raw.js';
import type { BenchFigure, BenchSuite } from './harness.js';
import type { SubscriberReply } from './ipc-subscribers.js';
import { blob, SIZES, type ServerReply, type ServerRequest } from './ipc-servers.js';

type Client = greengrasscoreipc.Client;
const sizeName = (n: number) => (n >= 1024 ? `${n / 1024} KB` : `${n} B`);

function sdkClient(path: string, token: string): Client {
  return greengrasscoreipc.createClient({
    hostName: path,
    port: 0,
    socketOptions: new io.SocketOptions(io.SocketType.STREAM, io.SocketDomain.LOCAL),
    connectTransform: async (o) => {
      o.message.payload = JSON.stringify({ authToken: token });
      return o.message;
    },
  });
}

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];

interface Percentiles {
  p50: number;
  p99: number;
}

/**
 * p50/p99 microseconds of `n` sequential calls of each of `a` and `b`, after a warm-up. The two are
 * measured in alternating blocks so that drift (other load, GC, CPU frequency) hits both alike.
 */
async function pairedLatencies(
  n: number,
  a: () => Promise<unknown>,
  b: () => Promise<unknown>,
): Promise<[Percentiles, Percentiles]> {
  const block = 250;
  const samples: [number[], number[]] = [[], []];
  for (let i = 0; i < 300; i++) {
    await a();
    await b();
  }
  for (let done = 0; done < n; done += block) {
    for (const [k, call] of [a, b].entries()) {
      for (let i = 0; i < block; i++) {
        const t0 = process.hrtime.bigint();
        await call();
        samples[k].push(Number(process.hrtime.bigint() - t0) / 1e3);
      }
    }
  }
  return samples.map((us) => {
    us.sort((x, y) => x - y);
    return { p50: percentile(us, 0.5), p99: percentile(us, 0.99) };
  }) as [Percentiles, Percentiles];
}

/** Runs `n` calls with `window` in flight; returns calls per second. */
async function pipelined(n: number, window: number, call: (i: number) => Promise<unknown>): Promise<number> {
  const t0 = process.hrtime.bigint();
  let next = 0;
  await Promise.all(
    Array.from({ length: window }, async () => {
      while (next < n) await call(next++);
    }),
  );
  return n / (Number(process.hrtime.bigint() - t0) / 1e9);
}

const publish = (c: Client, topic: string, message: object) =>
  c.publishToTopic({ topic, publishMessage: { jsonMessage: { message } } });

async function stopChild(child: ChildProcess): Promise<void> {
  const exited = new Promise((r) => child.once('exit', r));
  child.send({ type: 'close' } satisfies ServerRequest);
  await exited;
}

const figure = (
  name: string,
  value: number,
  unit: string,
  floorName: string,
  floor: number,
  better: 'higher' | 'lower',
  target?: string,
): BenchFigure => ({ name, value, unit, floor: { name: floorName, value: floor }, better, target });

const suite: BenchSuite = {
  title: 'IPC (official greengrasscoreipc client over a Unix socket)',
  async run({ quick }): Promise<BenchFigure[]> {
    const n = quick ? 1_000 : 5_000;
    const nThroughput = quick ? 5_000 : 20_000;
    const dir = await mkdtemp(join(tmpdir(), 'tendril-ipc-bench-'));
    const figures: BenchFigure[] = [];
    try {
      // ---- both servers in a process of their own ----
      const child = fork(
        fileURLToPath(new URL('./ipc-servers.ts', import.meta.url)),
        [dir, String(nThroughput)],
        {
          execArgv: ['--import', 'tsx'],
        },
      );
      const ask = (m: ServerRequest) =>
        new Promise<ServerReply>((resolve) => {
          child.once('message', (r: ServerReply) => resolve(r));
          child.send(m);
        });
      const ready = await new Promise<ServerReply>((resolve, reject) => {
        child.once('message', (r: ServerReply) => resolve(r));
        child.once('exit', (code) => reject(new Error(`the IPC server process exited (${code})`)));
      });
      if (ready.type !== 'ready') throw new Error(`unexpected ${JSON.stringify(ready)}`);
      const socketPath = ready.socketPath;
      const floorClient = sdkClient(ready.floorPath, 'X');
      await floorClient.connect();

      const pub = sdkClient(socketPath, 'PUB');
      await pub.connect();
      const rt: { name: string; t: Percentiles; f: Percentiles }[] = [];
      for (const size of SIZES) {
        const message = blob(size);
        const keyPath = [`v${size}`];
        // GetConfiguration answers {componentName, value: {v<size>: blob}}; the floor sends the same bytes.
        const answer = await pub.getConfiguration({ keyPath });
        await ask({
          type: 'bodies',
          bodies: [
            ['aws.greengrass#GetConfiguration', Buffer.from(JSON.stringify(answer)).toString('base64')],
          ],
        });
        const [getT, getF] = await pairedLatencies(
          n,
          () => pub.getConfiguration({ keyPath }),
          () => floorClient.getConfiguration({ keyPath }),
        );
        rt.push({ name: `GetConfiguration round trip, ${sizeName(size)} value`, t: getT, f: getF });
        const [pubT, pubF] = await pairedLatencies(
          n,
          () => publish(pub, 'bench/rt', message),
          () => publish(floorClient, 'bench/rt', message),
        );
        rt.push({
          name: `PublishToTopic round trip, ${sizeName(size)} message (no subscribers)`,
          t: pubT,
          f: pubF,
        });
      }
      for (const r of rt) {
        figures.push(
          figure(
            `${r.name}, p50`,
            r.t.p50,
            'us',
            'same client, minimal ack server, p50',
            r.f.p50,
            'lower',
            'within 1.25x of the floor',
          ),
          figure(`${r.name}, p99`, r.t.p99, 'us', 'same client, minimal ack server, p99', r.f.p99, 'lower'),
        );
      }

      // ---- delivered messages/s, 1 KB, 64 publishes in flight, 1 and 10 subscribers ----
      const floorRate = await pipelined(nThroughput, 64, () =>
        publish(floorClient, 'bench/stream', blob(1024)),
      );
      for (const subscribers of [1, 10]) {
        const expected = nThroughput * subscribers;
        const subs = fork(
          fileURLToPath(new URL('./ipc-subscribers.ts', import.meta.url)),
          [socketPath, String(subscribers), String(expected)],
          { execArgv: ['--import', 'tsx'] },
        );
        const next = () => new Promise<SubscriberReply>((r) => subs.once('message', r));
        if ((await next()).type !== 'ready') throw new Error('the subscriber process did not start');
        const done = next();
        const t0 = process.hrtime.bigint();
        await pipelined(nThroughput, 64, () => publish(pub, 'bench/stream', blob(1024)));
        await done;
        const rate = expected / (Number(process.hrtime.bigint() - t0) / 1e9);
        const stats = await ask({ type: 'stats' });
        if (stats.type === 'stats' && stats.droppedEvents > 0)
          throw new Error(`subscribers dropped ${stats.droppedEvents} events`);
        const exited = new Promise((r) => subs.once('exit', r));
        subs.send('close');
        await exited;
        // The target reads against delivered messages/s; publishes/s (delivered divided by
        // the subscriber count) is reported beside it so that the fan-out cost per publish shows.
        // The subscribers run in a process apart from the publisher, as components do.
        const fanOut = `PublishToTopic 1 KB -> ${subscribers} subscriber${subscribers > 1 ? 's' : ''}, 64 in flight`;
        figures.push(
          figure(
            `${fanOut}, delivered messages (the target's measure)`,
            rate,
            'msg/s',
            'same client, 64 in flight, minimal ack server, requests',
            floorRate,
            'higher',
            "delivered >= 70% of the floor's requests/s (ratio <= 1.43x)",
          ),
          figure(
            `${fanOut}, publishes (delivered / ${subscribers})`,
            rate / subscribers,
            'msg/s',
            'same client, 64 in flight, minimal ack server, requests',
            floorRate,
            'higher',
          ),
        );
      }
      await pub.close();
      await floorClient.close();
      // ---- server memory per 1,000 subscriptions, measured in the server's process (raw peers) ----
      const SUBS = 1000;
      const token = 'SUB0';
      const serverMemory = async () => {
        const r = await ask({ type: 'memory' });
        if (r.type !== 'memory') throw new Error(`unexpected ${JSON.stringify(r)}`);
        return r;
      };
      const memoryPer1000 = async (filter: (peer: number, i: number) => string): Promise<number> => {
        await new Promise((r) => setTimeout(r, 200));
        const before = (await serverMemory()).bytes;
        const peers: RawPeer[] = [];
        for (let p = 0; p < SUBS / 100; p++) {
          const peer = await RawPeer.open(socketPath);
          await peer.handshake(token);
          for (let i = 1; i <= 100; i++) {
            const topic = filter(p, i);
            peer.send(
              frame(
                0,
                0,
                i,
                { operation: str('aws.greengrass#SubscribeToTopic') },
                JSON.stringify({ topic }),
              ),
            );
          }
          await peer.waitFor(101);
          peer.messages.length = 0;
          peers.push(peer);
        }
        const after = await serverMemory();
        if (after.subscriptions !== SUBS)
          throw new Error(`expected ${SUBS} subscriptions, got ${after.subscriptions}`);
        for (const p of peers) p.destroy();
        for (let i = 0; i < 200 && (await serverMemory()).subscriptions > 0; i++)
          await new Promise((r) => setTimeout(r, 10));
        return (after.bytes - before) / 1024;
      };
      // a first round, discarded: the fresh server's one-time allocations (pools, compiled code,
      // shapes) are not per-subscription costs
      await memoryPer1000((p, i) => `bench/warm/${p}/${i}/+`);
      figures.push({
        name: `server memory growth per 1,000 open subscriptions (heap + buffers after GC, 10 connections)`,
        value: await memoryPer1000((p, i) => `bench/mem/${p}/${i}/+`),
        unit: 'KB',
        better: 'lower',
        target: '< 1024 KB',
      });
      figures.push({
        name: `the same, all 1,000 on one filter (streams and subscriptions without trie nodes)`,
        value: await memoryPer1000(() => 'bench/mem/+'),
        unit: 'KB',
        better: 'lower',
      });
      await stopChild(child);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    return figures;
  },
};
export default suite;
