// Every IPC operation the nucleus serves, called by a component the nucleus runs as a real process
// with the official aws-iot-device-sdk-v2 client (test/e2e/components/ipc-probe.cjs): its SVCUID and
// socket path come from the environment the nucleus gave it. Success, streaming and the declared
// error shapes (UnauthorizedError, ResourceNotFoundError, InvalidArgumentsError, ...) are checked as
// the component's own client saw them.
import { expect } from 'chai';
import { createTransport, type MqttTransport } from '../../src/iot/transport.js';
import { connectionOptions, eventually } from '../integration/iot/helpers.js';
import { waitFor } from '../support/daemon.js';
import {
  PROBE,
  SLEEPER,
  sleeperCounter,
  startProbeRig,
  THING,
  type ProbeAnswer,
  type ProbeStream,
  type ProbeRig,
} from './components/probe-harness.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** A Map-typed request field (the official client requires a Map there). */
const map = (o: Record<string, unknown>) => ({ $map: o });
const fromB64 = (v: unknown) => Buffer.from((v as { $b64: string }).$b64, 'base64').toString('utf8');

/** The answer must be the declared error `code`; returns its message. */
function refused(a: ProbeAnswer, code: string): string {
  expect(a.ok, JSON.stringify(a)).to.equal(false);
  expect(a.errorCode, JSON.stringify(a)).to.equal(code);
  return a.message ?? '';
}

/** The next event of `kind` on a component-updates stream (postUpdate events of earlier deployments skipped). */
async function nextUpdate(
  s: ProbeStream,
  kind: 'preUpdateEvent' | 'postUpdateEvent',
): Promise<{ deploymentId: string }> {
  for (;;) {
    const e = await s.next();
    if (e[kind]) return e[kind] as { deploymentId: string };
  }
}

function succeeded(a: ProbeAnswer): Record<string, unknown> {
  expect(a.ok, JSON.stringify(a)).to.equal(true);
  return a.value ?? {};
}

