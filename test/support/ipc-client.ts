// The official aws-iot-device-sdk-v2 IPC client, connected to a given socket with a given SVCUID, as
// a component would be. One place for the tests' client set-up.
import { greengrasscoreipc, type eventstream_rpc } from 'aws-iot-device-sdk-v2';
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

/** The RpcError a call fails with; fails the test if the call succeeds. */
export async function rpcError(p: Promise<unknown>): Promise<eventstream_rpc.RpcError> {
  return p.then(
    () => {
      throw new Error('expected the call to fail');
    },
    (e: eventstream_rpc.RpcError) => e,
  );
}

/** The modeled error's code (`_errorCode`, e.g. UnauthorizedError) and message. */
export const errorCode = (e: eventstream_rpc.RpcError) =>
  (e.serviceError as { _errorCode?: string } | undefined)?._errorCode;
export const errorMessage = (e: eventstream_rpc.RpcError) =>
  (e.serviceError as { message?: string } | undefined)?.message ?? '';

/** Reads a streaming operation's events in order: each call resolves with the next one. */
export function nextMessage<T>(op: { on(event: 'message', l: (m: T) => void): unknown }): () => Promise<T> {
  const queue: T[] = [];
  const waiters: ((m: T) => void)[] = [];
  op.on('message', (m: T) => {
    const w = waiters.shift();
    if (w) w(m);
    else queue.push(m);
  });
  return () => (queue.length ? Promise.resolve(queue.shift()!) : new Promise<T>((r) => waiters.push(r)));
}
