// The nucleus in the cloud with a real Mosquitto as the device broker: the local cloud starts mosquitto
// with a generated config (mutual TLS, certificate CN as username, the device policy as ACL) and its
// services talk to it as an MQTT client. The happy path of cloud-deployment.test.ts end to end, then the
// broker's access control with scripted devices, and the services on an already running broker.
import { CreateComponentVersionCommand, CreateDeploymentCommand } from '@aws-sdk/client-greengrassv2';
import { expect } from 'chai';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { createLocalCloud, DEFAULT_DEVICE_POLICY, LocalCa } from '../../src/localcloud/index.js';
import { mosquittoUser, writeMosquittoFiles } from '../../src/localcloud/device/mosquitto-config.js';
import {
  findMosquitto,
  freePort,
  startMosquitto,
  type MosquittoProcess,
} from '../../src/localcloud/device/mosquitto-process.js';
import {
  createExampleComponents,
  expectGroupHelloDeployment,
  startCloudNucleus,
  type CloudNucleus,
} from '../support/cloud-deployment.js';
import { startCloudHarness, type CloudHarness } from '../integration/iot/helpers.js';
import {
  credentialsOf,
  jobsTopic,
  ScriptedDevice,
  type DeviceCredentials,
} from '../integration/localcloud/device-helpers.js';
import { recipeBytes, simpleRecipe } from '../integration/localcloud/helpers.js';

const NS = 'namespace-aws-gg-deployment';
const bin = findMosquitto();
const NO_MOSQUITTO = 'skipped: mosquitto is not installed (CI installs it with apt-get)';

/** The pid of the local cloud's mosquitto, checked to be a running mosquitto process. */
function runningMosquitto(dataDir: string): number {
  const pid = Number(readFileSync(join(dataDir, 'mosquitto', 'mosquitto.pid'), 'utf8'));
  expect(readFileSync(`/proc/${pid}/cmdline`, 'utf8')).to.include('mosquitto');
  return pid;
}

/** Connects and resolves with how the attempt ended: 'connected', an error, or a close without CONNACK. */
async function connectOutcome(port: number, creds: Partial<DeviceCredentials>, clientId: string) {
  const c = mqtt.connect({
    host: '127.0.0.1',
    port,
    protocol: 'mqtts',
    protocolVersion: 4,
    clientId,
    key: creds.key,
    cert: creds.cert,
    ca: creds.ca,
    reconnectPeriod: 0,
    connectTimeout: 5000,
  });
  const outcome = await new Promise<string>((resolve) => {
    c.once('connect', () => resolve('connected'));
    c.once('error', (e) => resolve(`error: ${e.message}`));
    c.once('close', () => resolve('closed before CONNACK'));
  });
  await c.endAsync(true);
  return outcome;
}

describe('e2e: cloud deployments through a Mosquitto broker', function () {
  this.timeout(90000);
  let h: CloudHarness | undefined;
  let n: CloudNucleus | undefined;

  before(async function () {
    if (!bin) {
      console.log(`      ${NO_MOSQUITTO}`);
      return this.skip();
    }
    if (process.getuid?.() !== 0) {
      console.log('      skipped: needs root to run components as nobody');
      return this.skip();
    }
    h = await startCloudHarness({ broker: 'mosquitto' });
    await createExampleComponents(h, [['com.example.HelloWorld', 'hello.sh']]);
    n = await startCloudNucleus(h, 'mosq-core', 'mosq-fleet');
  });
  after(async () => {
    await n?.stop();
    n = undefined;
    await h?.close();
  });

  it('[CL-06] [CL-13] [CL-24] [CL-29] [CL-37] [CL-46] [CL-53] [CL-66] a thing-group deployment arrives as a job through mosquitto, runs, and the SDK sees SUCCEEDED, the component RUNNING and a HEALTHY core', async () => {
    const pid = runningMosquitto(join(h!.dir, 'cloud'));
    await expectGroupHelloDeployment(
      h!,
      n!,
      'arn:aws:iot:us-east-1:123456789012:thinggroup/mosq-fleet',
      'mosq-hello',
      'Hi through mosquitto',
    );
    // the same broker carried it all
    expect(runningMosquitto(join(h!.dir, 'cloud'))).to.equal(pid);
  });

  it('[CL-71] [CL-75] after the local cloud and its mosquitto restart on the same ports, the nucleus reconnects and a later deployment still arrives', async () => {
    const before = runningMosquitto(join(h!.dir, 'cloud'));
    await h!.restart(500);
    expect(existsSync(`/proc/${before}`), 'the first mosquitto is gone').to.equal(false);
    expect(runningMosquitto(join(h!.dir, 'cloud'))).to.not.equal(before);
    await expectGroupHelloDeployment(
      h!,
      n!,
      'arn:aws:iot:us-east-1:123456789012:thinggroup/mosq-fleet',
      'mosq-hello-2',
      'Hi after the restart',
    );
  });
});

