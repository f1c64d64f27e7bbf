// A component for the end-to-end IPC tests, run by the nucleus as a real process. It connects with
// the official aws-iot-device-sdk-v2 IPC client exactly as any component does (the SVCUID and socket
// path from its environment) and carries out, with that client, whatever IPC call the test asks for:
// requests arrive as JSON on the pub/sub topic probe/cmd, answers and stream events leave on
// probe/result (and are logged). Binary values travel as {$b64}, dates as {$date}, the
// client's Map-typed fields as {$map}.
'use strict';
const { greengrasscoreipc } = require('aws-iot-device-sdk-v2');

const CMD = 'probe/cmd';
const RESULT = 'probe/result';

function decode(v) {
  if (Array.isArray(v)) return v.map(decode);
  if (v && typeof v === 'object') {
    if (typeof v.$b64 === 'string') return Buffer.from(v.$b64, 'base64');
    if (typeof v.$date === 'number') return new Date(v.$date);
    if (v.$map && typeof v.$map === 'object')
      return new Map(Object.entries(v.$map).map(([k, x]) => [k, decode(x)]));
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, decode(x)]));
  }
  return v;
}

function encode(v) {
  if (v instanceof Date) return { $date: v.getTime() };
  if (v instanceof ArrayBuffer) return { $b64: Buffer.from(new Uint8Array(v)).toString('base64') };
  if (ArrayBuffer.isView(v))
    return { $b64: Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64') };
  if (Array.isArray(v)) return v.map(encode);
  if (v instanceof Map) return Object.fromEntries([...v].map(([k, x]) => [k, encode(x)]));
  if (v && typeof v === 'object')
    return Object.fromEntries(
      Object.entries(v)
        .filter(([, x]) => x !== undefined)
        .map(([k, x]) => [k, encode(x)]),
    );
  return v;
}

function failure(e) {
  const service = e && e.serviceError;
  return {
    ok: false,
    errorCode: service ? service._errorCode : undefined,
    message: service ? service.message : String((e && (e.description || e.message)) || e),
    rpcType: e && e.type,
  };
}

async function main() {
  const client = greengrasscoreipc.createClient();
  await client.connect();
  const streams = new Map();
  const send = (result) => {
    console.log(`probe-result ${JSON.stringify(result)}`);
    return client
      .publishToTopic({ topic: RESULT, publishMessage: { jsonMessage: { message: result } } })
      .catch((e) => console.log(`probe: cannot publish a result: ${JSON.stringify(failure(e))}`));
  };
  const run = async ({ id, op, args, stream }) => {
    if (op === 'closeStream') {
      const s = streams.get(args.stream);
      streams.delete(args.stream);
      if (s) await s.close();
      return { id, ok: !!s };
    }
    if (typeof client[op] !== 'function') return { id, ok: false, message: `no client operation ${op}` };
    try {
      if (!stream) return { id, ok: true, value: encode(await client[op](decode(args))) };
      const s = client[op](decode(args));
      s.on('message', (m) => void send({ id, event: encode(m) }));
      s.on('streamError', (e) => void send({ id, streamError: failure(e) }));
      s.on('ended', () => void send({ id, ended: true }));
      await s.activate();
      streams.set(id, s);
      return { id, ok: true };
    } catch (e) {
      return { id, ...failure(e) };
    }
  };
  const commands = client.subscribeToTopic({ topic: CMD });
  commands.on('message', (m) => {
    const req = m.jsonMessage && m.jsonMessage.message;
    if (req && typeof req.id === 'string') void run(req).then(send);
  });
  await commands.activate();
  console.log('probe: ready');
  await new Promise(() => undefined);
}

main().catch((e) => {
  console.log(`probe: failed: ${JSON.stringify(failure(e))}`);
  process.exit(1);
});
