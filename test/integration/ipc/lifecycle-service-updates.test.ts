// Component update notifications through the official client: SubscribeToComponentUpdates,
// DeferComponentUpdate and the deployment engine's preUpdate / postUpdate [IPC-57, IPC-58, IPC-113].
import { expect } from 'chai';
import { officialClient, rpcError, errorCode, errorMessage, nextMessage } from '../../support/ipc-client.js';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { greengrasscoreipc } from 'aws-iot-device-sdk-v2';
import {
  AuthTokenRegistry,
  ComponentUpdateNotifier,
  IpcServer,
  OperationRegistry,
} from '../../../src/ipc/index.js';

type Client = greengrasscoreipc.Client;
type UpdateEvent = greengrasscoreipc.model.ComponentUpdatePolicyEvents;

describe('IPC component update notifications (official client)', function () {
  let dir: string;
  let server: IpcServer;
  let tokens: AuthTokenRegistry;
  let notifier: ComponentUpdateNotifier;
  const known = new Set(['A', 'B', 'C']);
  const clients: Client[] = [];

  async function connect(component: string): Promise<Client> {
    const token = tokens.issue(component);
    const client = officialClient(server.socketPath, token);
    clients.push(client);
    await client.connect();
    return client;
  }

  async function subscribed(component: string) {
    const client = await connect(component);
    const sub = client.subscribeToComponentUpdates({});
    const next = nextMessage<UpdateEvent>(sub);
    expect(await sub.activate()).to.deep.equal({});
    return { client, sub, next };
  }

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tendril-ipc-upd-'));
    tokens = new AuthTokenRegistry();
    const registry = new OperationRegistry();
    notifier = new ComponentUpdateNotifier({ exists: (c) => known.has(c) }).register(registry);
    server = new IpcServer({ socketPath: join(dir, 'ipc.socket'), authenticate: tokens.lookup, registry });
    await server.listen();
  });
  afterEach(async () => {
    for (const c of clients.splice(0)) await c.close().catch(() => {});
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('[IPC-57][IPC-58][IPC-113] preUpdate reaches every subscriber and reports the largest deferral once all answered', async () => {
    const a = await subscribed('A');
    const b = await subscribed('B');
    const round = notifier.preUpdate('dep-1', 60_000);
    const expected = { preUpdateEvent: { deploymentId: 'dep-1', isGgcRestarting: false } };
    expect(await a.next()).to.deep.equal(expected);
    expect(await b.next()).to.deep.equal(expected);
    expect(
      await a.client.deferComponentUpdate({ deploymentId: 'dep-1', recheckAfterMs: 5000, message: 'busy' }),
    ).to.deep.equal({});
    await b.client.deferComponentUpdate({ deploymentId: 'dep-1', recheckAfterMs: 0 });
    const result = await round; // resolves without waiting the 60 s: everyone answered
    expect(result.deferredBy).to.deep.equal({ component: 'A', recheckAfterMs: 5000, message: 'busy' });
    expect(result.notified).to.have.members(['A', 'B']);
    expect(result.unanswered).to.deep.equal([]);
  });

  it('[IPC-113] a subscriber that does not answer within the timeout lets the update proceed; answers that say ready defer nothing', async () => {
    const a = await subscribed('A');
    const c = await subscribed('C');
    const round = notifier.preUpdate('dep-2', 100, true);
    expect(await a.next()).to.deep.equal({
      preUpdateEvent: { deploymentId: 'dep-2', isGgcRestarting: true },
    });
    await c.next();
    await a.client.deferComponentUpdate({ deploymentId: 'dep-2' });
    const result = await round;
    expect(result.deferredBy).to.equal(undefined);
    expect(result.unanswered).to.deep.equal(['C']);
    const late = await rpcError(c.client.deferComponentUpdate({ deploymentId: 'dep-2', recheckAfterMs: 10 }));
    expect(errorCode(late)).to.equal('ServiceError');
    expect(errorMessage(late)).to.equal('Time limit to respond to PreComponentUpdateEvent exceeded');
  });

  it('[IPC-113] postUpdate sends postUpdateEvent to every subscriber; with no subscribers preUpdate resolves at once', async () => {
    expect(await notifier.preUpdate('dep-0', 60_000)).to.deep.equal({ notified: [], unanswered: [] });
    const a = await subscribed('A');
    const b = await subscribed('B');
    expect(notifier.postUpdate('dep-3')).to.equal(2);
    expect(await a.next()).to.deep.equal({ postUpdateEvent: { deploymentId: 'dep-3' } });
    expect(await b.next()).to.deep.equal({ postUpdateEvent: { deploymentId: 'dep-3' } });
  });

  it('[IPC-58][IPC-113] deferring without a subscription is InvalidArgumentsError; a negative recheckAfterMs names the field', async () => {
    const b = await connect('B');
    const e = await rpcError(b.deferComponentUpdate({ deploymentId: 'dep-4' }));
    expect(errorCode(e)).to.equal('InvalidArgumentsError');
    expect(errorMessage(e)).to.equal('Component is not subscribed to component update events');
    const a = await subscribed('A');
    const round = notifier.preUpdate('dep-4', 60_000);
    await a.next();
    const neg = await rpcError(a.client.deferComponentUpdate({ deploymentId: 'dep-4', recheckAfterMs: -1 }));
    expect(errorCode(neg)).to.equal('InvalidArgumentsError');
    expect(errorMessage(neg)).to.equal('recheckAfterMs must be a non-negative integer');
    const other = await rpcError(a.client.deferComponentUpdate({ deploymentId: 'dep-other' }));
    expect(errorCode(other)).to.equal('ServiceError');
    await a.client.deferComponentUpdate({ deploymentId: 'dep-4', recheckAfterMs: 1 });
    expect((await round).deferredBy?.recheckAfterMs).to.equal(1);
  });

  it('[IPC-57][IPC-27] an unknown caller cannot subscribe; a closed subscription is no longer notified', async () => {
    const ghost = await connect('Ghost');
    const e = await rpcError(ghost.subscribeToComponentUpdates({}).activate());
    expect(errorCode(e)).to.equal('ResourceNotFoundError');
    expect(errorMessage(e)).to.equal('Component Ghost not found');
    const a = await subscribed('A');
    expect(notifier.subscribedComponents()).to.deep.equal(['A']);
    await a.sub.close();
    while (notifier.subscribedComponents().length > 0) await new Promise((r) => setTimeout(r, 5));
    expect(await notifier.preUpdate('dep-5', 60_000)).to.deep.equal({ notified: [], unanswered: [] });
  });
});
