import { expect } from 'chai';
import { join } from 'node:path';
import { IotConnection } from '../../../src/iot/index.js';
import type { ProvisionResult } from '../../../src/localcloud/index.js';
import { connectionOptions, eventually, startCloudHarness, type CloudHarness } from './helpers.js';

describe('iot: MQTT connection to the local cloud over mutual TLS', function () {
  this.timeout(30000);
  let h: CloudHarness;
  let thing: ProvisionResult;
  let conn: IotConnection | undefined;

  beforeEach(async () => {
    h = await startCloudHarness();
    thing = await h.cloud.provision({ thingName: 'conn-core', outDir: join(h.dir, 'device') });
  });
  afterEach(async () => {
    await conn?.stop();
    conn = undefined;
    await h.close();
  });

  it('[CL-66] [CL-67] [CL-04] connects as the thing, subscribes and receives its own QoS 1 message', async () => {
    conn = new IotConnection(connectionOptions(thing));
    conn.start();
    await eventually('connected', () => conn!.connected);
    const topic = `$aws/things/conn-core/shadow/name/probe/get`;
    const got: string[] = [];
    await conn.subscribe(topic, (_t, p) => got.push(p.toString('utf8')));
    await conn.publish(topic, { hello: 1 });
    const text = await eventually('the echo', () => got[0]);
    expect(JSON.parse(text)).to.deep.equal({ hello: 1 });
  });

  it('[CL-71] [CL-72] [CL-73] spools QoS 1 messages while the broker is down and delivers them after it is back', async () => {
    conn = new IotConnection(connectionOptions(thing));
    conn.start();
    await eventually('connected', () => conn!.connected);
    const topic = `$aws/things/conn-core/shadow/name/probe/get`;
    const got: string[] = [];
    await conn.subscribe(topic, (_t, p) => got.push(p.toString('utf8')));
    await h.stopCloud();
    await eventually('the interruption', () => !conn!.connected);
    const sent = conn.publish(topic, 'while-offline');
    expect(conn.spooled.messages).to.equal(1);
    const qos0 = await conn.publish(topic, 'qos0', { qos: 0 }).then(
      () => 'sent',
      (e: Error) => e.message,
    );
    expect(qos0).to.match(/not connected/);
    await h.startCloud();
    await sent;
    expect(conn.connects).to.equal(2);
    // the subscription was made again on the new broker (no session survived)
    await eventually('the spooled message echoed', () => got.includes('while-offline'));
  });

  it('[CL-73] a full spool refuses new messages and counts the drop', async () => {
    conn = new IotConnection(connectionOptions(thing, { spool: { maxSizeInBytes: 100 } }));
    // never started: offline from the beginning
    const first = conn.publish('$aws/things/conn-core/x', 'a'.repeat(60));
    first.catch(() => undefined);
    const second = await conn.publish('$aws/things/conn-core/x', 'b'.repeat(60)).then(
      () => 'sent',
      (e: Error) => e.message,
    );
    expect(second).to.match(/spool is full/);
    expect(conn.spooled).to.deep.include({ messages: 1, dropped: 1 });
  });
});
