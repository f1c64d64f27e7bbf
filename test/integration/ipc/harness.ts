// Shared setup for IPC integration tests: a real server on a temp Unix socket, official clients.
import { mkdtemp, rm } from 'node:fs/promises';
import { officialClient } from '../../support/ipc-client.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { greengrasscoreipc } from 'aws-iot-device-sdk-v2';
import {
  AuthTokenRegistry,
  buildPolicyIndex,
  IpcServer,
  OperationRegistry,
  policyAuthorizer,
  PubSubBroker,
  type IpcLimits,
} from '../../../src/ipc/index.js';

export type Client = greengrasscoreipc.Client;

export interface Harness {
  dir: string;
  socketPath: string;
  server: IpcServer;
  broker: PubSubBroker;
  tokens: AuthTokenRegistry;
  /** An official client connected as `component` (token minted on demand). */
  connect(component: string): Promise<Client>;
  clientFor(token: string): Client;
  close(): Promise<void>;
}

export async function startHarness(
  opts: { accessControl?: Record<string, unknown>; limits?: Partial<IpcLimits> } = {},
): Promise<Harness> {
  const dir = await mkdtemp(join(tmpdir(), 'tendril-ipc-'));
  const socketPath = join(dir, 'ipc.socket');
  const tokens = new AuthTokenRegistry();
  const registry = new OperationRegistry();
  const broker = new PubSubBroker().register(registry);
  const server = new IpcServer({
    socketPath,
    authenticate: tokens.lookup,
    authorize: policyAuthorizer(buildPolicyIndex(opts.accessControl ?? {})),
    registry,
    limits: opts.limits,
  });
  await server.listen();
  const clients: Client[] = [];
  const clientFor = (token: string): Client => {
    const client = officialClient(socketPath, token);
    clients.push(client);
    return client;
  };
  return {
    dir,
    socketPath,
    server,
    broker,
    tokens,
    clientFor,
    async connect(component) {
      const client = clientFor(tokens.issue(component));
      await client.connect();
      return client;
    },
    async close() {
      for (const c of clients) await c.close().catch(() => {});
      await server.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Policy granting `component` the pubsub operations on `resources`. */
export function pubsubPolicy(policyId: string, resources: string[], operations = ['*']) {
  return { 'aws.greengrass.ipc.pubsub': { [policyId]: { operations, resources } } };
}

/** Resolves with the first `n` messages a subscription receives. */
export function collect<T>(
  op: { on(event: 'message', l: (m: T) => void): unknown },
  n: number,
): Promise<T[]> {
  return new Promise((resolve) => {
    const got: T[] = [];
    op.on('message', (m: T) => {
      got.push(m);
      if (got.length === n) resolve(got);
    });
  });
}

/** Polls `cond` on the event loop (no timing assertion: mocha's timeout bounds it). */
export async function until(cond: () => boolean): Promise<void> {
  while (!cond()) await new Promise((r) => setTimeout(r, 5));
}