describe("e2e: the Mosquitto broker's access control", function () {
  this.timeout(60000);
  let h: CloudHarness | undefined;
  const devices: ScriptedDevice[] = [];
  const creds: Record<string, DeviceCredentials> = {};
  const connect = async (thing: string) => {
    const d = await ScriptedDevice.connect(h!.cloud.device.mqttPort, creds[thing], thing);
    devices.push(d);
    return d;
  };

  before(async function () {
    if (!bin) {
      console.log(`      ${NO_MOSQUITTO}`);
      return this.skip();
    }
    h = await startCloudHarness({ broker: 'mosquitto' });
    for (const [thing, group] of [
      ['alpha', 'acl-fleet'],
      ['beta', 'acl-fleet'],
      ['late', 'late-fleet'],
    ])
      creds[thing] = credentialsOf(
        await h.cloud.provision({ thingName: thing, thingGroup: group, outDir: join(h.dir, thing) }),
      );
  });
  after(async () => {
    for (const d of devices) await d.close();
    await h?.close();
  });

  it('[CL-66] refuses a certificate from a foreign CA, and a client without a certificate, at the TLS handshake', async () => {
    const foreignDir = mkdtempSync(join(tmpdir(), 'tendril-foreign-ca-'));
    try {
      const foreign = await (await LocalCa.open(foreignDir)).issueDevice('alpha');
      const port = h!.cloud.device.mqttPort;
      const withForeign = await connectOutcome(
        port,
        { cert: foreign.certificatePem, key: foreign.privateKeyPem, ca: creds.alpha.ca },
        'alpha',
      );
      expect(withForeign).to.match(/^error: .*unknown ca/i);
      const without = await connectOutcome(port, { ca: creds.alpha.ca }, 'alpha');
      expect(without).to.match(/^error: .*certificate required/i);
      // the thing's own certificate gets through
      expect(await connectOutcome(port, creds.alpha, 'alpha')).to.equal('connected');
    } finally {
      rmSync(foreignDir, { recursive: true, force: true });
    }
  });

  it("[CL-77] a device gets none of another thing's messages (mosquitto grants the SUBSCRIBE, its ACL withholds delivery) and cannot publish into its topics", async () => {
    const alpha = await connect('alpha');
    const beta = await connect('beta');
    const alphaTopics: string[] = [];
    alpha.client.on('message', (topic) => alphaTopics.push(topic));
    const shadowGet = (t: string) => `$aws/things/${t}/shadow/get`;
    // alpha tries for beta's topics, by name and by wildcard
    await alpha.subscribe(
      '$aws/things/beta/shadow/#',
      '$aws/things/beta/jobs/#',
      '$aws/things/+/shadow/#',
      '#',
    );
    await beta.subscribe(`${shadowGet('beta')}/rejected`, jobsTopic('beta', `$next/${NS}/get/accepted`));
    const betaShadow = await beta.call(shadowGet('beta'), {}, `${shadowGet('beta')}/rejected`);
    expect(betaShadow.json).to.include({ code: 404 });
    await beta.call(
      jobsTopic('beta', `$next/${NS}/get`),
      { thingName: 'beta', jobId: '$next' },
      jobsTopic('beta', `$next/${NS}/get/accepted`),
    );
    // alpha writes into beta's named shadow: dropped by the broker, never reaching the cloud
    await alpha.publish('$aws/things/beta/shadow/name/stolen/update', { state: { reported: { x: 1 } } });
    // alpha's own request after it: its reply comes after anything the broker had let through
    const own = await alpha.call(shadowGet('alpha'), {}, `${shadowGet('alpha')}/rejected`);
    expect(own.json).to.include({ code: 404 });
    expect(h!.cloud.getShadow('beta', 'stolen')).to.equal(undefined);
    expect(alphaTopics.filter((t) => !t.startsWith('$aws/things/alpha/'))).to.deep.equal([]);
    expect(alphaTopics).to.include(`${shadowGet('alpha')}/rejected`);
  });

  it('[CL-07] [CL-08] a device that connects after the deployment was created gets its job from $next/get', async () => {
    await h!.client.send(
      new CreateComponentVersionCommand({
        inlineRecipe: recipeBytes(simpleRecipe('com.example.Late', '1.0.0')),
      }),
    );
    const created = await h!.client.send(
      new CreateDeploymentCommand({
        targetArn: 'arn:aws:iot:us-east-1:123456789012:thinggroup/late-fleet',
        deploymentName: 'late-deploy',
        components: { 'com.example.Late': { componentVersion: '1.0.0' } },
      }),
    );
    await h!.cloud.deviceIdle();
    const late = await connect('late');
    const accepted = jobsTopic('late', `$next/${NS}/get/accepted`);
    await late.subscribe(accepted);
    const reply = await late.call(
      jobsTopic('late', `$next/${NS}/get`),
      { thingName: 'late', includeJobDocument: true, jobId: '$next' },
      accepted,
    );
    const execution = reply.json.execution as Record<string, unknown>;
    expect(execution, JSON.stringify(reply.json)).to.include({ thingName: 'late', status: 'QUEUED' });
    expect(execution.jobDocument).to.have.property('deploymentId', created.deploymentId);
  });

  it('stops its mosquitto with the local cloud', async () => {
    const dataDir = join(h!.dir, 'cloud');
    const pid = runningMosquitto(dataDir);
    await h!.stopCloud();
    expect(existsSync(`/proc/${pid}`), `mosquitto ${pid} still runs`).to.equal(false);
    expect(existsSync(join(dataDir, 'mosquitto', 'service.sock'))).to.equal(false);
    expect(existsSync(join(dataDir, 'mosquitto', 'mosquitto.pid'))).to.equal(false);
  });
});

