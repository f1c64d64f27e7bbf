// Fuzz: random and mutated frames over many raw connections against a real IPC server with the
// pub/sub, configuration and fallback services, while an official client keeps doing publish/subscribe
// round trips (ipc.md IPC-04, IPC-06, IPC-09, IPC-12, IPC-13, IPC-17, IPC-18, IPC-33, IPC-36, IPC-131).
// Seeded: FUZZ_SEED=<n> replays a run; the seed is printed. Bounded by SESSIONS and FRAMES_PER_SESSION.
import { expect } from 'chai';
import { officialClient } from '../../support/ipc-client.js';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventStreamCodec } from '@smithy/eventstream-codec';
import { fromUtf8, toUtf8 } from '@smithy/util-utf8';
import { greengrasscoreipc } from 'aws-iot-device-sdk-v2';
import { Configuration } from '../../../src/config/index.js';
import {
  AuthTokenRegistry,
  buildPolicyIndex,
  ConfigurationService,
  IpcServer,
  OperationRegistry,
  policyAuthorizer,
  PubSubBroker,
  registerUnavailableOperations,
} from '../../../src/ipc/index.js';
import {
  connectFrame,
  encodeRaw,
  i32h,
  OPS,
  randomHeader,
  randomJson,
  requestPayload,
  reseal,
  Rng,
  rpcFrame,
  strh,
} from './fuzz-frames.js';
import { until } from './harness.js';

const SESSIONS = 500;
const FRAMES_PER_SESSION = [10, 60] as const;
const PARALLEL = 16;
const seed = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : (Date.now() ^ (process.pid << 8)) >>> 0;

const codec = new EventStreamCodec(toUtf8, fromUtf8);

interface SessionResult {
  frames: number;
  /** Well-formed frames the server answered with. */
  replies: number;
  /** Server output that failed to decode or lacked the RPC headers (must stay empty). */
  badReplies: string[];
}

/** Builds one session's bytes: an optional handshake, then a mix of frames. */
function sessionBytes(r: Rng, token: string): { chunks: Buffer[]; frames: number } {
  const out: Buffer[] = [];
  let frames = 0;
  const push = (b: Buffer) => {
    out.push(b);
    frames++;
  };
  const style = r.int(10);
  if (style < 7) push(connectFrame(token));
  else if (style === 7) push(connectFrame('WRONG-TOKEN'));
  else if (style === 8)
    push(
      rpcFrame(
        4,
        0,
        0,
        [strh(':version', r.pick(['0.0.1', '', '0.1.0']))],
        JSON.stringify(randomJson(r)) ?? '',
      ),
    );
  let nextId = 1;
  const n = FRAMES_PER_SESSION[0] + r.int(FRAMES_PER_SESSION[1] - FRAMES_PER_SESSION[0]);
  // Half the sessions stay protocol-valid (random payloads, interleaved ids, pings) so most of their
  // frames reach the operation handlers; the rest mix in corrupt frames, most of which end the connection.
  const hostile = r.chance(0.5);
  for (let i = 0; i < n; i++) {
    const roll = hostile || i === n - 1 ? r.int(100) : r.int(58);
    const op = r.pick(OPS);
    const request = () => rpcFrame(0, 0, nextId++, [strh('operation', op)], requestPayload(r, op));
    if (roll < 45) push(request());
    else if (roll < 53) {
      // interleaved or invalid stream ids, terminates on open and closed streams
      const id = hostile
        ? r.pick([nextId - 1, nextId - 2, 0, -1, nextId + 1, 0x7fffffff, r.int(nextId + 2)])
        : 1 + r.int(Math.max(1, nextId - 1));
      const flags = r.pick([0, 2, 3, 1]);
      push(
        rpcFrame(
          r.pick([0, 1]),
          flags,
          id,
          r.chance(0.5) ? [strh('operation', op)] : [],
          requestPayload(r, op),
        ),
      );
    } else if (roll < 58) push(rpcFrame(2, 0, 0, [strh('x-echo', 'p')], 'ping'));
    else if (roll < 62) push(rpcFrame(r.int(12), r.int(4), r.int(3), [], ''));
    else if (roll < 77) {
      const f = request();
      for (let k = 1 + r.int(3); k > 0; k--) f[r.int(f.length)] ^= 1 << r.int(8);
      push(r.chance(0.6) ? reseal(f) : f);
    } else if (roll < 88) {
      const headers = Array.from({ length: r.int(6) }, () => randomHeader(r));
      if (r.chance(0.5))
        headers.unshift(i32h(':message-type', 0), i32h(':message-flags', 0), i32h(':stream-id', nextId++));
      push(encodeRaw(headers, r.bytes(r.int(30))));
    } else if (roll < 91) push(r.bytes(1 + r.int(40)));
    else if (roll < 92) {
      const f = request();
      f.writeUInt32BE(r.pick([0, 5, 15, 16, 25 * 1024 * 1024, 0xffffffff, f.length + 1 + r.int(100)]), 0);
      if (r.chance(0.5)) reseal(f);
      push(f);
      break;
    } else if (roll < 93) {
      const f = request();
      push(f.subarray(0, r.int(f.length)));
      break;
    } else {
      const big = JSON.stringify({
        topic: 'fuzz/a',
        publishMessage: { jsonMessage: { message: { x: 'y'.repeat(20_000 + r.int(200_000)) } } },
      });
      push(rpcFrame(0, 0, nextId++, [strh('operation', OPS[0])], big));
    }
  }
  // Split into random chunks to exercise partial reads and several frames per read [IPC-06].
  const all = Buffer.concat(out);
  const chunks: Buffer[] = [];
  for (let at = 0; at < all.length;) {
    const len = 1 + r.int(r.chance(0.3) ? 16 : 4096);
    chunks.push(all.subarray(at, at + len));
    at += len;
  }
  return { chunks, frames };
}

