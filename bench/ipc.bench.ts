// IPC benchmarks: the official greengrasscoreipc client against Tendril's IPC server, each figure
// beside floors measured in the same run: the same client against a minimal server that answers at
// once (no service layer), and a raw Unix-socket echo.
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, connect, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventStreamCodec, type MessageHeaders } from '@smithy/eventstream-codec';
import { fromUtf8, toUtf8 } from '@smithy/util-utf8';
import { io } from 'aws-crt';
import { greengrasscoreipc } from 'aws-iot-device-sdk-v2';
import {
  buildPolicyIndex,
  IpcServer,
  OperationRegistry,
  policyAuthorizer,
  PubSubBroker,
} from '../src/ipc/index.js';
import type { BenchFigure, BenchSuite } from './harness.js';

const codec = new EventStreamCodec(toUtf8, fromUtf8);
const i32 = (value: number) => ({ type: 'integer' as const, value });
const s = (value: string) => ({ type: 'string' as const, value });

/** Answers Connect with an accepted ConnectAck and every request with an empty PublishToTopicResponse. */
function minimalServer(path: string): Promise<Server> {
  const server = createServer((sock) => {
    let buf: Buffer = Buffer.alloc(0);
    sock.on('data', (d: Buffer) => {
      buf = buf.length ? Buffer.concat([buf, d]) : d;
      while (buf.length >= 4 && buf.length >= buf.readUInt32BE(0)) {
        const len = buf.readUInt32BE(0);
        const m = codec.decode(buf.subarray(0, len));
        buf = buf.subarray(len);
        const type = m.headers[':message-type'].value as number;
        const id = m.headers[':stream-id'].value as number;
        const flags = m.headers[':message-flags'].value as number;
        let headers: MessageHeaders | undefined;
        if (type === 4) headers = { ':message-type': i32(5), ':message-flags': i32(1), ':stream-id': i32(0) };
        else if (type === 0 && (flags & 2) === 0)
          headers = {
            ':message-type': i32(0),
            ':message-flags': i32(2),
            ':stream-id': i32(id),
            ':content-type': s('application/json'),
            'service-model-type': s('aws.greengrass#PublishToTopicResponse'),
          };
        if (headers) sock.write(codec.encode({ headers, body: Buffer.from('{}') }));
      }
    });
    sock.on('error', () => {});
  });
  return new Promise((resolve) => server.listen(path, () => resolve(server)));
}

function sdkClient(path: string, token: string): greengrasscoreipc.Client {
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

const publish = (c: greengrasscoreipc.Client, topic: string, i: number) =>
  c.publishToTopic({ topic, publishMessage: { jsonMessage: { message: { i } } } });

/** Mean microseconds per sequential PublishToTopic round trip. */
async function roundTrip(c: greengrasscoreipc.Client, n: number): Promise<number> {
  for (let i = 0; i < Math.min(200, n); i++) await publish(c, 'bench/rt', i);
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) await publish(c, 'bench/rt', i);
  return Number(process.hrtime.bigint() - t0) / 1e3 / n;
}

/** Requests per second with `window` publishes in flight. */
async function pipelined(
  c: greengrasscoreipc.Client,
  n: number,
  window: number,
  topic: string,
): Promise<number> {
  const t0 = process.hrtime.bigint();
  let next = 0;
  await Promise.all(
    Array.from({ length: window }, async () => {
      while (next < n) await publish(c, topic, next++);
    }),
  );
  return n / (Number(process.hrtime.bigint() - t0) / 1e9);
}

