// Fuzzed IPC sessions against the real nucleus socket, built from the IPC fuzz test's frame
// generators (test/integration/ipc/fuzz-frames.ts): a handshake (valid, wrong token or garbage), then
// a mix of requests with random payloads, corrupted and re-sealed frames, random headers, raw bytes,
// lying lengths and truncated frames, written in random chunks. Every byte the server sends back must
// decode as an event-stream frame with the RPC headers.
import { connect } from 'node:net';
import { EventStreamCodec } from '@smithy/eventstream-codec';
import { fromUtf8, toUtf8 } from '@smithy/util-utf8';
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
} from '../../test/integration/ipc/fuzz-frames.js';

const codec = new EventStreamCodec(toUtf8, fromUtf8);

export interface SessionResult {
  frames: number;
  replies: number;
  /** Server output that did not decode or lacked the RPC headers. */
  bad: string[];
  /** The server did not close the connection within the time limit after our EOF. */
  hung: boolean;
}

function sessionBytes(r: Rng, token: string): { chunks: Buffer[]; frames: number } {
  const out: Buffer[] = [];
  const style = r.int(10);
  if (style < 7) out.push(connectFrame(token));
  else if (style === 7) out.push(connectFrame('NOT-A-TOKEN'));
  else if (style === 8)
    out.push(
      rpcFrame(4, 0, 0, [strh(':version', r.pick(['0.0.1', '']))], JSON.stringify(randomJson(r)) ?? ''),
    );
  let nextId = 1;
  const n = 10 + r.int(50);
  const hostile = r.chance(0.5);
  for (let i = 0; i < n; i++) {
    const roll = hostile ? r.int(100) : r.int(58);
    const op = r.pick(OPS);
    const request = () => rpcFrame(0, 0, nextId++, [strh('operation', op)], requestPayload(r, op));
    if (roll < 45) out.push(request());
    else if (roll < 53) {
      const id = hostile
        ? r.pick([nextId - 1, 0, -1, 0x7fffffff, r.int(nextId + 2)])
        : 1 + r.int(Math.max(1, nextId - 1));
      out.push(
        rpcFrame(
          r.pick([0, 1]),
          r.pick([0, 2, 3, 1]),
          id,
          r.chance(0.5) ? [strh('operation', op)] : [],
          requestPayload(r, op),
        ),
      );
    } else if (roll < 58) out.push(rpcFrame(2, 0, 0, [strh('x-echo', 'p')], 'ping'));
    else if (roll < 62) out.push(rpcFrame(r.int(12), r.int(4), r.int(3), [], ''));
    else if (roll < 77) {
      const f = request();
      for (let k = 1 + r.int(3); k > 0; k--) f[r.int(f.length)] ^= 1 << r.int(8);
      out.push(r.chance(0.6) ? reseal(f) : f);
    } else if (roll < 88) {
      const headers = Array.from({ length: r.int(6) }, () => randomHeader(r));
      if (r.chance(0.5))
        headers.unshift(i32h(':message-type', 0), i32h(':message-flags', 0), i32h(':stream-id', nextId++));
      out.push(encodeRaw(headers, r.bytes(r.int(30))));
    } else if (roll < 91) out.push(r.bytes(1 + r.int(40)));
    else if (roll < 93) {
      const f = request();
      f.writeUInt32BE(r.pick([0, 5, 16, 25 * 1024 * 1024, 0xffffffff]), 0);
      out.push(r.chance(0.5) ? reseal(f) : f);
      break;
    } else if (roll < 95) {
      const f = request();
      out.push(f.subarray(0, r.int(f.length)));
      break;
    } else {
      const big = JSON.stringify({
        topic: 'fuzz/a',
        publishMessage: { jsonMessage: { message: 'y'.repeat(20_000 + r.int(2_000_000)) } },
      });
      out.push(rpcFrame(0, 0, nextId++, [strh('operation', OPS[0])], big));
    }
  }
  const all = Buffer.concat(out);
  const chunks: Buffer[] = [];
  for (let at = 0; at < all.length;) {
    const len = 1 + r.int(r.chance(0.3) ? 16 : 4096);
    chunks.push(all.subarray(at, at + len));
    at += len;
  }
  return { chunks, frames: out.length };
}

/** One session on a fresh connection; waits (up to `closeMs`) for the server to close after our EOF. */
export function fuzzSession(path: string, r: Rng, token: string, closeMs = 10_000): Promise<SessionResult> {
  const { chunks, frames } = sessionBytes(r, token);
  const bad: string[] = [];
  let replies = 0;
  return new Promise((resolve) => {
    const sock = connect(path);
    let buf = Buffer.alloc(0);
    const timer = setTimeout(() => {
      sock.destroy();
      resolve({ frames, replies, bad, hung: true });
    }, closeMs);
    sock.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      while (buf.length >= 4 && buf.length >= buf.readUInt32BE(0)) {
        const len = buf.readUInt32BE(0);
        try {
          const m = codec.decode(buf.subarray(0, len));
          replies++;
          for (const h of [':message-type', ':message-flags', ':stream-id'])
            if (m.headers[h]?.type !== 'integer') bad.push(`reply without int32 ${h}`);
        } catch (e) {
          bad.push(`undecodable reply: ${(e as Error).message}`);
        }
        buf = buf.subarray(len);
      }
    });
    sock.on('error', () => {});
    sock.on('close', () => {
      clearTimeout(timer);
      if (buf.length > 0) bad.push(`${buf.length} trailing reply bytes`);
      resolve({ frames, replies, bad, hung: false });
    });
    sock.on('connect', () => {
      for (const c of chunks) if (!sock.destroyed) sock.write(c);
      sock.end();
    });
  });
}

export { Rng };