/** Sends one session on a fresh connection, checks every byte the server sends back, waits for close. */
function runSession(path: string, r: Rng, token: string): Promise<SessionResult> {
  const { chunks, frames } = sessionBytes(r, token);
  const badReplies: string[] = [];
  let replies = 0;
  return new Promise((resolve) => {
    const sock = connect(path);
    let buf = Buffer.alloc(0);
    sock.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      while (buf.length >= 4 && buf.length >= buf.readUInt32BE(0)) {
        const len = buf.readUInt32BE(0);
        try {
          const m = codec.decode(buf.subarray(0, len));
          replies++;
          for (const h of [':message-type', ':message-flags', ':stream-id']) {
            if (m.headers[h]?.type !== 'integer') badReplies.push(`reply without int32 ${h}`);
          }
        } catch (err) {
          badReplies.push(`undecodable reply: ${(err as Error).message}`);
        }
        buf = buf.subarray(len);
      }
    });
    sock.on('error', () => {});
    sock.on('close', () => {
      if (buf.length > 0) badReplies.push(`${buf.length} trailing reply bytes`);
      resolve({ frames, replies, badReplies });
    });
    sock.on('connect', () => {
      for (const c of chunks) if (!sock.destroyed) sock.write(c);
      // Half-close: the server sees EOF after the last byte and closes its side.
      sock.end();
    });
  });
}

