import { CreateComponentVersionCommand, CreateDeploymentCommand } from '@aws-sdk/client-greengrassv2';
import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { LocalCa, type ProvisionResult } from '../../../src/localcloud/index.js';
import { credentialsOf, httpsRequest, ScriptedDevice, type DeviceCredentials } from './device-helpers.js';
import { recipeBytes, simpleRecipe, startHarness, type Harness } from './helpers.js';

/** Connects and resolves with how the attempt ended: an error, or a close without CONNACK. */
async function connectFails(
  port: number,
  creds: Partial<DeviceCredentials>,
  clientId: string,
): Promise<string> {
  const c = mqtt.connect({
    host: '127.0.0.1',
    port,
    protocol: 'mqtts',
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

async function requestFails(url: string, creds: Partial<DeviceCredentials>): Promise<Error> {
  try {
    await httpsRequest(url, { creds });
  } catch (e) {
    return e as Error;
  }
  throw new Error('the request was served');
}

describe('localcloud device side: mutual TLS, topic policy, data plane and credentials', function () {
  let h: Harness;
  let out: string;
  let core: ProvisionResult;
  let creds: DeviceCredentials;
  let dp: string;

  beforeEach(async () => {
    h = await startHarness();
    out = mkdtempSync(join(tmpdir(), 'tendril-device-'));
    core = await h.cloud.provision({ thingName: 'core1', thingGroup: 'fleet', outDir: out });
    await h.cloud.provision({ thingName: 'core2', outDir: join(out, 'core2') });
    creds = credentialsOf(core);
    dp = h.cloud.device.dataPlane;
  });
  afterEach(async () => {
    await h.close();
    rmSync(out, { recursive: true, force: true });
  });

  describe('TLS [CL-22] [CL-66]', () => {
    it('refuses a certificate from another CA at the TLS layer, on MQTT and on the data plane', async () => {
      const foreign = await LocalCa.open(join(out, 'other-ca'));
      const issued = await foreign.issueDevice('core1');
      const bad = { cert: issued.certificatePem, key: issued.privateKeyPem, ca: creds.ca };
      const e1 = await connectFails(h.cloud.device.mqttPort, bad, 'core1');
      expect(e1).to.match(/alert|socket|ECONNRESET|certificate|closed before CONNACK/i);
      expect(h.cloud.store.things.get('core1')).not.to.equal(undefined);
      const e2 = await requestFails(`${dp}/greengrass/v2/coreDevices/core1/thingGroups`, bad);
      expect(e2.message).to.match(/alert|socket|ECONNRESET|certificate/i);
    });

    it('refuses a client with no certificate on the data plane', async () => {
      const e = await requestFails(`${dp}/greengrass/v2/coreDevices/core1/thingGroups`, { ca: creds.ca });
      expect(e.message).to.match(/alert|socket|ECONNRESET|certificate/i);
    });

    it('[CL-67] refuses a client id that is not the certificate thing name', async () => {
      const e = await connectFails(h.cloud.device.mqttPort, creds, 'core2');
      expect(e).to.match(/Identifier rejected/i);
      const ok = await ScriptedDevice.connect(h.cloud.device.mqttPort, creds, 'core1#2');
      await ok.close();
    });

    it('writes a nucleus init config pointing at the local endpoints', () => {
      const text = readFileSync(core.configPath, 'utf8');
      expect(text).to.contain('thingName: core1');
      const nucleus = (core.config.services as Record<string, { configuration: Record<string, unknown> }>)[
        'aws.greengrass.Nucleus'
      ].configuration;
      expect(nucleus).to.deep.include({
        awsRegion: 'us-east-1',
        iotDataEndpoint: '127.0.0.1',
        greengrassDataPlaneEndpoint: '127.0.0.1',
        greengrassDataPlanePort: h.cloud.device.dataPlanePort,
        iotCredEndpoint: h.cloud.device.credentialsEndpoint,
        iotRoleAlias: 'GreengrassV2TokenExchangeRoleAlias',
        mqtt: { port: h.cloud.device.mqttPort, version: 'mqtt3' },
      });
      expect((core.config.system as Record<string, string>).rootCaPath).to.equal(core.rootCaPath);
    });

    it('refuses a bad thing name or group, naming the field, and registers nothing', async () => {
      for (const [req, field] of [
        [{ thingName: 'bad name', outDir: out }, 'thingName'],
        [{ thingName: 'ok', thingGroup: 'no/slash', outDir: out }, 'thingGroup'],
        [{ thingName: 'ok', outDir: '' }, 'outDir'],
      ] as const) {
        let err: (Error & { field?: string }) | undefined;
        try {
          await h.cloud.provision(req);
        } catch (e) {
          err = e as Error & { field?: string };
        }
        expect(err?.field, JSON.stringify(req)).to.equal(field);
      }
      expect(h.cloud.store.things.get('ok')).to.equal(undefined);
    });
  });

  describe('topic policy', () => {
    it("grants QoS 128 for another thing's topics and closes the connection on a publish to them", async () => {
      const dev = await ScriptedDevice.connect(h.cloud.device.mqttPort, creds, 'core1');
      try {
        const granted = await dev.subscribe(
          '$aws/things/core1/jobs/notify-namespace-aws-gg-deployment',
          '$aws/things/core2/jobs/notify-namespace-aws-gg-deployment',
          '$aws/things/+/shadow/update',
          '#',
        );
        expect(granted).to.deep.equal([1, 128, 128, 128]);
        const closed = new Promise<void>((resolve) => dev.client.once('close', () => resolve()));
        dev.client.publish('$aws/things/core2/shadow/update', '{"state":{"reported":{"x":1}}}', { qos: 1 });
        await closed;
        expect(h.cloud.getShadow('core2', '')).to.equal(undefined);
      } finally {
        await dev.close();
      }
    });
  });

  describe('data plane [CL-24] [CL-25] [CL-26] [CL-29] [CL-32] [CL-37]', () => {
    const bytes = Buffer.from('0123456789abcdef'.repeat(64));
    beforeEach(async () => {
      const put = await fetch(
        `${h.cloud.endpoint}/tendril/artifacts?uri=${encodeURIComponent('s3://bucket/app/app.bin')}`,
        { method: 'PUT', body: bytes },
      );
      expect(put.status).to.equal(200);
      await h.client.send(
        new CreateComponentVersionCommand({
          inlineRecipe: recipeBytes(
            simpleRecipe('com.example.App', '1.0.0', {
              Manifests: [
                {
                  Platform: { os: 'linux' },
                  Lifecycle: { run: 'echo hi' },
                  Artifacts: [{ URI: 's3://bucket/app/app.bin' }],
                },
              ],
            }),
          ),
        }),
      );
      await h.client.send(
        new CreateComponentVersionCommand({
          inlineRecipe: recipeBytes(simpleRecipe('com.example.App', '1.1.0')),
        }),
      );
    });

    const resolve = (body: unknown) =>
      httpsRequest(`${dp}/greengrass/v2/resolveComponentCandidates`, { method: 'POST', body, creds });

    it('resolves one candidate per call, with the service wording for conflicts and bad requests', async () => {
      const ok = await resolve({
        platform: { attributes: { os: 'linux', architecture: 'amd64' } },
        componentCandidates: [
          { componentName: 'com.example.App', versionRequirements: { 'thinggroup/fleet': '>=1.0.0 <1.1.0' } },
        ],
      });
      expect(ok.status).to.equal(200);
      const [r] = ok.json().resolvedComponentVersions as Record<string, string>[];
      expect(r).to.include({
        componentName: 'com.example.App',
        componentVersion: '1.0.0',
        arn: 'arn:aws:greengrass:us-east-1:123456789012:components:com.example.App:versions:1.0.0',
      });
      const recipe = JSON.parse(Buffer.from(r.recipe, 'base64').toString('utf8')) as Record<string, unknown>;
      expect(recipe.ComponentVersion).to.equal('1.0.0');

      const none = await resolve({
        platform: { attributes: { os: 'linux' } },
        componentCandidates: [{ componentName: 'com.example.App', versionRequirements: { G: '>=2.0.0' } }],
      });
      expect(none.status).to.equal(404);
      expect(none.json().message).to.contain('no usable version');
      const platform = await resolve({
        platform: { attributes: { os: 'windows' } },
        componentCandidates: [{ componentName: 'com.example.App', versionRequirements: {} }],
      });
      expect(platform.status).to.equal(404);
      expect(platform.json().message).to.contain('claim platform');
      const bad = await resolve({ platform: { attributes: { os: 'linux' } } });
      expect(bad.status).to.equal(400);
      expect(bad.json().fields).to.deep.equal([
        { name: 'componentCandidates', message: 'componentCandidates is required' },
      ]);
    });

    it('hands out a presigned artifact URL that serves plain GET and Range requests', async () => {
      const arn = encodeURIComponent(
        'arn:aws:greengrass:us-east-1:123456789012:components:com.example.App:versions:1.0.0',
      );
      const res = await httpsRequest(
        `${dp}/greengrass/v2/components/${arn}/artifacts/bucket/app/app.bin?s3EndpointType=GLOBAL`,
        {
          creds,
        },
      );
      expect(res.status).to.equal(200);
      const url = res.json().preSignedUrl as string;
      const whole = await fetch(url);
      expect(whole.status).to.equal(200);
      expect(Number(whole.headers.get('content-length'))).to.equal(bytes.length);
      const part = await fetch(url, { headers: { range: `bytes=1000-${bytes.length - 1}` } });
      expect(part.status).to.equal(206);
      expect(Buffer.from(await part.arrayBuffer())).to.deep.equal(bytes.subarray(1000));
      const tampered = await fetch(url.replace(/signature=[0-9a-f]/, 'signature=z'));
      expect(tampered.status).to.equal(403);
    });

    it('lists the thing groups of the calling core only', async () => {
      const own = await httpsRequest(`${dp}/greengrass/v2/coreDevices/core1/thingGroups`, { creds });
      expect(own.json()).to.deep.equal({
        thingGroups: [{ thingGroupName: 'fleet', rootToParentThingGroups: [] }],
      });
      const other = await httpsRequest(`${dp}/greengrass/v2/coreDevices/core2/thingGroups`, { creds });
      expect(other.status).to.equal(403);
    });

    it('[CL-33] [CL-34] serves the full deployment document with its SHA-256 for a targeted core', async () => {
      const created = await h.client.send(
        new CreateDeploymentCommand({
          targetArn: 'arn:aws:iot:us-east-1:123456789012:thinggroup/fleet',
          components: {
            'com.example.App': { componentVersion: '1.1.0', configurationUpdate: { merge: '{"a":1}' } },
          },
        }),
      );
      await h.cloud.deviceIdle();
      const path = `${dp}/greengrass/v2/deployments/${created.deploymentId}/configuration`;
      const res = await httpsRequest(`${path}?coreDeviceThingName=core1&s3EndpointType=GLOBAL`, { creds });
      expect(res.status).to.equal(200);
      const { preSignedUrl, integrityCheck } = res.json() as {
        preSignedUrl: string;
        integrityCheck: { algorithm: string; digest: string };
      };
      const body = await (await fetch(preSignedUrl)).text();
      expect(integrityCheck).to.deep.equal({
        algorithm: 'SHA-256',
        digest: createHash('sha256').update(body, 'utf8').digest('base64'),
      });
      expect(JSON.parse(body)).to.deep.include({ deploymentId: created.deploymentId });
      expect((await httpsRequest(`${path}?coreDeviceThingName=core2`, { creds })).status).to.equal(403);
      const missing = await httpsRequest(`${path}`, { creds });
      expect(missing.status).to.equal(400);
      expect(missing.json().fields).to.deep.equal([
        { name: 'coreDeviceThingName', message: 'coreDeviceThingName is required' },
      ]);
    });
  });

  describe('credentials provider [CL-54] [CL-55]', () => {
    const url = () =>
      `${h.cloud.device.dataPlane}/role-aliases/GreengrassV2TokenExchangeRoleAlias/credentials`;

    it('returns well-formed temporary credentials for a known role alias', async () => {
      const res = await httpsRequest(url(), { creds, headers: { 'x-amzn-iot-thingname': 'core1' } });
      expect(res.status).to.equal(200);
      const c = (res.json() as { credentials: Record<string, string> }).credentials;
      expect(c.accessKeyId).to.match(/^ASIA[A-Z2-7]{16}$/);
      expect(c.secretAccessKey).to.have.length(40);
      expect(c.sessionToken.length).to.be.greaterThan(100);
      expect(c.expiration).to.match(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
      expect(Date.parse(c.expiration)).to.be.greaterThan(Date.now());
    });

    it('refuses an unknown role alias and a thing-name header for another thing', async () => {
      const unknown = await httpsRequest(`${h.cloud.device.dataPlane}/role-aliases/Nope/credentials`, {
        creds,
      });
      expect(unknown.status).to.equal(404);
      expect(unknown.json().message).to.contain('role alias Nope does not exist');
      const spoof = await httpsRequest(url(), { creds, headers: { 'x-amzn-iot-thingname': 'core2' } });
      expect(spoof.status).to.equal(403);
    });
  });
});
