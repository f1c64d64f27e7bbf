// Outbound subscription-event frames [IPC-03, IPC-24]. A published message goes to many streams
// with the same body and the same headers but for `:stream-id`, so the body is serialized once per
// publish (SerializedEvent) and each stream's frame is a copy of a cached header block with its own
// stream id and CRCs. Inbound frames and every other outbound frame use codec.ts.
import { crc32 } from 'node:zlib';
import { Header, JSON_CONTENT_TYPE, MessageType, PRELUDE_LENGTH } from './protocol.js';

const HEADER_TYPE_INT32 = 4;
const HEADER_TYPE_STRING = 7;
const CRC_LENGTH = 4;

/** An event whose JSON body is serialized at most once, however many streams it is sent on. */
export class SerializedEvent {
  private bytes: Buffer | undefined;

  constructor(readonly event: object) {}

  get body(): Buffer {
    return (this.bytes ??= Buffer.from(JSON.stringify(this.event)));
  }

  /** Serializes as the event itself wherever a sink stringifies what it is given. */
  toJSON(): object {
    return this.event;
  }
}

/** The JSON body of an event, reusing the bytes of a SerializedEvent. */
export function eventBody(event: object): Buffer {
  return event instanceof SerializedEvent ? event.body : Buffer.from(JSON.stringify(event));
}

function int32Header(name: string, value: number): Buffer {
  const n = Buffer.from(name);
  const out = Buffer.alloc(1 + n.length + 1 + 4);
  out.writeUInt8(n.length, 0);
  n.copy(out, 1);
  out.writeUInt8(HEADER_TYPE_INT32, 1 + n.length);
  out.writeInt32BE(value, 2 + n.length);
  return out;
}

function stringHeader(name: string, value: string): Buffer {
  const n = Buffer.from(name);
  const v = Buffer.from(value);
  const out = Buffer.alloc(1 + n.length + 1 + 2 + v.length);
  out.writeUInt8(n.length, 0);
  n.copy(out, 1);
  out.writeUInt8(HEADER_TYPE_STRING, 1 + n.length);
  out.writeUInt16BE(v.length, 2 + n.length);
  v.copy(out, 4 + n.length);
  return out;
}

/**
 * Header block of an event (ApplicationMessage, no flags, JSON, `service-model-type` = shape when
 * there is one) ending with `:stream-id`, whose int32 value is the block's last 4 bytes.
 */
const headerBlocks = new Map<string, Buffer>();
function headerBlock(shape: string): Buffer {
  let block = headerBlocks.get(shape);
  if (!block) {
    const parts = [
      int32Header(Header.messageType, MessageType.ApplicationMessage),
      int32Header(Header.messageFlags, 0),
      stringHeader(Header.contentType, JSON_CONTENT_TYPE),
    ];
    if (shape) parts.push(stringHeader(Header.serviceModelType, shape));
    parts.push(int32Header(Header.streamId, 0));
    block = Buffer.concat(parts);
    headerBlocks.set(shape, block);
  }
  return block;
}

/** One event frame on `streamId`; `shape` is the event's service-model-type, '' for none. */
export function encodeEventFrame(streamId: number, shape: string, body: Uint8Array): Buffer {
  const headers = headerBlock(shape);
  const bodyAt = PRELUDE_LENGTH + headers.length;
  const total = bodyAt + body.byteLength + CRC_LENGTH;
  const out = Buffer.allocUnsafe(total);
  out.writeUInt32BE(total, 0);
  out.writeUInt32BE(headers.length, 4);
  out.writeUInt32BE(crc32(out.subarray(0, 8)), 8);
  headers.copy(out, PRELUDE_LENGTH);
  out.writeInt32BE(streamId, bodyAt - 4);
  out.set(body, bodyAt);
  out.writeUInt32BE(crc32(out.subarray(0, total - CRC_LENGTH)), total - CRC_LENGTH);
  return out;
}