describe('e2e: the local cloud on an already running broker', function () {
  this.timeout(60000);
  let dir: string | undefined;
  let broker: MosquittoProcess | undefined;
  let port = 0;
  let socketPath = '';

  before(async function () {
    if (!bin) {
      console.log(`      ${NO_MOSQUITTO}`);
      return this.skip();
    }
    dir = mkdtempSync(join(tmpdir(), 'tendril-ext-broker-'));
    chmodSync(dir, 0o755); // reachable for the mosquitto user when run as root
    const dataDir = join(dir, 'cloud');
    // A broker set up the way the local cloud sets up its own, started here, outside the local cloud.
    const identity = await (await LocalCa.open(dataDir)).issueServer(['127.0.0.1']);
    port = await freePort('127.0.0.1');
    const files = writeMosquittoFiles({
      dataDir,
      host: '127.0.0.1',
      port,
      identity,
      policy: DEFAULT_DEVICE_POLICY,
      user: mosquittoUser(),
    });
    socketPath = files.socketPath;
    broker = await startMosquitto({
      bin,
      files,
      log: () => {},
      onConnection: () => {},
      onUnexpectedExit: () => {},
    });
  });
  after(async () => {
    await broker?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  for (const [what, url] of [
    ['a unix socket (mqtt+unix://)', () => `mqtt+unix://${socketPath}`],
    ['mutual TLS with the services identity from the local CA (mqtts://)', () => `mqtts://127.0.0.1:${port}`],
  ] as const)
    it(`[CL-07] [CL-08] the services reach it over ${what} and answer a device`, async () => {
      const cloud = await createLocalCloud({
        dataDir: join(dir!, 'cloud'),
        broker: url(),
        mqttPort: port,
        log: () => {},
      });
      let dev: ScriptedDevice | undefined;
      try {
        expect(cloud.device.mqttPort).to.equal(port);
        const p = await cloud.provision({ thingName: 'ext-core', outDir: join(dir!, 'ext-core') });
        dev = await ScriptedDevice.connect(port, credentialsOf(p), 'ext-core');
        const accepted = jobsTopic('ext-core', `$next/${NS}/get/accepted`);
        await dev.subscribe(accepted);
        const reply = await dev.call(
          jobsTopic('ext-core', `$next/${NS}/get`),
          { thingName: 'ext-core', jobId: '$next', clientToken: 'ext' },
          accepted,
        );
        expect(reply.json).to.include({ clientToken: 'ext' });
      } finally {
        await dev?.close();
        await cloud.close();
      }
      // the broker outlives the local cloud that used it
      expect(existsSync(`/proc/${broker!.pid}`)).to.equal(true);
    });
});