describe('e2e: a component run by the nucleus calls every served IPC operation with the official client', function () {
  this.timeout(120000);
  let rig: ProbeRig;

  before(async function () {
    if (process.getuid?.() !== 0) {
      console.log('      skipped: needs root to run the probe component as nobody under cgroups');
      this.skip();
    }
    rig = await startProbeRig();
  });
  after(async () => {
    await rig?.close();
  });

  describe('pub/sub', () => {
    it('[IPC-52][IPC-53][IPC-103] a wildcard subscription receives JSON and binary messages; its own binary publish reaches other subscribers', async () => {
      const s = await rig.probe.stream('subscribeToTopic', { topic: 'probe/data/#' });
      succeeded(s.answer);
      await rig.driver.publishToTopic({
        topic: 'probe/data/json',
        publishMessage: { jsonMessage: { message: { n: 1 } } },
      });
      await rig.driver.publishToTopic({
        topic: 'probe/data/bin/x',
        publishMessage: { binaryMessage: { message: Buffer.from('raw bytes') } },
      });
      const e1 = await s.next();
      expect(e1.jsonMessage).to.deep.include({ message: { n: 1 } });
      expect((e1.jsonMessage as { context: { topic: string } }).context.topic).to.equal('probe/data/json');
      const e2 = await s.next();
      const bin = e2.binaryMessage as { message: unknown; context: { topic: string } };
      expect(fromB64(bin.message)).to.equal('raw bytes');
      expect(bin.context.topic).to.equal('probe/data/bin/x');
      await s.close();

      const got: string[] = [];
      const op = rig.driver.subscribeToTopic({ topic: 'probe/data/out' });
      op.on('message', (m) => got.push(Buffer.from(m.binaryMessage!.message as Uint8Array).toString('utf8')));
      await op.activate();
      succeeded(
        await rig.probe.call('publishToTopic', {
          topic: 'probe/data/out',
          publishMessage: { binaryMessage: { message: Buffer.from('from the component') } },
        }),
      );
      await waitFor('the probe message', () => got.length > 0);
      expect(got).to.deep.equal(['from the component']);
      await op.close();
    });

    it('[IPC-97][IPC-98] a topic outside its policy is UnauthorizedError naming component, operation and resource', async () => {
      const msg = refused(
        await rig.probe.call('publishToTopic', {
          topic: 'elsewhere/t',
          publishMessage: { jsonMessage: { message: {} } },
        }),
        'UnauthorizedError',
      );
      expect(msg).to.include(PROBE).and.include('PublishToTopic').and.include('elsewhere/t');
      refused(
        (await rig.probe.stream('subscribeToTopic', { topic: 'elsewhere/#' })).answer,
        'UnauthorizedError',
      );
    });
  });

  describe('configuration', () => {
    it('[IPC-61][IPC-109][IPC-100] reads its own keys and another component’s; a missing key is ResourceNotFoundError', async () => {
      const own = succeeded(await rig.probe.call('getConfiguration', { keyPath: ['nested', 'b'] }));
      expect(own).to.deep.include({ componentName: PROBE, value: { c: 'deep' } });
      const other = succeeded(
        await rig.probe.call('getConfiguration', { componentName: SLEEPER, keyPath: ['mood'] }),
      );
      expect(other.value).to.deep.equal({ mood: 'calm' });
      const msg = refused(
        await rig.probe.call('getConfiguration', { keyPath: ['no', 'such'] }),
        'ResourceNotFoundError',
      );
      expect(msg).to.include('no');
    });

    it('[IPC-62][IPC-63][IPC-110][IPC-111] UpdateConfiguration reaches its SubscribeToConfigurationUpdate stream; an older timestamp and a leaf keyPath are refused', async () => {
      const s = await rig.probe.stream('subscribeToConfigurationUpdate', { keyPath: ['counter'] });
      // a subscription on a key that does not exist yet is refused [IPC-111]; create it first
      if (!s.answer.ok) {
        refused(s.answer, 'ResourceNotFoundError');
        succeeded(
          await rig.probe.call('updateConfiguration', {
            keyPath: [],
            valueToMerge: { counter: { n: 0 } },
            timestamp: new Date(),
          }),
        );
      }
      const sub = s.answer.ok
        ? s
        : await rig.probe.stream('subscribeToConfigurationUpdate', { keyPath: ['counter'] });
      succeeded(sub.answer);
      const at = new Date();
      succeeded(
        await rig.probe.call('updateConfiguration', {
          keyPath: ['counter'],
          valueToMerge: { n: 5 },
          timestamp: at,
        }),
      );
      const e = await sub.next();
      expect(e.configurationUpdateEvent).to.deep.include({ componentName: PROBE });
      expect((e.configurationUpdateEvent as { keyPath: string[] }).keyPath).to.deep.equal(['counter', 'n']);
      expect(rig.nucleus.store.config.get(['services', PROBE, 'configuration', 'counter', 'n'])).to.equal(5);

      refused(
        await rig.probe.call('updateConfiguration', {
          keyPath: ['counter'],
          valueToMerge: { n: 6 },
          timestamp: new Date(at.getTime() - 60_000),
        }),
        'FailedUpdateConditionCheckError',
      );
      const leaf = refused(
        await rig.probe.call('updateConfiguration', {
          keyPath: ['greeting'],
          valueToMerge: { x: 1 },
          timestamp: new Date(),
        }),
        'InvalidArgumentsError',
      );
      expect(leaf).to.include('greeting');
      expect(rig.nucleus.store.config.get(['services', PROBE, 'configuration', 'counter', 'n'])).to.equal(5);
      await sub.close();
    });

    it('[IPC-64][IPC-65][IPC-112][DP-49] validation of a cloud deployment: a REJECTED report fails it and changes nothing, ACCEPTED lets it through', async () => {
      const s = await rig.probe.stream('subscribeToValidateConfigurationUpdates', {});
      succeeded(s.answer);
      const updates = await rig.probe.stream('subscribeToComponentUpdates', {});
      succeeded(updates.answer); // answered at once below, so that the deployments do not wait [DP-47]
      const ready = async () => {
        const { deploymentId } = await nextUpdate(updates, 'preUpdateEvent');
        succeeded(await rig.probe.call('deferComponentUpdate', { deploymentId, recheckAfterMs: 0 }));
      };

      const rejected = await rig.cloudDeploy({ [PROBE]: { greeting: 'rejected value' } });
      await ready();
      const e1 = (await s.next()).validateConfigurationUpdateEvent as {
        deploymentId: string;
        configuration: Record<string, unknown>;
      };
      expect(e1.configuration.greeting).to.equal('rejected value');
      succeeded(
        await rig.probe.call('sendConfigurationValidityReport', {
          configurationValidityReport: {
            status: 'REJECTED',
            deploymentId: e1.deploymentId,
            message: 'not today',
          },
        }),
      );
      await eventually(
        'the rejected deployment failed',
        async () => (await rig.cloudStatus(rejected)) === 'FAILED',
        60000,
      );
      expect(rig.nucleus.store.config.get(['services', PROBE, 'configuration', 'greeting'])).to.equal(
        'hello',
      );
      const late = await rig.probe.call('sendConfigurationValidityReport', {
        configurationValidityReport: { status: 'ACCEPTED', deploymentId: e1.deploymentId },
      });
      expect(late.ok, 'a second report for the same deployment').to.equal(false);

      const accepted = await rig.cloudDeploy({ [PROBE]: { greeting: 'accepted value' } });
      await ready();
      const e2 = (await s.next()).validateConfigurationUpdateEvent as { deploymentId: string };
      succeeded(
        await rig.probe.call('sendConfigurationValidityReport', {
          configurationValidityReport: { status: 'ACCEPTED', deploymentId: e2.deploymentId },
        }),
      );
      await eventually(
        'the accepted deployment succeeded',
        async () => (await rig.cloudStatus(accepted)) === 'COMPLETED',
        60000,
      );
      expect(rig.nucleus.store.config.get(['services', PROBE, 'configuration', 'greeting'])).to.equal(
        'accepted value',
      );
      await updates.close();
      await s.close();
    });
  });

  describe('lifecycle', () => {
    it('[IPC-56][LC-09] UpdateState RUNNING from its run step is dropped without an error; an unknown state is refused', async () => {
      succeeded(await rig.probe.call('updateState', { state: 'RUNNING' }));
      expect(rig.nucleus.manager.get(PROBE)?.status().state).to.equal('RUNNING');
      expect((await rig.probe.call('updateState', { state: 'DANCING' })).ok).to.equal(false);
    });

    it('[IPC-59][IPC-60][IPC-115][LC-80] PauseComponent freezes the sleeper, ResumeComponent thaws it; an unknown target and one outside the policy are refused', async () => {
      await waitFor('the sleeper counting', () => sleeperCounter(rig.root) > 2);
      succeeded(await rig.probe.call('pauseComponent', { componentName: SLEEPER }));
      const frozenAt = sleeperCounter(rig.root);
      await sleep(300); // a running loop writes about 15 times meanwhile
      expect(sleeperCounter(rig.root)).to.equal(frozenAt);
      succeeded(await rig.probe.call('resumeComponent', { componentName: SLEEPER }));
      await waitFor('the sleeper counting again', () => sleeperCounter(rig.root) > frozenAt);
      refused(
        await rig.probe.call('pauseComponent', { componentName: 'com.example.Missing' }),
        'ResourceNotFoundError',
      );
      refused(await rig.probe.call('pauseComponent', { componentName: PROBE }), 'UnauthorizedError');
    });

    it('[IPC-57][IPC-58][IPC-113][DP-47] a deferral holds a cloud deployment back until the component lets it go; postUpdate follows', async () => {
      const s = await rig.probe.stream('subscribeToComponentUpdates', {});
      succeeded(s.answer);
      const d = await rig.cloudDeploy({
        [PROBE]: { greeting: 'accepted value' },
        [SLEEPER]: { mood: 'deferred' },
      });
      const pre = await nextUpdate(s, 'preUpdateEvent');
      expect(pre.deploymentId).to.be.a('string');
      succeeded(
        await rig.probe.call('deferComponentUpdate', {
          deploymentId: pre.deploymentId,
          message: 'busy',
          recheckAfterMs: 1500,
        }),
      );
      await sleep(700);
      expect(
        rig.nucleus.store.config.get(['services', SLEEPER, 'configuration', 'mood']),
        'not yet applied',
      ).to.equal('calm');
      const again = await nextUpdate(s, 'preUpdateEvent');
      expect(again.deploymentId, 'asked again after the deferral').to.equal(pre.deploymentId);
      succeeded(
        await rig.probe.call('deferComponentUpdate', { deploymentId: pre.deploymentId, recheckAfterMs: 0 }),
      );
      expect((await nextUpdate(s, 'postUpdateEvent')).deploymentId).to.equal(pre.deploymentId);
      expect(rig.nucleus.store.config.get(['services', SLEEPER, 'configuration', 'mood'])).to.equal(
        'deferred',
      );
      await eventually(
        'the deferred deployment succeeded',
        async () => (await rig.cloudStatus(d)) === 'COMPLETED',
        60000,
      );
      refused(
        await rig.probe.call('deferComponentUpdate', { deploymentId: pre.deploymentId, recheckAfterMs: -5 }),
        'InvalidArgumentsError',
      );
      await s.close();
    });
  });

  describe('CLI operations', () => {
    it('[IPC-72][IPC-73][IPC-74][IPC-75] ListComponents, GetComponentDetails, RestartComponent and StopComponent act on the sleeper', async () => {
      const list = succeeded(await rig.probe.call('listComponents')).components as Array<{
        componentName: string;
        state: string;
      }>;
      expect(list.find((c) => c.componentName === SLEEPER)?.state).to.equal('RUNNING');
      const details = succeeded(await rig.probe.call('getComponentDetails', { componentName: SLEEPER }))
        .componentDetails as { version: string; configuration: Record<string, unknown> };
      expect(details.version).to.equal('1.0.0');
      expect(details.configuration).to.have.property('mood');
      refused(
        await rig.probe.call('getComponentDetails', { componentName: 'com.example.Missing' }),
        'ResourceNotFoundError',
      );

      const generation = rig.nucleus.manager.get(SLEEPER)!.status().generation;
      expect(
        succeeded(await rig.probe.call('restartComponent', { componentName: SLEEPER })).restartStatus,
      ).to.equal('SUCCEEDED');
      await waitFor('a new sleeper process', () => {
        const st = rig.nucleus.manager.get(SLEEPER)!.status();
        return st.state === 'RUNNING' && st.generation > generation;
      });
      refused(
        await rig.probe.call('restartComponent', { componentName: 'com.example.Missing' }),
        'ComponentNotFoundError',
      );
      expect(
        succeeded(await rig.probe.call('stopComponent', { componentName: SLEEPER })).stopStatus,
      ).to.equal('SUCCEEDED');
      await waitFor(
        'the sleeper stopped',
        () => rig.nucleus.manager.get(SLEEPER)!.status().state === 'FINISHED',
      );
      succeeded(await rig.probe.call('restartComponent', { componentName: SLEEPER }));
      await waitFor('the sleeper back', () => rig.nucleus.manager.get(SLEEPER)!.status().state === 'RUNNING');
    });

    it('[IPC-68][IPC-69][IPC-70][IPC-71][IPC-76] local deployments are listed and looked up; unknown ids and bad requests are refused; CreateDebugPassword is not supported', async () => {
      const listed = succeeded(await rig.probe.call('listLocalDeployments')).localDeployments as Array<{
        status: string;
      }>;
      expect(listed.length).to.be.greaterThan(0);
      refused(
        await rig.probe.call('getLocalDeploymentStatus', { deploymentId: 'no-such-id' }),
        'ResourceNotFoundError',
      );
      refused(
        await rig.probe.call('cancelLocalDeployment', { deploymentId: 'no-such-id' }),
        'ResourceNotFoundError',
      );
      refused(
        await rig.probe.call('createLocalDeployment', {
          rootComponentVersionsToAdd: map({ [SLEEPER]: 'not-a-version' }),
        }),
        'InvalidArgumentsError',
      );
      expect(refused(await rig.probe.call('createDebugPassword'), 'ServiceError')).to.match(/not supported/i);
    });
  });

  describe('MQTT proxy, metrics and the services Tendril does not serve', () => {
    let observer: MqttTransport | undefined;
    const seen: Array<{ topic: string; payload: string }> = [];
    const out = `$aws/things/${THING}/probe/out`;
    const inbound = `$aws/things/${THING}/probe/in`;
    before(async () => {
      observer = await createTransport(
        { ...connectionOptions(rig.provisioned), clientId: `${THING}#2` },
        {
          up: () => undefined,
          down: () => undefined,
          message: (topic, payload) => seen.push({ topic, payload: payload.toString('utf8') }),
        },
      );
      await observer.connect();
      expect(await observer.subscribe(out, 1)).to.be.lessThan(128);
    });
    after(async () => {
      await observer?.close().catch(() => undefined);
    });

    it('[IPC-54][IPC-55][IPC-90][IPC-92] PublishToIoTCore and SubscribeToIoTCore go through the cloud connection on the interpolated policy topic', async () => {
      succeeded(
        await rig.probe.call('publishToIoTCore', { topicName: out, qos: '1', payload: Buffer.from('up') }),
      );
      await waitFor('the message at the broker', () => seen.find((s) => s.payload === 'up'));
      const s = await rig.probe.stream('subscribeToIoTCore', { topicName: inbound, qos: '1' });
      succeeded(s.answer);
      await observer!.publish(inbound, Buffer.from('down'), 1);
      const e = (await s.next()).message as { topicName: string; payload: unknown };
      expect(e.topicName).to.equal(inbound);
      expect(fromB64(e.payload)).to.equal('down');
      await s.close();
      refused(
        await rig.probe.call('publishToIoTCore', {
          topicName: `$aws/things/other/probe/out`,
          qos: '1',
          payload: Buffer.from('x'),
        }),
        'UnauthorizedError',
      );
    });

    it('[IPC-66][IPC-67][IPC-101] PutComponentMetric and ValidateAuthorizationToken are refused to a component outside aws.* and StreamManager', async () => {
      refused(
        await rig.probe.call('putComponentMetric', { metrics: [{ name: 'm', unit: 'Count', value: 1 }] }),
        'UnauthorizedError',
      );
      refused(await rig.probe.call('validateAuthorizationToken', { token: 'abc' }), 'UnauthorizedError');
    });

    it('[IPC-77][IPC-81][IPC-88] shadow and secret operations answer ServiceError "not supported"', async () => {
      expect(refused(await rig.probe.call('getThingShadow', { thingName: THING }), 'ServiceError')).to.match(
        /not supported/i,
      );
      expect(refused(await rig.probe.call('getSecretValue', { secretId: 's' }), 'ServiceError')).to.match(
        /not supported/i,
      );
    });
  });
});
