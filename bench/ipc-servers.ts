// The two IPC servers of the IPC benchmark: Tendril's (pub/sub and configuration services, with
// authorization) and the floor, a minimal server that answers every request at once with a
// response of the same size. The benchmark runs them in a child process of their own, as the
// nucleus runs apart from its components (run as a script: `ipc-servers.ts DIR N`), so that the
// clients' work and the server's do not share one JavaScript thread, and the server's memory is
// measured in its own heap.
import { createServer, type Server as NetServer } from 'node:net';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { EventStreamCodec, type MessageHeaders } from '@smithy/eventstream-codec';
import { fromUtf8, toUtf8 } from '@smithy/util-utf8';
import { existsSync } from 'node:fs';
import type { IpcServer, PubSubBroker } from '../src/ipc/index.js';

/**
 * Tendril's code as it runs in production: the compiled dist/ (built by `npm ci`), so that the
 * TypeScript loader's per-call overhead is not charged to the server; the sources when not built.
 */
export const SERVER_CODE = existsSync(new URL('../dist/ipc/index.js', import.meta.url)) ? 'dist' : 'src';
const { Configuration } = (await import(
  `../${SERVER_CODE}/config/index.js`
)) as typeof import('../src/config/index.js');
const {
  buildPolicyIndex,
  ConfigurationService,
  IpcServer: Server,
  OperationRegistry,
  policyAuthorizer,
  PubSubBroker: Broker,
} = (await import(`../${SERVER_CODE}/ipc/index.js`)) as typeof import('../src/ipc/index.js');

const codec = new EventStreamCodec(toUtf8, fromUtf8);
const i32 = (value: number) => ({ type: 'integer' as const, value });
const s = (value: string) => ({ type: 'string' as const, value });
export const SIZES = [100, 1024, 10 * 1024];
/** A JSON object whose serialization is about `n` bytes. */
export const blob = (n: number) => ({ data: 'x'.repeat(Math.max(0, n - 11)) });

/**
 * Answers Connect with an accepted ConnectAck and every request at once with `{operation}Response`;
 * the body is `bodies[operation]` or `{}`, so responses are as large as Tendril's.
 */
export function minimalServer(path: string, bodies: () => Map<string, Buffer>): Promise<NetServer> {
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
        const op = m.headers.operation?.value as string | undefined;
        let headers: MessageHeaders | undefined;
        if (type === 4) headers = { ':message-type': i32(5), ':message-flags': i32(1), ':stream-id': i32(0) };
        else if (type === 0 && (flags & 2) === 0 && op)
          headers = {
            ':message-type': i32(0),
            ':message-flags': i32(2),
            ':stream-id': i32(id),
            ':content-type': s('application/json'),
            'service-model-type': s(`${op}Response`),
          };
        if (headers) sock.write(codec.encode({ headers, body: bodies().get(op ?? '') ?? Buffer.from('{}') }));
      }
    });
    sock.on('error', () => {});
  });
  return new Promise((resolve) => server.listen(path, () => resolve(server)));
}

export interface BenchServers {
  server: IpcServer;
  broker: PubSubBroker;
  /** token -> component */
  tokens: Map<string, string>;
  floorPath: string;
  setFloorBodies(bodies: Map<string, Buffer>): void;
  close(): Promise<void>;
}

export async function startBenchServers(dir: string, queueLength: number): Promise<BenchServers> {
  const config = new Configuration();
  const configFor = (size: number) => ({ [`v${size}`]: blob(size) });
  config.merge({
    services: { Publisher: { configuration: Object.assign({}, ...SIZES.map(configFor)) } },
  });
  const registry = new OperationRegistry();
  const broker = new Broker().register(registry);
  const configuration = new ConfigurationService({ config }).register(registry);
  const tokens = new Map([['PUB', 'Publisher']]);
  for (let i = 0; i < 10; i++) tokens.set(`SUB${i}`, 'Subscriber');
  const allow = { operations: ['*'], resources: ['bench/*'] };
  const server = new Server({
    socketPath: join(dir, 'ipc.socket'),
    authenticate: (t) => tokens.get(t),
    authorize: policyAuthorizer(
      buildPolicyIndex({
        Publisher: { 'aws.greengrass.ipc.pubsub': { p: allow } },
        Subscriber: { 'aws.greengrass.ipc.pubsub': { s: allow } },
      }),
    ),
    registry,
    limits: { subscriberQueueLength: queueLength },
  });
  await server.listen();
  let floorBodies = new Map<string, Buffer>();
  const floorPath = join(dir, 'min.socket');
  const minimal = await minimalServer(floorPath, () => floorBodies);
  return {
    server,
    broker,
    tokens,
    floorPath,
    setFloorBodies: (b) => (floorBodies = b),
    close: async () => {
      configuration.close();
      await server.close();
      await new Promise<void>((r) => minimal.close(() => r()));
    },
  };
}

/** Messages between the benchmark and the server process. */
export type ServerRequest =
  { type: 'bodies'; bodies: [string, string][] } | { type: 'stats' } | { type: 'memory' } | { type: 'close' };
export type ServerReply =
  | { type: 'ready'; socketPath: string; floorPath: string }
  | { type: 'ok' }
  | { type: 'stats'; droppedEvents: number }
  | { type: 'memory'; bytes: number; subscriptions: number };

/** Heap plus array buffers after a forced full GC. */
export function memoryAfterGc(): number {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  for (let i = 0; i < 3; i++) gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

if (process.send && process.argv[1]?.endsWith('ipc-servers.ts')) {
  const [dir, n] = process.argv.slice(2);
  const servers = await startBenchServers(dir, Number(n));
  const reply = (m: ServerReply) => process.send!(m);
  process.on('message', (m: ServerRequest) => {
    if (m.type === 'bodies') {
      servers.setFloorBodies(new Map(m.bodies.map(([k, v]) => [k, Buffer.from(v, 'base64')])));
      reply({ type: 'ok' });
    } else if (m.type === 'stats')
      reply({ type: 'stats', droppedEvents: servers.server.stats().droppedEvents });
    else if (m.type === 'memory')
      reply({ type: 'memory', bytes: memoryAfterGc(), subscriptions: servers.broker.subscriptionCount });
    else if (m.type === 'close') void servers.close().then(() => process.exit(0));
  });
  reply({ type: 'ready', socketPath: servers.server.socketPath, floorPath: servers.floorPath });
}
