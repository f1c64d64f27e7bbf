// Server-side stream behaviour through the official client, with a handler registered the way
// later services (lifecycle, configuration) will register theirs.
import { expect } from 'chai';
import { officialClient } from '../../support/ipc-client.js';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventstream_rpc, greengrasscoreipc } from 'aws-iot-device-sdk-v2';
import {
  IpcServer,
  OperationRegistry,
  resourceNotFoundError,
  type ServerStream,
} from '../../../src/ipc/index.js';
import { until } from './harness.js';

describe('IPC server streams (official client)', () => {
  let dir: string;
  let server: IpcServer;
  let client: greengrasscoreipc.Client;
  let stream: ServerStream | undefined;
  let closedOnServer = 0;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tendril-ipc-streams-'));
    const registry = new OperationRegistry()
      .stream('aws.greengrass#SubscribeToComponentUpdates', (_req, ctx, s) => {
        // sent before the handler returns: must reach the client after the initial response [IPC-25]
        s.send({ postUpdateEvent: { deploymentId: `early-for-${ctx.component}` } });
        s.onClose(() => closedOnServer++);
        stream = s;
        return {};
      })
      .handle('aws.greengrass#UpdateState', (req) => {
        if (req.state === 'THROW') throw new Error('handler blew up');
        throw resourceNotFoundError('no such component', 'component', 'X');
      })
      .handle('aws.greengrass#GetConfiguration', async () => {
        throw new (class extends Error {})('plain error');
      });
    server = new IpcServer({
      socketPath: join(dir, 'ipc.socket'),
      authenticate: (t) => (t === 'T' ? 'Comp' : undefined),
      registry,
    });
    await server.listen();
    client = officialClient(server.socketPath, 'T');
    await client.connect();
  });
  afterEach(async () => {
    await client.close();
    await server.close();
    await rm(dir, { recursive: true, force: true });
    stream = undefined;
    closedOnServer = 0;
  });

  it('[IPC-25] events sent before the initial response are delivered after it; [IPC-24] server close ends the stream', async () => {
    const op = client.subscribeToComponentUpdates({});
    const events: greengrasscoreipc.model.ComponentUpdatePolicyEvents[] = [];
    op.on('message', (m) => events.push(m));
    const ended = new Promise<void>((r) => op.on('ended', () => r()));
    expect(await op.activate()).to.deep.equal({});
    await until(() => events.length === 1);
    expect(events[0]).to.deep.equal({ postUpdateEvent: { deploymentId: 'early-for-Comp' } });
    stream!.send({ postUpdateEvent: { deploymentId: 'later' } });
    stream!.close();
    await ended;
    // aws-crt may surface the terminate before the last message callback: wait for both
    await until(() => events.length === 2);
    expect(events.map((e) => e.postUpdateEvent?.deploymentId)).to.deep.equal(['early-for-Comp', 'later']);
    expect(closedOnServer).to.equal(1);
    expect(stream!.send({})).to.equal(false);
  });

  it('[IPC-29] a declared modeled error reaches the client with its shape fields', async () => {
    const err = await client
      .updateState({ state: greengrasscoreipc.model.ReportedLifecycleState.RUNNING })
      .then(
        () => undefined,
        (e: eventstream_rpc.RpcError) => e,
      );
    expect(err?.type).to.equal(eventstream_rpc.RpcErrorType.ServiceError);
    expect(err?.serviceError).to.deep.equal({
      _service: 'aws.greengrass#GreengrassCoreIPC',
      _message: 'no such component',
      _errorCode: 'ResourceNotFoundError',
      message: 'no such component',
      resourceType: 'component',
      resourceName: 'X',
    });
  });

  it('[IPC-35] an unexpected handler exception becomes ServiceError with its message', async () => {
    const err = await client.getConfiguration({ keyPath: [] }).then(
      () => undefined,
      (e: eventstream_rpc.RpcError) => e,
    );
    expect(err?.serviceError).to.deep.include({ _errorCode: 'ServiceError', message: 'plain error' });
  });
});
