// The token exchange service and s3:// artifacts, end to end: the local cloud (control plane, mTLS
// data plane with its credentials provider and S3 endpoint, MQTT), the real nucleus provisioned
// against it, and components run as `nobody`: one that gets AWS credentials with the AWS SDK's own
// container credentials provider, one whose artifact comes from s3:// with a SigV4-signed GET.
import { CreateComponentVersionCommand, CreateDeploymentCommand } from '@aws-sdk/client-greengrassv2';
import { ListEffectiveDeploymentsCommand } from '@aws-sdk/client-greengrassv2';
import { expect } from 'chai';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import yaml from 'js-yaml';
import { stageNodeModules } from '../../src/cli/stage-node-modules.js';
import type { CloudContext } from '../../src/localcloud/context.js';
import { checkIssued } from '../../src/localcloud/device/s3.js';
import { Nucleus } from '../../src/nucleus/index.js';
import { repoRoot } from '../support/daemon.js';
import { eventually, startCloudHarness, type CloudHarness } from '../integration/iot/helpers.js';

const THING = 'tes-core';
const GROUP = 'tes-fleet';
const GROUP_ARN = `arn:aws:iot:us-east-1:123456789012:thinggroup/${GROUP}`;
const TES = 'aws.greengrass.TokenExchangeService';
const TES_PATH = '/2016-11-01/credentialprovider/';

const CREDS_SCRIPT = `// prints the credentials the AWS SDK's container provider gets from the token exchange service
const { fromHttp } = require('@aws-sdk/credential-provider-http');
console.log('TES_URI=' + process.env.AWS_CONTAINER_CREDENTIALS_FULL_URI);
fromHttp({ timeout: 10000, maxRetries: 2 })().then(
  (c) => console.log('TES_KEY=' + c.accessKeyId + ' EXPIRES=' + c.expiration.toISOString()),
  (e) => { console.log('TES_ERROR ' + e.message); process.exit(1); },
);
`;

const recipe = (name: string, body: Record<string, unknown>) =>
  JSON.stringify({
    RecipeFormatVersion: '2020-01-25',
    ComponentName: name,
    ComponentVersion: '1.0.0',
    ...body,
  });