describe('IPC fuzz: random and mutated frames (official client alongside)', function () {
  this.timeout(120_000);
  let dir: string;
  let server: IpcServer;
  let broker: PubSubBroker;
  let configuration: ConfigurationService;
  const tokens = new AuthTokenRegistry();
  const clients: greengrasscoreipc.Client[] = [];
  const rejections: unknown[] = [];
  const onRejection = (reason: unknown) => rejections.push(reason);

  function client(component: string): greengrasscoreipc.Client {
    const token = tokens.issue(component);
    const c = officialClient(server.socketPath, token);
    clients.push(c);
    return c;
  }

  before(async () => {
    process.on('unhandledRejection', onRejection);
    dir = await mkdtemp(join(tmpdir(), 'tendril-ipc-fuzz-'));
    const config = new Configuration();
    config.merge({
      services: {
        Fuzzer: { configuration: { a: 1, b: { c: 'x' } } },
        Probe: { configuration: { n: 0 } },
      },
    });
    const registry = new OperationRegistry();
    broker = new PubSubBroker().register(registry);
    configuration = new ConfigurationService({ config }).register(registry);
    registerUnavailableOperations(registry);
    const all = { operations: ['*'], resources: ['*'] };
    server = new IpcServer({
      socketPath: join(dir, 'ipc.socket'),
      authenticate: tokens.lookup,
      authorize: policyAuthorizer(
        buildPolicyIndex({
          Fuzzer: { 'aws.greengrass.ipc.pubsub': { f1: all }, 'aws.greengrass.ipc.mqttproxy': { f2: all } },
          Probe: { 'aws.greengrass.ipc.pubsub': { p1: { operations: ['*'], resources: ['fuzz/probe'] } } },
        }),
      ),
      registry,
      limits: { maxMessageSize: 1024 * 1024, maxSubscriptionsPerConnection: 16 },
    });
    await server.listen();
  });
  after(async () => {
    process.off('unhandledRejection', onRejection);
    for (const c of clients) await c.close().catch(() => {});
    configuration.close();
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('[IPC-04][IPC-06][IPC-09][IPC-17][IPC-36][IPC-131] survives >= 10,000 frames, leaks no connection, keeps serving a well-behaved client', async () => {
    console.log(`      fuzz seed ${seed} (replay with FUZZ_SEED=${seed})`);
    const rng = new Rng(seed);
    const protoKeys = Object.getOwnPropertyNames(Object.prototype);

    // The well-behaved official client: publish -> own subscription round trips, throughout.
    const sub = client('Probe');
    const pub = client('Probe');
    await sub.connect();
    await pub.connect();
    const waiting = new Map<number, () => void>();
    const op = sub.subscribeToTopic({
      topic: 'fuzz/probe',
      receiveMode: greengrasscoreipc.model.ReceiveMode.RECEIVE_ALL_MESSAGES,
    });
    op.on('message', (m) => {
      const probe = (m.jsonMessage?.message as { probe?: unknown } | undefined)?.probe;
      if (typeof probe === 'number') waiting.get(probe)?.();
    });
    await op.activate();
    let probeId = 0;
    const roundTrip = async () => {
      const id = ++probeId;
      const arrived = new Promise<void>((r) => waiting.set(id, r));
      await pub.publishToTopic({
        topic: 'fuzz/probe',
        publishMessage: { jsonMessage: { message: { probe: id } } },
      });
      await arrived;
      waiting.delete(id);
    };
    let fuzzing = true;
    let duringFuzz = 0;
    const probeLoop = (async () => {
      while (fuzzing) {
        await roundTrip();
        duringFuzz++;
      }
    })();

    const fuzzToken = tokens.issue('Fuzzer');
    let frames = 0;
    let replies = 0;
    const bad: string[] = [];
    let started = 0;
    await Promise.all(
      Array.from({ length: PARALLEL }, async () => {
        while (started < SESSIONS) {
          started++;
          const sessionRng = new Rng(rng.int(2 ** 32));
          const result = await runSession(server.socketPath, sessionRng, fuzzToken);
          frames += result.frames;
          replies += result.replies;
          bad.push(...result.badReplies);
        }
      }),
    );
    fuzzing = false;
    await probeLoop;

    expect(frames, 'frames thrown').to.be.at.least(10_000);
    expect(bad, 'malformed server output').to.deep.equal([]);
    expect(duringFuzz, 'round trips completed during the fuzz').to.be.greaterThan(0);
    for (let i = 0; i < 20; i++) await roundTrip();
    expect(await pub.getConfiguration({ keyPath: ['n'] })).to.deep.equal({
      componentName: 'Probe',
      value: { n: 0 },
    });

    // Every fuzz connection is gone; only the two official clients remain.
    await until(() => server.stats().connections === 2);
    expect(broker.subscriptionCount).to.equal(1);
    expect(configuration.subscriptionCount).to.equal(0);
    expect(rejections).to.deep.equal([]);
    expect(Object.getOwnPropertyNames(Object.prototype), 'prototype pollution').to.deep.equal(protoKeys);
    console.log(
      `      ${frames} frames over ${SESSIONS} connections, ${replies} server replies; ${duringFuzz} probe round trips during the fuzz`,
    );
  });
});
