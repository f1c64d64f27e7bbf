// How `greengrass-cli` reaches the nucleus: the root directory (flag, GGC_ROOT_PATH, or
// ~/.greengrass), the connection info the nucleus wrote under `<root>/cli_ipc_info` [CF-75], and an
// official aws-iot-device-sdk-v2 IPC client connected with that token over the socket.
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { eventstream_rpc, greengrasscoreipc, io } from 'aws-iot-device-sdk-v2';

export type IpcClient = greengrasscoreipc.Client;

/** The file the nucleus writes (src/nucleus/cli-backend.ts). */
const INFO_FILE = 'info.json';
const SUN_PATH_LIMIT = 108;

/** A failure the CLI reports in one line and exits 1 for. */
export class CliFailure extends Error {
  override readonly name = 'CliFailure';
}

/** The root from the command's flag, else GGC_ROOT_PATH, else ~/.greengrass. */
export function resolveRoot(flag: string | undefined): string {
  const root = flag ?? process.env.GGC_ROOT_PATH ?? join(homedir(), '.greengrass');
  return resolve(root);
}

export interface CliIpcInfo {
  token: string;
  socketPath: string;
}

export function readCliIpcInfo(root: string): CliIpcInfo {
  const file = join(root, 'cli_ipc_info', INFO_FILE);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT'
        ? 'it does not exist: is a Tendril nucleus running on this root? (set it with --root or GGC_ROOT_PATH)'
        : code === 'EACCES'
          ? 'permission denied: run as the nucleus user or a member of its group'
          : (e as Error).message;
    throw new CliFailure(`cannot read the CLI connection info ${file}: ${why}`);
  }
  let info: unknown;
  try {
    info = JSON.parse(text);
  } catch (e) {
    throw new CliFailure(`${file} is not valid JSON: ${(e as Error).message}`);
  }
  const o = (info ?? {}) as Record<string, unknown>;
  if (typeof o.cli_auth_token !== 'string' || typeof o.domain_socket_path !== 'string')
    throw new CliFailure(`${file} lacks cli_auth_token or domain_socket_path`);
  return { token: o.cli_auth_token, socketPath: o.domain_socket_path };
}

/**
 * Connects the official IPC client. A socket path too long for sun_path is reached through its
 * directory as the working directory [IPC-48].
 */
export async function connectCli(root: string): Promise<IpcClient> {
  const info = readCliIpcInfo(root);
  let hostName = info.socketPath;
  if (Buffer.byteLength(hostName) >= SUN_PATH_LIMIT) {
    process.chdir(dirname(hostName));
    hostName = `./${basename(hostName)}`;
  }
  const client = greengrasscoreipc.createClient({
    hostName,
    port: 0,
    socketOptions: new io.SocketOptions(io.SocketType.STREAM, io.SocketDomain.LOCAL),
    connectTransform: async (options) => {
      options.message.payload = JSON.stringify({ authToken: info.token });
      return options.message;
    },
  });
  try {
    await client.connect();
  } catch (e) {
    await client.close().catch(() => undefined);
    throw new CliFailure(
      `cannot connect to the nucleus at ${info.socketPath}: ${describeRpcError(e)} (is it running? a restarted nucleus writes a new token)`,
    );
  }
  return client;
}

/** The service's message for a modeled error, else the client's description. */
export function describeRpcError(e: unknown): string {
  if (e instanceof eventstream_rpc.RpcError) {
    const se = e.serviceError as { message?: string; _errorCode?: string } | undefined;
    if (se?.message) return se._errorCode ? `${se._errorCode}: ${se.message}` : se.message;
    return e.description ?? e.message;
  }
  return (e as Error).message ?? String(e);
}

/** Runs `fn` with a connected client; operation errors become CliFailure; always closes. */
export async function withClient<T>(root: string, fn: (client: IpcClient) => Promise<T>): Promise<T> {
  const client = await connectCli(root);
  try {
    return await fn(client);
  } catch (e) {
    if (e instanceof CliFailure || (e instanceof Error && e.name === 'UsageError')) throw e;
    throw new CliFailure(describeRpcError(e));
  } finally {
    await client.close().catch(() => undefined);
  }
}