/** Mean microseconds per raw Unix-socket echo round trip of a small frame. */
async function rawEcho(path: string, n: number): Promise<number> {
  const server = createServer((sock) => sock.pipe(sock));
  await new Promise<void>((r) => server.listen(path, () => r()));
  const sock = connect(path);
  await new Promise<void>((r) => sock.once('connect', () => r()));
  const payload = Buffer.alloc(120, 1);
  const once = () =>
    new Promise<void>((resolve) => {
      let got = 0;
      const on = (d: Buffer) => {
        got += d.length;
        if (got >= payload.length) {
          sock.off('data', on);
          resolve();
        }
      };
      sock.on('data', on);
      sock.write(payload);
    });
  for (let i = 0; i < 200; i++) await once();
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) await once();
  const us = Number(process.hrtime.bigint() - t0) / 1e3 / n;
  sock.destroy();
  await new Promise<void>((r) => server.close(() => r()));
  return us;
}

const suite: BenchSuite = {
  title: 'IPC (official greengrasscoreipc client over a Unix socket)',
  async run({ quick }): Promise<BenchFigure[]> {
    const n = quick ? 2_000 : 20_000;
    const dir = await mkdtemp(join(tmpdir(), 'tendril-ipc-bench-'));
    try {
      // Tendril server
      const registry = new OperationRegistry();
      new PubSubBroker().register(registry);
      const tokens = new Map([
        ['PUB', 'Publisher'],
        ['SUB', 'Subscriber'],
      ]);
      const server = new IpcServer({
        socketPath: join(dir, 'ipc.socket'),
        authenticate: (t) => tokens.get(t),
        authorize: policyAuthorizer(
          buildPolicyIndex({
            Publisher: { 'aws.greengrass.ipc.pubsub': { p: { operations: ['*'], resources: ['bench/*'] } } },
            Subscriber: { 'aws.greengrass.ipc.pubsub': { s: { operations: ['*'], resources: ['bench/*'] } } },
          }),
        ),
        registry,
        limits: { subscriberQueueLength: n },
      });
      await server.listen();
      const pub = sdkClient(server.socketPath, 'PUB');
      const subClient = sdkClient(server.socketPath, 'SUB');
      await pub.connect();
      await subClient.connect();
      const rtTendril = await roundTrip(pub, n);

      const sub = subClient.subscribeToTopic({ topic: 'bench/stream' });
      let received = 0;
      let allIn: () => void = () => {};
      const done = new Promise<void>((r) => (allIn = r));
      sub.on('message', () => {
        if (++received === n) allIn();
      });
      await sub.activate();
      const t0 = process.hrtime.bigint();
      await pipelined(pub, n, 64, 'bench/stream');
      await done;
      const pubsubRate = n / (Number(process.hrtime.bigint() - t0) / 1e9);
      const dropped = server.stats().droppedEvents;
      if (dropped > 0) throw new Error(`benchmark subscriber dropped ${dropped} events`);
      await sub.close();
      await pub.close();
      await subClient.close();
      await server.close();

      // Floor 1: the same client against a server that answers at once.
      const minPath = join(dir, 'min.socket');
      const minimal = await minimalServer(minPath);
      const minClient = sdkClient(minPath, 'X');
      await minClient.connect();
      const rtMinimal = await roundTrip(minClient, n);
      const pipeMinimal = await pipelined(minClient, n, 64, 'bench/stream');
      await minClient.close();
      await new Promise<void>((r) => minimal.close(() => r()));

      // Floor 2: a raw Unix-socket echo.
      const echo = await rawEcho(join(dir, 'echo.socket'), n);

      return [
        {
          name: 'PublishToTopic round trip (no subscribers)',
          value: rtTendril,
          unit: 'us',
          floor: { name: 'same client, minimal ack server', value: rtMinimal },
          better: 'lower',
        },
        {
          name: 'PublishToTopic round trip (no subscribers), against the socket floor',
          value: rtTendril,
          unit: 'us',
          floor: { name: 'raw Unix-socket echo of 120 B', value: echo },
          better: 'lower',
        },
        {
          name: 'pub/sub throughput, 1 publisher (64 in flight) -> 1 subscriber, delivered',
          value: pubsubRate,
          unit: 'msg/s',
          floor: { name: 'same client, 64 in flight, minimal ack server', value: pipeMinimal },
          better: 'higher',
        },
      ];
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  },
};
export default suite;
