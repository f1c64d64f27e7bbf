// The official aws-iot-device-sdk-v2 IPC client, connected to a given socket with a given SVCUID, as
// a component would be. One place for the tests' client set-up.
import { greengrasscoreipc } from 'aws-iot-device-sdk-v2';
import { io } from 'aws-crt';

export type Client = greengrasscoreipc.Client;

/**
 * A client for `socketPath` that authenticates with `token`. Its close() runs at most once and only
 * after a successful connect: the native client aborts the whole process (a fatal assert in aws-crt's
 * event_stream.c) when close() is called on a connection that never opened or is already closed.
 */
export function officialClient(socketPath: string, token: string): Client {
  const client = greengrasscoreipc.createClient({
    hostName: socketPath,
    port: 0,
    socketOptions: new io.SocketOptions(io.SocketType.STREAM, io.SocketDomain.LOCAL),
    connectTransform: async (options) => {
      options.message.payload = JSON.stringify({ authToken: token });
      return options.message;
    },
  });
  let connected = false;
  let closed = false;
  const connect = client.connect.bind(client);
  const close = client.close.bind(client);
  client.connect = async (...args: Parameters<typeof connect>) => {
    await connect(...args);
    connected = true;
  };
  client.close = async (...args: Parameters<typeof close>) => {
    if (!connected || closed) return;
    closed = true;
    await close(...args);
  };
  return client;
}
