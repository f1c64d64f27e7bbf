// Frame generators for the IPC fuzz test: a seeded PRNG, random JSON shaped like real requests, and
// raw eventstream frames built byte by byte (so header types, lengths and CRCs can be anything).
import { crc32 } from 'node:zlib';

/** mulberry32: small, fast, and the same sequence for the same seed. */
export class Rng {
  private state: number;
  constructor(readonly seed: number) {
    this.state = seed >>> 0;
  }
  next(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)];
  }
  bytes(n: number): Buffer {
    const b = Buffer.alloc(n);
    for (let i = 0; i < n; i++) b[i] = this.int(256);
    return b;
  }
}

export const OPS = [
  'PublishToTopic',
  'SubscribeToTopic',
  'GetConfiguration',
  'UpdateConfiguration',
  'SubscribeToConfigurationUpdate',
  'PublishToIoTCore',
  'SubscribeToIoTCore',
  'PutComponentMetric',
  'ValidateAuthorizationToken',
  'GetThingShadow',
  'UpdateState',
  'PauseComponent',
  'CreateLocalDeployment',
  'NoSuchOperation',
].map((o) => `aws.greengrass#${o}`);

const KEYS = [
  'topic',
  'publishMessage',
  'jsonMessage',
  'binaryMessage',
  'message',
  'context',
  'receiveMode',
  'componentName',
  'keyPath',
  'valueToMerge',
  'timestamp',
  'topicName',
  'qos',
  'payload',
  'metrics',
  'name',
  'unit',
  'value',
  'token',
  'state',
  'thingName',
  'accessControl',
  '__proto__',
  'constructor',
  'prototype',
  '',
];
const STRINGS = [
  'fuzz/a',
  'fuzz/+',
  'fuzz/#',
  '#',
  '+',
  '*',
  '',
  '/',
  '//',
  'a/b/c',
  'fuzz/probe',
  'RECEIVE_ALL_MESSAGES',
  'RECEIVE_MESSAGES_FROM_OTHERS',
  '0',
  '1',
  'COUNT',
  'RUNNING',
  'Fuzzer',
  'Probe',
  'aGVsbG8=',
  '%%%',
  '\u0000',
  '\ud800',
  'é€😀',
];

function randomString(r: Rng): string {
  if (r.chance(0.7)) return r.pick(STRINGS);
  const n = r.int(r.chance(0.05) ? 3000 : 24);
  let s = '';
  for (let i = 0; i < n; i++) s += String.fromCharCode(r.chance(0.9) ? 32 + r.int(95) : r.int(0x10000));
  return s;
}

/** A random JSON value, biased towards request-like objects. */
export function randomJson(r: Rng, depth = 0): unknown {
  const roll = r.int(depth > 3 ? 6 : 10);
  switch (roll) {
    case 0:
      return null;
    case 1:
      return r.chance(0.5);
    case 2:
      return r.pick([0, -1, 1.5, 1e308, -1e308, 2 ** 53, 1700000000.123, Date.now() / 1000]);
    case 3:
    case 4:
    case 5:
      return randomString(r);
    case 6:
    case 7:
      return Array.from({ length: r.int(5) }, () => randomJson(r, depth + 1));
    default: {
      const o: Record<string, unknown> = {};
      for (let i = r.int(6); i > 0; i--)
        o[r.chance(0.85) ? r.pick(KEYS) : randomString(r)] = randomJson(r, depth + 1);
      return o;
    }
  }
}

