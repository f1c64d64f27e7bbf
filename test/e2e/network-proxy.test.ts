// The whole nucleus behind a network proxy [CF-40]: provisioned against the local cloud with
// `networkProxy` set, it connects over MQTT, calls the data plane, fetches TES credentials and an
// s3:// artifact, and downloads a greengrass: artifact, all through a real CONNECT proxy that counts
// what passed; its components get the proxy variables [LC-71].
import { CreateComponentVersionCommand, CreateDeploymentCommand } from '@aws-sdk/client-greengrassv2';
import { ListEffectiveDeploymentsCommand } from '@aws-sdk/client-greengrassv2';
import { expect } from 'chai';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import yaml from 'js-yaml';
import { Nucleus } from '../../src/nucleus/index.js';
import { startConnectProxy, type TestProxy } from '../support/connect-proxy.js';
import { eventually, startCloudHarness, type CloudHarness } from '../integration/iot/helpers.js';

const THING = 'proxied-core';
const GROUP = 'proxied-fleet';
const AUTH = { username: 'device', password: 's3cret' };

describe('e2e: the nucleus behind a network proxy', function () {
  this.timeout(120000);
  let h: CloudHarness;
  let proxy: TestProxy;
  let nucleus: Nucleus | undefined;
  let root: string;

  before(async function () {
    if (process.getuid?.() !== 0) {
      console.log('      skipped: needs root to run components as nobody');
      this.skip();
    }
    h = await startCloudHarness();
    proxy = await startConnectProxy(AUTH);
    const put = async (q: Record<string, string>, body: string) => {
      const res = await fetch(`${h.cloud.endpoint}/tendril/artifacts?${new URLSearchParams(q)}`, {
        method: 'PUT',
        body,
      });
      expect(res.status).to.equal(200);
    };
    await put(
      { uri: 'greengrass:note.txt', componentName: 'com.example.Proxied', componentVersion: '1.0.0' },
      'from the data plane',
    );
    await put({ uri: 's3://proxied/object.txt' }, 'from s3');
    await h.client.send(
      new CreateComponentVersionCommand({
        inlineRecipe: Buffer.from(
          JSON.stringify({
            RecipeFormatVersion: '2020-01-25',
            ComponentName: 'com.example.Proxied',
            ComponentVersion: '1.0.0',
            Manifests: [
              {
                Platform: { os: 'linux' },
                Artifacts: [
                  { URI: 'greengrass:note.txt', Permission: { Read: 'ALL' } },
                  { URI: 's3://proxied/object.txt', Permission: { Read: 'ALL' } },
                ],
                Lifecycle: {
                  Run: 'echo "PROXY=$HTTPS_PROXY NO_PROXY=$NO_PROXY"; cat {artifacts:path}/note.txt {artifacts:path}/object.txt',
                },
              },
            ],
          }),
        ),
      }),
    );
    const p = await h.cloud.provision({ thingName: THING, thingGroup: GROUP, outDir: join(h.dir, 'device') });
    const init = yaml.load(readFileSync(p.configPath, 'utf8')) as {
      services: Record<string, { configuration: Record<string, unknown> }>;
    };
    const conf = init.services['aws.greengrass.Nucleus'].configuration;
    conf.runWithDefault = { posixUser: 'nobody:nogroup' };
    conf.s3EndpointOverride = `${h.cloud.device.dataPlane}/s3`;
    conf.networkProxy = {
      noProxyAddresses: 'internal.example',
      proxy: { url: proxy.url, username: AUTH.username, password: AUTH.password },
    };
    writeFileSync(join(h.dir, 'device', 'init.yaml'), yaml.dump(init));
    root = join(h.dir, 'root');
    nucleus = await Nucleus.start({ root, initConfigFile: join(h.dir, 'device', 'init.yaml') });
  });
  after(async () => {
    await nucleus?.stop();
    nucleus = undefined;
    await proxy?.close();
    await h?.close();
  });

  it('[CF-40] [LC-71] [CL-37] [CL-54] [CL-63] [CL-66] MQTT, data plane, credentials, S3 and the presigned download all pass through the proxy', async () => {
    const created = await h.client.send(
      new CreateDeploymentCommand({
        targetArn: `arn:aws:iot:us-east-1:123456789012:thinggroup/${GROUP}`,
        deploymentName: 'proxied',
        components: { 'com.example.Proxied': { componentVersion: '1.0.0' } },
      }),
    );
    const d = await eventually(
      'a terminal status',
      async () => {
        const r = await h.client
          .send(new ListEffectiveDeploymentsCommand({ coreDeviceThingName: THING }))
          .catch(() => undefined);
        const e = r?.effectiveDeployments?.find((x) => x.deploymentId === created.deploymentId);
        return e && !['IN_PROGRESS', 'QUEUED'].includes(e.coreDeviceExecutionStatus ?? '') ? e : undefined;
      },
      90000,
    );
    expect(d.coreDeviceExecutionStatus, JSON.stringify(d)).to.equal('SUCCEEDED');
    const logFile = join(root, 'logs', 'com.example.Proxied.log');
    const log = await eventually('the component output', () => {
      const text = existsSync(logFile) ? readFileSync(logFile, 'utf8') : '';
      return text.includes('from s3') ? text : undefined;
    });
    expect(log).to.include('from the data plane');
    expect(log).to.include(`PROXY=http://${AUTH.username}:${AUTH.password}@127.0.0.1:${proxy.port} `);
    expect(log).to.include('NO_PROXY=localhost,127.0.0.1,internal.example');
    const dev = h.cloud.device;
    expect(proxy.tunnels.get(`${dev.deviceHost}:${dev.mqttPort}`), 'MQTT').to.be.greaterThan(0);
    expect(
      proxy.tunnels.get(`${dev.deviceHost}:${dev.dataPlanePort}`),
      'data plane, credentials, S3',
    ).to.be.greaterThan(1);
    expect(proxy.forwarded.get(new URL(h.cloud.endpoint).host), 'the presigned download').to.equal(1);
    expect(proxy.refused).to.equal(0);
  });
});
