// The IPC MQTT proxy end to end: a nucleus provisioned against the local cloud, a component (the
// official IPC client with the component's token) publishing to IoT Core and subscribing to it
// through the nucleus's cloud connection, and an MQTT observer on the local cloud's broker (a second
// connection of the same thing, client id `<thing>#2` [CL-67]) on the other side.
import { expect } from 'chai';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import yaml from 'js-yaml';
import { greengrasscoreipc } from 'aws-iot-device-sdk-v2';
import { Nucleus } from '../../src/nucleus/index.js';
import type { IotConnection } from '../../src/iot/index.js';
import { createTransport, type MqttTransport } from '../../src/iot/transport.js';
import {
  connectionOptions,
  eventually,
  startCloudHarness,
  type CloudHarness,
} from '../integration/iot/helpers.js';
import { errorCode, errorMessage, officialClient, rpcError, type Client } from '../support/ipc-client.js';

const THING = 'proxy-core';
const OUT = `$aws/things/${THING}/tendril/out`;
const IN = `$aws/things/${THING}/tendril/in`;
const USER = 'com.example.MqttUser';
const STRANGER = 'com.example.NoMqttPolicy';
const { QOS } = greengrasscoreipc.model;

const text = (p: unknown): string =>
  typeof p === 'string'
    ? p
    : Buffer.from(p instanceof ArrayBuffer ? new Uint8Array(p) : (p as Uint8Array)).toString('utf8');