describe('e2e: token exchange service and s3:// artifacts against the local cloud', function () {
  this.timeout(120000);
  let h: CloudHarness;
  let nucleus: Nucleus | undefined;
  let root: string;
  let nodePath: string;

  const log = (c: string) => {
    const f = join(root, 'logs', `${c}.log`);
    return existsSync(f) ? readFileSync(f, 'utf8') : '';
  };
  const upload = async (uri: string, body: string | Buffer, component?: string) => {
    const q = new URLSearchParams({
      uri,
      ...(component ? { componentName: component, componentVersion: '1.0.0' } : {}),
    });
    const res = await fetch(`${h.cloud.endpoint}/tendril/artifacts?${q}`, { method: 'PUT', body });
    expect(res.status, await res.text()).to.equal(200);
  };
  const deploy = async (
    name: string,
    components: Record<string, string>,
    merge: Record<string, Record<string, unknown>> = {},
  ) => {
    const created = await h.client.send(
      new CreateDeploymentCommand({
        targetArn: GROUP_ARN,
        deploymentName: name,
        components: Object.fromEntries(
          Object.entries(components).map(([c, v]) => [
            c,
            {
              componentVersion: v,
              ...(merge[c] ? { configurationUpdate: { merge: JSON.stringify(merge[c]) } } : {}),
            },
          ]),
        ),
      }),
    );
    return eventually(
      `a terminal status of ${name}`,
      async () => {
        const r = await h.client
          .send(new ListEffectiveDeploymentsCommand({ coreDeviceThingName: THING }))
          .catch(() => undefined); // until the nucleus's first status makes the core device known
        const d = r?.effectiveDeployments?.find((x) => x.deploymentId === created.deploymentId);
        return d && !['IN_PROGRESS', 'QUEUED'].includes(d.coreDeviceExecutionStatus ?? '') ? d : undefined;
      },
      90000,
    );
  };
  const tesPort = () => Number(nucleus!.store.config.get(['services', TES, 'configuration', 'activePort']));
  const tes = (init: RequestInit & { path?: string } = {}) =>
    fetch(`http://127.0.0.1:${tesPort()}${init.path ?? TES_PATH}`, init);

  before(async function () {
    if (process.getuid?.() !== 0) {
      console.log('      skipped: needs root to run components as nobody');
      this.skip();
    }
    h = await startCloudHarness();
    nodePath = stageNodeModules(
      join(repoRoot, 'node_modules'),
      ['@aws-sdk/credential-provider-http'],
      join(h.dir, 'node_modules'),
    );
    await upload('greengrass:creds.cjs', CREDS_SCRIPT, 'com.example.TesUser');
    await h.client.send(
      new CreateComponentVersionCommand({
        inlineRecipe: Buffer.from(
          recipe('com.example.TesUser', {
            ComponentConfiguration: { DefaultConfiguration: { NodePath: nodePath } },
            ComponentDependencies: { [TES]: { VersionRequirement: '^2.0.0', DependencyType: 'HARD' } },
            Manifests: [
              {
                Platform: { os: 'linux' },
                Lifecycle: {
                  Setenv: { NODE_PATH: '{configuration:/NodePath}' },
                  Run: 'node {artifacts:path}/creds.cjs',
                },
                Artifacts: [{ URI: 'greengrass:creds.cjs', Permission: { Read: 'ALL' } }],
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
    // [CL-64] provisioning points s3:// downloads at the local cloud's S3 endpoint
    expect(conf.s3EndpointOverride).to.equal(`${h.cloud.device.dataPlane}/s3`);
    writeFileSync(join(h.dir, 'device', 'init.yaml'), yaml.dump(init));
    root = join(h.dir, 'root');
    nucleus = await Nucleus.start({ root, initConfigFile: join(h.dir, 'device', 'init.yaml') });
  });
  after(async () => {
    await nucleus?.stop();
    nucleus = undefined;
    await h?.close();
  });

  it('[CL-54] [CL-55] [CL-57] [CL-58] [CL-60] a component depending on aws.greengrass.TokenExchangeService gets, through the AWS SDK, the credentials the local cloud issued', async () => {
    const d = await deploy('tes-user', { 'com.example.TesUser': '1.0.0' });
    expect(d.coreDeviceExecutionStatus, JSON.stringify(d)).to.equal('SUCCEEDED');
    const line = await eventually(
      'the credentials line',
      () => /TES_(KEY|ERROR).*/.exec(log('com.example.TesUser'))?.[0],
    );
    expect(line).to.match(/^TES_KEY=ASIA[A-Z2-7]{16} /);
    const key = /TES_KEY=(\S+)/.exec(line)![1];
    // [CL-58] the URI every component gets: localhost, the bound port, the exact path
    expect(log('com.example.TesUser')).to.include(`TES_URI=http://localhost:${tesPort()}${TES_PATH}`);
    // the same credentials from the server, with the component's own token
    const token = nucleus!.ipc.tokens.issue('com.example.TesUser');
    const res = await tes({ headers: { authorization: token } });
    expect(res.status).to.equal(200);
    const body = (await res.json()) as Record<string, string>;
    expect(Object.keys(body).sort()).to.deep.equal(['AccessKeyId', 'Expiration', 'SecretAccessKey', 'Token']);
    expect(body.AccessKeyId, 'cached [CL-61]').to.equal(key);
    // issued by this local cloud: key id, secret and session token check out against it
    const ctx = { artifacts: h.cloud.artifacts, now: Date.now } as unknown as CloudContext;
    const issued = checkIssued(ctx, body.AccessKeyId, body.Token);
    expect(issued).to.deep.equal({ ok: true, secretAccessKey: body.SecretAccessKey });
  });

  it('[CL-59] requests are checked in order: method (405), path (400), token (403)', async () => {
    const token = nucleus!.ipc.tokens.issue('com.example.TesUser');
    expect((await tes({})).status, 'no Authorization').to.equal(403);
    expect((await tes({ headers: { authorization: 'AAAAAAAAAAAAAAAA' } })).status, 'unknown token').to.equal(
      403,
    );
    expect((await tes({ headers: { authorization: token }, path: TES_PATH.slice(0, -1) })).status).to.equal(
      400,
    );
    expect((await tes({ headers: { authorization: token }, path: '/latest/meta-data/' })).status).to.equal(
      400,
    );
    expect((await tes({ method: 'POST', headers: { authorization: token } })).status).to.equal(405);
    // the order: a POST to a wrong path without a token is a 405, a GET of a wrong path without one a 400
    expect((await tes({ method: 'POST', path: '/x' })).status).to.equal(405);
    expect((await tes({ path: '/x' })).status).to.equal(400);
    const denied = await tes({ headers: { authorization: 'AAAAAAAAAAAAAAAA' } });
    expect(((await denied.json()) as { message: string }).message).to.match(/not a known component token/);
  });

  it('[CL-62] [CL-63] [CL-64] an s3:// artifact is downloaded with SigV4 and the TES credentials, checked and run', async () => {
    const payload = `payload from s3 ${Date.now()}`;
    await upload('s3://tendril-e2e/data/payload.txt', payload);
    await h.client.send(
      new CreateComponentVersionCommand({
        inlineRecipe: Buffer.from(
          recipe('com.example.S3Reader', {
            Manifests: [
              {
                Platform: { os: 'linux' },
                Lifecycle: { Run: 'cat {artifacts:path}/payload.txt' },
                Artifacts: [{ URI: 's3://tendril-e2e/data/payload.txt', Permission: { Read: 'ALL' } }],
              },
            ],
          }),
        ),
      }),
    );
    const d = await deploy('s3-reader', { 'com.example.TesUser': '1.0.0', 'com.example.S3Reader': '1.0.0' });
    expect(d.coreDeviceExecutionStatus, JSON.stringify(d)).to.equal('SUCCEEDED');
    await eventually('the payload in the component log', () => log('com.example.S3Reader').includes(payload));
    const stored = join(root, 'packages', 'artifacts', 'com.example.S3Reader', '1.0.0', 'payload.txt');
    expect(readFileSync(stored, 'utf8')).to.equal(payload);
  });

  it('[CL-38] [CL-63] an s3:// object that changed after the component version was created fails the digest check', async () => {
    await upload('s3://tendril-e2e/data/changing.txt', 'the original');
    await h.client.send(
      new CreateComponentVersionCommand({
        inlineRecipe: Buffer.from(
          recipe('com.example.S3Changed', {
            Manifests: [
              {
                Platform: { os: 'linux' },
                Lifecycle: { Run: 'cat {artifacts:path}/changing.txt' },
                Artifacts: [{ URI: 's3://tendril-e2e/data/changing.txt' }],
              },
            ],
          }),
        ),
      }),
    );
    await h.cloud.settleComponents(); // the cloud records the digest of the original
    await upload('s3://tendril-e2e/data/changing.txt', 'replaced behind the recipe');
    const d = await deploy('s3-changed', { 'com.example.S3Changed': '1.0.0' });
    expect(d.coreDeviceExecutionStatus, JSON.stringify(d)).to.equal('FAILED');
    expect(d.reason).to.match(/changing\.txt: the sha256 digest does not match the recipe/i);
    expect(nucleus!.manager.get('com.example.S3Changed')).to.equal(undefined);
    expect(
      nucleus!.manager.get('com.example.S3Reader')?.status().state,
      'the device state is unchanged',
    ).to.be.oneOf(['RUNNING', 'FINISHED']);
  });

  it('[CL-65] a docker: artifact fails the deployment with MISSING_DOCKER_APPLICATION_MANAGER', async () => {
    await h.client.send(
      new CreateComponentVersionCommand({
        inlineRecipe: Buffer.from(
          recipe('com.example.Container', {
            Manifests: [
              {
                Platform: { os: 'linux' },
                Lifecycle: { Run: 'docker run hello-world' },
                Artifacts: [{ URI: 'docker:hello-world:latest' }],
              },
            ],
          }),
        ),
      }),
    );
    const d = await deploy('container', { 'com.example.Container': '1.0.0' });
    expect(d.coreDeviceExecutionStatus, JSON.stringify(d)).to.equal('FAILED');
    expect(d.reason).to.match(
      /MISSING_DOCKER_APPLICATION_MANAGER: com\.example\.Container@1\.0\.0: artifact docker:hello-world:latest/,
    );
  });

  it('[CL-57] [CL-58] a deployment of the cloud recipe of aws.greengrass.TokenExchangeService with a port moves the server there', async () => {
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const port = (probe.address() as AddressInfo).port;
    await new Promise<void>((r) => probe.close(() => r()));
    await h.client.send(
      new CreateComponentVersionCommand({
        inlineRecipe: Buffer.from(
          JSON.stringify({
            RecipeFormatVersion: '2020-01-25',
            ComponentName: TES,
            ComponentVersion: '2.0.3',
            ComponentConfiguration: { DefaultConfiguration: {} },
            Manifests: [{ Platform: { os: 'linux' }, Lifecycle: {} }],
          }),
        ),
      }),
    );
    const d = await deploy(
      'tes-port',
      { [TES]: '2.0.3', 'com.example.TesUser': '1.0.0' },
      { [TES]: { port } },
    );
    expect(d.coreDeviceExecutionStatus, JSON.stringify(d)).to.equal('SUCCEEDED');
    await eventually('the server on the new port', () => tesPort() === port);
    expect(nucleus!.store.config.get(['setenv', 'AWS_CONTAINER_CREDENTIALS_FULL_URI'])).to.equal(
      `http://localhost:${port}${TES_PATH}`,
    );
    expect(nucleus!.manager.get(TES), 'the nucleus runs no process for it').to.equal(undefined);
    const token = nucleus!.ipc.tokens.issue('com.example.TesUser');
    const res = await fetch(`http://127.0.0.1:${port}${TES_PATH}`, { headers: { authorization: token } });
    expect(res.status).to.equal(200);
  });
});