/** A payload for `op`: mostly well-formed requests with random holes, sometimes anything at all. */
export function requestPayload(r: Rng, op: string): string {
  const roll = r.int(10);
  if (roll === 0) return '';
  if (roll === 1) return randomString(r);
  if (roll === 2) return JSON.stringify(randomJson(r));
  const base: Record<string, unknown> = {};
  const short = op.split('#')[1];
  if (short === 'PublishToTopic') {
    base.topic = r.pick(['fuzz/a', 'fuzz/probe', 'fuzz/x/y', randomString(r)]);
    base.publishMessage = r.chance(0.5)
      ? { jsonMessage: { message: randomJson(r) } }
      : { binaryMessage: { message: r.pick(['aGVsbG8=', '', '!!', randomString(r)]) } };
  } else if (short === 'SubscribeToTopic') {
    base.topic = r.pick(['fuzz/#', 'fuzz/+', '#', 'fuzz/a', randomString(r)]);
    if (r.chance(0.5)) base.receiveMode = r.pick(['RECEIVE_ALL_MESSAGES', 'bogus', 7]);
  } else if (short.includes('Configuration')) {
    base.keyPath = r.chance(0.7) ? [r.pick(['a', 'b', 'accessControl', randomString(r)])] : randomJson(r);
    if (r.chance(0.3)) base.componentName = r.pick(['Fuzzer', 'Probe', 'Missing', randomString(r)]);
    base.timestamp = r.pick([Date.now() / 1000, 0, -1, 'x', 1e20]);
    base.valueToMerge = r.chance(0.8) ? randomJson(r, 2) : { a: randomJson(r) };
  }
  for (let i = r.int(3); i > 0; i--) base[r.pick(KEYS)] = randomJson(r, 1);
  return JSON.stringify(base);
}

export interface RawHeader {
  name: string;
  type: number;
  value: Buffer;
}

export const i32h = (name: string, v: number): RawHeader => {
  const b = Buffer.alloc(4);
  b.writeInt32BE(v | 0);
  return { name, type: 4, value: b };
};
export const strh = (name: string, v: string): RawHeader => {
  const s = Buffer.from(v);
  const b = Buffer.alloc(2 + s.length);
  b.writeUInt16BE(s.length);
  s.copy(b, 2);
  return { name, type: 7, value: b };
};

/** A header of a random (possibly invalid) type, name and value encoding. */
export function randomHeader(r: Rng): RawHeader {
  const name = r.pick([
    ':message-type',
    ':message-flags',
    ':stream-id',
    'operation',
    ':version',
    ':content-type',
    'x',
  ]);
  const type = r.chance(0.9) ? r.int(10) : r.int(256);
  const sizes = [0, 0, 1, 2, 4, 8, -1, -1, 8, 16];
  let value: Buffer;
  if (type < 10 && sizes[type] >= 0) value = r.bytes(sizes[type]);
  else if (type === 6 || type === 7) {
    const body = r.bytes(r.int(40));
    value = Buffer.concat([Buffer.from([0, body.length]), body]);
    if (r.chance(0.1)) value.writeUInt16BE(r.int(65536)); // a lying length
  } else value = r.bytes(r.int(10));
  return { name: r.chance(0.95) ? name : r.bytes(r.int(4)).toString('latin1'), type, value };
}

/** Encodes a frame by hand with correct lengths and CRCs (callers corrupt it afterwards if they want). */
export function encodeRaw(headers: RawHeader[], body: Buffer): Buffer {
  const hs = Buffer.concat(
    headers.map((h) => {
      const name = Buffer.from(h.name, 'latin1').subarray(0, 255);
      return Buffer.concat([Buffer.from([name.length]), name, Buffer.from([h.type]), h.value]);
    }),
  );
  const total = 16 + hs.length + body.length;
  const out = Buffer.alloc(total);
  out.writeUInt32BE(total, 0);
  out.writeUInt32BE(hs.length, 4);
  out.writeUInt32BE(crc32(out.subarray(0, 8)), 8);
  hs.copy(out, 12);
  body.copy(out, 12 + hs.length);
  out.writeUInt32BE(crc32(out.subarray(0, total - 4)), total - 4);
  return out;
}

export function rpcFrame(
  type: number,
  flags: number,
  streamId: number,
  extra: RawHeader[],
  body: string,
): Buffer {
  return encodeRaw(
    [i32h(':message-type', type), i32h(':message-flags', flags), i32h(':stream-id', streamId), ...extra],
    Buffer.from(body),
  );
}

export const connectFrame = (token: string) =>
  rpcFrame(4, 0, 0, [strh(':version', '0.1.0')], JSON.stringify({ authToken: token }));

/** Re-seals the CRCs of a frame whose bytes were changed, so the change reaches the header parser. */
export function reseal(frame: Buffer): Buffer {
  if (frame.length < 16) return frame;
  frame.writeUInt32BE(crc32(frame.subarray(0, 8)), 8);
  frame.writeUInt32BE(crc32(frame.subarray(0, frame.length - 4)), frame.length - 4);
  return frame;
}