describe('e2e: IPC MQTT proxy through the nucleus cloud connection to the local cloud', function () {
  this.timeout(60000);
  let h: CloudHarness;
  let nucleus: Nucleus | undefined;
  let observer: MqttTransport | undefined;
  let user: Client | undefined;
  let stranger: Client | undefined;
  const seen: Array<{ topic: string; payload: string }> = [];
  let provisioned: Awaited<ReturnType<CloudHarness['cloud']['provision']>>;

  before(async () => {
    h = await startCloudHarness();
    const device = join(h.dir, 'device');
    const p = (provisioned = await h.cloud.provision({ thingName: THING, outDir: device }));
    const init = yaml.load(readFileSync(p.configPath, 'utf8')) as {
      services: Record<string, Record<string, unknown>>;
    };
    const nucleusConf = init.services['aws.greengrass.Nucleus'].configuration as Record<string, unknown>;
    if (process.getuid?.() === 0) nucleusConf.runWithDefault = { posixUser: 'nobody:nogroup' };
    init.services[USER] = {
      version: '1.0.0',
      configuration: {
        accessControl: {
          'aws.greengrass.ipc.mqttproxy': {
            'proxy-publish': { operations: ['aws.greengrass#PublishToIoTCore'], resources: [OUT] },
            // MQTT-style wildcard in the policy resource [IPC-91 MQTT_STYLE]
            'proxy-subscribe': {
              operations: ['aws.greengrass#SubscribeToIoTCore'],
              resources: ['$aws/things/+/tendril/#'],
            },
          },
        },
      },
    };
    init.services[STRANGER] = { version: '1.0.0' };
    writeFileSync(join(device, 'init.yaml'), yaml.dump(init));
    nucleus = await Nucleus.start({ root: join(h.dir, 'root'), initConfigFile: join(device, 'init.yaml') });
    await eventually('the nucleus MQTT connection', () => nucleus?.cloud?.iotCore.connected);

    observer = await createTransport(
      { ...connectionOptions(p), clientId: `${THING}#2` },
      {
        up: () => undefined,
        down: () => undefined,
        message: (topic, payload) => seen.push({ topic, payload: payload.toString('utf8') }),
      },
    );
    await observer.connect();
    expect(await observer.subscribe(OUT, 1)).to.be.lessThan(128);

    user = officialClient(nucleus.ipc.plan.absolutePath, nucleus.ipc.tokens.issue(USER));
    await user.connect();
    stranger = officialClient(nucleus.ipc.plan.absolutePath, nucleus.ipc.tokens.issue(STRANGER));
    await stranger.connect();
  });
  after(async () => {
    await user?.close().catch(() => undefined);
    await stranger?.close().catch(() => undefined);
    await observer?.close().catch(() => undefined);
    await nucleus?.stop();
    nucleus = undefined;
    await h?.close();
  });

  it('[IPC-54] [IPC-90] [CL-73] PublishToIoTCore (QoS 1 and QoS 0) reaches the broker on the authorized topic', async () => {
    await user!.publishToIoTCore({
      topicName: OUT,
      qos: QOS.AT_LEAST_ONCE,
      payload: Buffer.from('hello from a component at least once'),
    });
    await user!.publishToIoTCore({
      topicName: OUT,
      qos: QOS.AT_MOST_ONCE,
      payload: Buffer.from('hello from a component at most once'),
    });
    await eventually('both messages at the observer', () => seen.length >= 2);
    expect(seen).to.deep.include({ topic: OUT, payload: 'hello from a component at least once' });
    expect(seen).to.deep.include({ topic: OUT, payload: 'hello from a component at most once' });
  });

  it('[IPC-55] [IPC-90] SubscribeToIoTCore delivers IoTCoreMessage{message{topicName, payload}} from the broker; the last stream closed unsubscribes', async () => {
    const got: greengrasscoreipc.model.IoTCoreMessage[] = [];
    const op = user!.subscribeToIoTCore({ topicName: IN, qos: QOS.AT_LEAST_ONCE });
    op.on('message', (m: greengrasscoreipc.model.IoTCoreMessage) => got.push(m));
    await op.activate();
    expect(nucleus!.ipc.mqttproxy.subscriptions()).to.deep.equal({ [IN]: 1 });
    await observer!.publish(IN, Buffer.from('{"command":"blink"}'), 1);
    const m = await eventually('the IoTCoreMessage', () => got[0]);
    expect(m.message?.topicName).to.equal(IN);
    expect(text(m.message?.payload)).to.equal('{"command":"blink"}');

    await op.close();
    await eventually('the subscription released', () =>
      Object.keys(nucleus!.ipc.mqttproxy.subscriptions()).length === 0 ? true : undefined,
    );
    await observer!.publish(IN, Buffer.from('after close'), 1);
    await new Promise((r) => setTimeout(r, 300));
    expect(got.map((x) => text(x.message?.payload))).to.deep.equal(['{"command":"blink"}']);
  });

  it('[IPC-54] [IPC-55] [IPC-90] a component without an mqttproxy policy gets UnauthorizedError; so does a topic outside the policy', async () => {
    const e1 = await rpcError(
      stranger!.publishToIoTCore({ topicName: OUT, qos: QOS.AT_LEAST_ONCE, payload: Buffer.from('x') }),
    );
    expect(errorCode(e1)).to.equal('UnauthorizedError');
    const op = stranger!.subscribeToIoTCore({ topicName: IN, qos: QOS.AT_LEAST_ONCE });
    const e2 = await rpcError(op.activate());
    expect(errorCode(e2)).to.equal('UnauthorizedError');
    const e3 = await rpcError(
      user!.publishToIoTCore({ topicName: IN, qos: QOS.AT_LEAST_ONCE, payload: Buffer.from('x') }),
    );
    expect(errorCode(e3), errorMessage(e3)).to.equal('UnauthorizedError');
    expect(seen.some((s) => s.payload === 'x')).to.equal(false);
  });

  it('[IPC-90] [CL-73] offline: QoS 1 is accepted into the spool and sent after the reconnect; QoS 0 is refused with ServiceError', async () => {
    const conn = nucleus!.cloud!.iotCore as IotConnection;
    await observer!.close();
    observer = undefined;
    await h.stopCloud();
    await eventually('the nucleus offline', () => !conn.connected);
    await user!.publishToIoTCore({ topicName: OUT, qos: QOS.AT_LEAST_ONCE, payload: Buffer.from('spooled') });
    expect(conn.spooled.messages).to.equal(1);
    const e = await rpcError(
      user!.publishToIoTCore({ topicName: OUT, qos: QOS.AT_MOST_ONCE, payload: Buffer.from('dropped') }),
    );
    expect(errorCode(e)).to.equal('ServiceError');
    expect(conn.spooled.messages).to.equal(1);

    await h.startCloud();
    // the spool drains once the connection is back (the broker's in-memory subscriptions are gone,
    // so an observer could miss the spooled message: the spool is the evidence here)
    await eventually('the spool drained', () => conn.connected && conn.spooled.messages === 0, 30000);
    seen.length = 0;
    observer = await createTransport(
      { ...connectionOptions(provisioned), clientId: `${THING}#2` },
      {
        up: () => undefined,
        down: () => undefined,
        message: (topic, payload) => seen.push({ topic, payload: payload.toString('utf8') }),
      },
    );
    await observer.connect();
    expect(await observer.subscribe(OUT, 1)).to.be.lessThan(128);
    await user!.publishToIoTCore({ topicName: OUT, qos: QOS.AT_LEAST_ONCE, payload: Buffer.from('back') });
    await eventually('the message after the reconnect', () => seen.find((s) => s.payload === 'back'));
  });
});
