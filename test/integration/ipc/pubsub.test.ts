// Local pub/sub through the official client: two components, JSON and binary, receive modes,
// wildcards, authorization, stream close and slow subscribers (ipc.md section 6).
import { expect } from 'chai';
import { rpcError } from '../../support/ipc-client.js';
import { eventstream_rpc, greengrasscoreipc } from 'aws-iot-device-sdk-v2';
import { startHarness, pubsubPolicy, collect, until, type Harness } from './harness.js';
import { RawPeer, frame, str } from './raw.js';

type Msg = greengrasscoreipc.model.SubscriptionResponseMessage;
const json = (message: Record<string, unknown>) => ({ jsonMessage: { message } });

describe('IPC pub/sub (official client)', function () {
  let h: Harness;
  let a: greengrasscoreipc.Client;
  let b: greengrasscoreipc.Client;
  beforeEach(async () => {
    h = await startHarness({
      accessControl: {
        A: pubsubPolicy('A-all', ['*']),
        B: pubsubPolicy('B-all', ['*']),
        Limited: {
          'aws.greengrass.ipc.pubsub': {
            'Limited-pub': { operations: ['aws.greengrass#PublishToTopic'], resources: ['allowed/*'] },
            'Limited-sub': { operations: ['aws.greengrass#SubscribeToTopic'], resources: ['sensors/#'] },
          },
        },
      },
    });
    a = await h.connect('A');
    b = await h.connect('B');
  });
  afterEach(async () => {
    await h.close();
  });

  it('[IPC-52][IPC-53][IPC-106] JSON message from one component reaches another with context.topic', async () => {
    const sub = b.subscribeToTopic({ topic: 'room/temp' });
    const got = collect<Msg>(sub, 1);
    expect(await sub.activate()).to.deep.equal({});
    expect(
      await a.publishToTopic({ topic: 'room/temp', publishMessage: json({ c: 21.5, tags: ['x'] }) }),
    ).to.deep.equal({});
    const [m] = await got;
    expect(m).to.deep.equal({
      jsonMessage: { message: { c: 21.5, tags: ['x'] }, context: { topic: 'room/temp' } },
    });
  });

  it('[IPC-41][IPC-106] binary message keeps its bytes and stays binary', async () => {
    const sub = b.subscribeToTopic({ topic: 'bin' });
    const got = collect<Msg>(sub, 1);
    await sub.activate();
    const bytes = Buffer.from([0, 1, 2, 250, 255, 10, 13]);
    await a.publishToTopic({ topic: 'bin', publishMessage: { binaryMessage: { message: bytes } } });
    const [m] = await got;
    expect(m.jsonMessage).to.equal(undefined);
    expect(Buffer.from(m.binaryMessage!.message as Buffer).equals(bytes)).to.equal(true);
    expect(m.binaryMessage!.context).to.deep.equal({ topic: 'bin' });
  });

  it('[IPC-104] RECEIVE_MESSAGES_FROM_OTHERS skips the publishing component; RECEIVE_ALL_MESSAGES does not', async () => {
    const others = a.subscribeToTopic({
      topic: 'm',
      receiveMode: greengrasscoreipc.model.ReceiveMode.RECEIVE_MESSAGES_FROM_OTHERS,
    });
    const all = a.subscribeToTopic({
      topic: 'm',
      receiveMode: greengrasscoreipc.model.ReceiveMode.RECEIVE_ALL_MESSAGES,
    });
    const othersGot: Msg[] = [];
    others.on('message', (m: Msg) => othersGot.push(m));
    const allGot = collect<Msg>(all, 2);
    await others.activate();
    await all.activate();
    await a.publishToTopic({ topic: 'm', publishMessage: json({ from: 'A' }) });
    await b.publishToTopic({ topic: 'm', publishMessage: json({ from: 'B' }) });
    expect((await allGot).map((m) => m.jsonMessage?.message)).to.deep.equal([{ from: 'A' }, { from: 'B' }]);
    await until(() => othersGot.length >= 1);
    expect(othersGot.map((m) => m.jsonMessage?.message)).to.deep.equal([{ from: 'B' }]);
  });

  it('[IPC-104] default receive mode: FROM_OTHERS for a wildcard filter, ALL for an exact topic', async () => {
    const wild = a.subscribeToTopic({ topic: 'd/#' });
    const exact = a.subscribeToTopic({ topic: 'd/x' });
    const wildGot: Msg[] = [];
    wild.on('message', (m: Msg) => wildGot.push(m));
    const exactGot = collect<Msg>(exact, 2);
    await wild.activate();
    await exact.activate();
    await a.publishToTopic({ topic: 'd/x', publishMessage: json({ from: 'A' }) });
    await b.publishToTopic({ topic: 'd/x', publishMessage: json({ from: 'B' }) });
    expect((await exactGot).map((m) => m.jsonMessage?.message)).to.deep.equal([{ from: 'A' }, { from: 'B' }]);
    await until(() => wildGot.length >= 1);
    expect(wildGot.map((m) => m.jsonMessage?.message)).to.deep.equal([{ from: 'B' }]);
  });

  it('[IPC-103][IPC-105] + and # filters match per level; one copy per matching subscription', async () => {
    const plus = b.subscribeToTopic({ topic: 'home/+/temp' });
    const hash = b.subscribeToTopic({ topic: 'home/#' });
    const plusGot: string[] = [];
    const hashGot: string[] = [];
    plus.on('message', (m: Msg) => plusGot.push(m.jsonMessage!.context!.topic ?? ''));
    hash.on('message', (m: Msg) => hashGot.push(m.jsonMessage!.context!.topic ?? ''));
    await plus.activate();
    await hash.activate();
    for (const topic of [
      'home/kitchen/temp',
      'home/kitchen/humidity',
      'home/a/b/temp',
      'home',
      'other/kitchen/temp',
      'home/x',
    ]) {
      await a.publishToTopic({ topic, publishMessage: json({}) });
    }
    await a.publishToTopic({ topic: 'home/end', publishMessage: json({}) });
    await until(() => hashGot.includes('home/end'));
    expect(plusGot).to.deep.equal(['home/kitchen/temp']);
    expect(hashGot).to.deep.equal([
      'home/kitchen/temp',
      'home/kitchen/humidity',
      'home/a/b/temp',
      'home/x',
      'home/end',
    ]);
  });

  it('[IPC-102] a publish topic with a wildcard is refused with ServiceError (the declared shape) and delivers nothing', async () => {
    const sub = b.subscribeToTopic({ topic: '#' });
    const got: Msg[] = [];
    sub.on('message', (m: Msg) => got.push(m));
    await sub.activate();
    for (const topic of ['a/+', 'a/#', 'a*']) {
      const err = await rpcError(a.publishToTopic({ topic, publishMessage: json({}) }));
      expect(err.type).to.equal(eventstream_rpc.RpcErrorType.ServiceError);
      expect(err.serviceError).to.deep.include({
        _errorCode: 'ServiceError',
        message: 'Publish topic must not contain a wildcard.',
      });
    }
    await a.publishToTopic({ topic: 'marker', publishMessage: json({}) });
    await until(() => got.length >= 1);
    expect(got.map((m) => m.jsonMessage?.context?.topic)).to.deep.equal(['marker']);
  });

  it('[IPC-97] unauthorized publish gets UnauthorizedError with the principal/service/operation/resource message', async () => {
    const limited = await h.connect('Limited');
    await limited.publishToTopic({ topic: 'allowed/x/y', publishMessage: json({}) });
    const err = await rpcError(limited.publishToTopic({ topic: 'forbidden', publishMessage: json({}) }));
    expect(err.type).to.equal(eventstream_rpc.RpcErrorType.ServiceError);
    const message =
      'Principal Limited is not authorized to perform aws.greengrass.ipc.pubsub:aws.greengrass#PublishToTopic on resource forbidden';
    expect(err.serviceError).to.deep.equal({
      _service: 'aws.greengrass#GreengrassCoreIPC',
      _message: message,
      _errorCode: 'UnauthorizedError',
      message,
    });
  });

  it('[IPC-98] unauthorized subscribe gets UnauthorizedError; # in a policy resource is literal', async () => {
    const limited = await h.connect('Limited');
    const ok = limited.subscribeToTopic({ topic: 'sensors/#' });
    await ok.activate();
    const denied = limited.subscribeToTopic({ topic: 'sensors/x' });
    const err = await rpcError(denied.activate());
    expect(err.type).to.equal(eventstream_rpc.RpcErrorType.ServiceError);
    expect(err.serviceError).to.deep.include({
      _errorCode: 'UnauthorizedError',
      message:
        'Principal Limited is not authorized to perform aws.greengrass.ipc.pubsub:aws.greengrass#SubscribeToTopic on resource sensors/x',
    });
    expect(h.broker.subscriptionCount).to.equal(1);
  });

  it('a component with no policy at all is denied both operations', async () => {
    const nobody = await h.connect('Nobody');
    const pub = await rpcError(nobody.publishToTopic({ topic: 't', publishMessage: json({}) }));
    expect(pub.serviceError).to.deep.include({ _errorCode: 'UnauthorizedError' });
    const sub = await rpcError(nobody.subscribeToTopic({ topic: 't' }).activate());
    expect(sub.serviceError).to.deep.include({ _errorCode: 'UnauthorizedError' });
  });

  it('[IPC-53] an invalid receiveMode gets InvalidArgumentsError and subscribes nothing', async () => {
    const peer = await RawPeer.open(h.socketPath);
    await peer.handshake(h.tokens.issue('A'));
    peer.send(
      frame(
        0,
        0,
        1,
        { operation: str('aws.greengrass#SubscribeToTopic') },
        JSON.stringify({ topic: 't', receiveMode: 'SOMETIMES' }),
      ),
    );
    peer.send(
      frame(0, 0, 2, { operation: str('aws.greengrass#SubscribeToTopic') }, JSON.stringify({ topic: 7 })),
    );
    const msgs = await peer.waitFor(3);
    for (const m of msgs.slice(1)) {
      expect(m).to.include({ type: 1, flags: 2 });
      expect(m.headers['service-model-type']).to.deep.equal({
        type: 'string',
        value: 'aws.greengrass#InvalidArgumentsError',
      });
    }
    expect(msgs[1].json().message).to.match(/receiveMode/);
    expect(msgs[2].json().message).to.match(/topic/);
    expect(h.broker.subscriptionCount).to.equal(0);
    peer.destroy();
  });

  it('[IPC-27][IPC-108] closing the stream from the client ends the subscription and prunes the trie', async () => {
    const sub = b.subscribeToTopic({ topic: 'deep/a/b/c' });
    await sub.activate();
    expect(h.broker.subscriptionCount).to.equal(1);
    await sub.close();
    await until(() => h.broker.subscriptionCount === 0);
    expect(h.broker.trieNodeCount).to.equal(0);
    await a.publishToTopic({ topic: 'deep/a/b/c', publishMessage: json({}) });
  });

  it('[IPC-27] closing the connection ends all its subscriptions', async () => {
    for (const topic of ['x/1', 'x/2', 'x/+']) await b.subscribeToTopic({ topic }).activate();
    expect(h.broker.subscriptionCount).to.equal(3);
    await b.close();
    await until(() => h.broker.subscriptionCount === 0);
    expect(h.broker.trieNodeCount).to.equal(0);
  });

  it('[IPC-24][IPC-25] raw: the initial response precedes events, events carry the event shape headers', async () => {
    const peer = await RawPeer.open(h.socketPath);
    await peer.handshake(h.tokens.issue('B'));
    peer.send(
      frame(0, 0, 1, { operation: str('aws.greengrass#SubscribeToTopic') }, JSON.stringify({ topic: 'r' })),
    );
    await peer.waitFor(2);
    await a.publishToTopic({ topic: 'r', publishMessage: json({ k: 1 }) });
    const [, response, event] = await peer.waitFor(3);
    expect(response).to.include({ type: 0, flags: 0, streamId: 1, body: '{}' });
    expect(response.headers['service-model-type']).to.deep.equal({
      type: 'string',
      value: 'aws.greengrass#SubscribeToTopicResponse',
    });
    expect(event).to.include({ type: 0, flags: 0, streamId: 1 });
    expect(event.headers['service-model-type']).to.deep.equal({
      type: 'string',
      value: 'aws.greengrass#SubscriptionResponseMessage',
    });
    expect(event.headers[':content-type']).to.deep.equal({ type: 'string', value: 'application/json' });
    expect(event.json()).to.deep.equal({ jsonMessage: { message: { k: 1 }, context: { topic: 'r' } } });
    // client terminate: no reply, subscription gone
    peer.send(frame(0, 2, 1));
    await until(() => h.broker.subscriptionCount === 0);
    expect(peer.messages).to.have.length(3);
    peer.destroy();
  });

  it('maxSubscriptionsPerConnection: the extra subscription gets ServiceError, the others keep working', async () => {
    const small = await startHarness({
      accessControl: { A: pubsubPolicy('p', ['*']) },
      limits: { maxSubscriptionsPerConnection: 2 },
    });
    try {
      const c = await small.connect('A');
      const s1 = c.subscribeToTopic({ topic: 's' });
      const got = collect<Msg>(s1, 1);
      await s1.activate();
      await c.subscribeToTopic({ topic: 's2' }).activate();
      const err = await rpcError(c.subscribeToTopic({ topic: 's3' }).activate());
      expect(err.serviceError).to.deep.include({
        _errorCode: 'ServiceError',
        message: 'Subscription limit of 2 per connection reached',
      });
      expect(small.broker.subscriptionCount).to.equal(2);
      await c.publishToTopic({ topic: 's', publishMessage: json({ ok: 1 }) });
      expect((await got)[0].jsonMessage?.message).to.deep.equal({ ok: 1 });
    } finally {
      await small.close();
    }
  });

  it('[IPC-107][IPC-124] a subscriber that never reads drops its own events; another subscriber gets every message in order', async function () {
    const small = await startHarness({
      accessControl: { A: pubsubPolicy('p', ['*']), B: pubsubPolicy('q', ['*']) },
      limits: { subscriberQueueLength: 8 },
    });
    try {
      const publisher = await small.connect('A');
      const fast = await small.connect('B');
      const slow = await RawPeer.open(small.socketPath);
      await slow.handshake(small.tokens.issue('B'));
      slow.send(
        frame(
          0,
          0,
          1,
          { operation: str('aws.greengrass#SubscribeToTopic') },
          JSON.stringify({ topic: 'flood' }),
        ),
      );
      await slow.waitFor(2);
      slow.socket.pause(); // never reads again
      const n = 200;
      const sub = fast.subscribeToTopic({ topic: 'flood' });
      const got = collect<Msg>(sub, n);
      await sub.activate();
      const payload = (i: number) => {
        const b = Buffer.alloc(64 * 1024, 7);
        b.writeUInt32BE(i, 0);
        return b;
      };
      for (let i = 0; i < n; i++) {
        await publisher.publishToTopic({
          topic: 'flood',
          publishMessage: { binaryMessage: { message: payload(i) } },
        });
      }
      const msgs = await got;
      expect(msgs.map((m) => Buffer.from(m.binaryMessage!.message as Buffer).readUInt32BE(0))).to.deep.equal([
        ...Array(n).keys(),
      ]);
      expect(Buffer.from(msgs[n - 1].binaryMessage!.message as Buffer).equals(payload(n - 1))).to.equal(true);
      expect(small.server.stats().droppedEvents).to.be.greaterThan(0);
      slow.destroy();
    } finally {
      await small.close();
    }
  });
});
