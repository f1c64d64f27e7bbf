// The subscribers of the IPC throughput figure, in a process of their own (run by ipc.bench.ts as
// `ipc-subscribers.ts SOCKET N EXPECTED`): N official clients subscribe to bench/stream, say
// `ready`, and say `done` once EXPECTED messages arrived between them. A subscribing component is a
// process apart from the publishing one, so its decoding is not charged to the publisher.
import { io } from 'aws-crt';
import { greengrasscoreipc } from 'aws-iot-device-sdk-v2';

export type SubscriberReply = { type: 'ready' } | { type: 'done' };

const [socketPath, n, expected] = process.argv.slice(2);
const clients: greengrasscoreipc.Client[] = [];
let delivered = 0;
const reply = (m: SubscriberReply) => process.send!(m);
for (let i = 0; i < Number(n); i++) {
  const c = greengrasscoreipc.createClient({
    hostName: socketPath,
    port: 0,
    socketOptions: new io.SocketOptions(io.SocketType.STREAM, io.SocketDomain.LOCAL),
    connectTransform: async (o) => {
      o.message.payload = JSON.stringify({ authToken: `SUB${i}` });
      return o.message;
    },
  });
  await c.connect();
  clients.push(c);
  const op = c.subscribeToTopic({ topic: 'bench/stream' });
  op.on('message', () => {
    if (++delivered === Number(expected)) reply({ type: 'done' });
  });
  await op.activate();
}
process.on('message', async () => {
  for (const c of clients) await c.close();
  process.exit(0);
});
reply({ type: 'ready' });
