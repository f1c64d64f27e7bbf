// networkProxy [CF-40] against a real CONNECT proxy on loopback and the local cloud: the data plane
// (mTLS over the tunnel), presigned downloads (absolute-form through the proxy), the credentials
// provider [CL-54], S3 GETs [CL-63] and the MQTT connection (aws-crt tunneling) each go through it;
// Basic proxy authentication; hosts in noProxyAddresses are reached directly. Also the local S3
// endpoint's refusals of unsigned and foreign-signed requests.
import { CreateComponentVersionCommand } from '@aws-sdk/client-greengrassv2';
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import {
  DataPlaneClient,
  IotConnection,
  NetworkProxy,
  NetworkProxyError,
  S3ArtifactFetcher,
  TesCredentials,
  downloadArtifact,
  type DataPlaneOptions,
} from '../../../src/iot/index.js';
import type { ProvisionResult } from '../../../src/localcloud/index.js';
import { startConnectProxy, type TestProxy } from '../../support/connect-proxy.js';
import { connectionOptions, eventually, startCloudHarness, type CloudHarness } from './helpers.js';

const THING = 'proxy-core';
const AUTH = { username: 'gg-user', password: 'p@ss:word' };

describe('iot: networkProxy through a real CONNECT proxy', function () {
  this.timeout(60000);
  let h: CloudHarness;
  let p: ProvisionResult;
  let proxy: TestProxy;
  let dpHost: string;
  const payload = Buffer.from(`artifact through the proxy ${Date.now()}\n`);
  const s3Object = Buffer.from(`s3 object through the proxy ${Date.now()}\n`);

  const dataPlane = (over: Partial<DataPlaneOptions> = {}) =>
    new DataPlaneClient({
      host: h.cloud.device.deviceHost,
      port: h.cloud.device.dataPlanePort,
      certificatePath: p.certificatePath,
      privateKeyPath: p.privateKeyPath,
      rootCaPath: p.rootCaPath,
      thingName: THING,
      maxAttempts: 1,
      ...over,
    });
  const credentials = (np?: NetworkProxy) =>
    new TesCredentials({
      settings: () => ({
        endpoint: h.cloud.device.credentialsEndpoint,
        roleAlias: h.cloud.device.roleAlias,
        thingName: THING,
        certificatePath: p.certificatePath,
        privateKeyPath: p.privateKeyPath,
        rootCaPath: p.rootCaPath,
      }),
      proxy: np,
    });

  before(async () => {
    h = await startCloudHarness();
    p = await h.cloud.provision({ thingName: THING, outDir: join(h.dir, 'device') });
    dpHost = `${h.cloud.device.deviceHost}:${h.cloud.device.dataPlanePort}`;
    const q = new URLSearchParams({
      uri: 'greengrass:payload.txt',
      componentName: 'com.example.Proxied',
      componentVersion: '1.0.0',
    });
    expect(
      (await fetch(`${h.cloud.endpoint}/tendril/artifacts?${q}`, { method: 'PUT', body: payload })).status,
    ).to.equal(200);
    const s3q = new URLSearchParams({ uri: 's3://proxied-bucket/dir/object.bin' });
    expect(
      (await fetch(`${h.cloud.endpoint}/tendril/artifacts?${s3q}`, { method: 'PUT', body: s3Object })).status,
    ).to.equal(200);
    await h.client.send(
      new CreateComponentVersionCommand({
        inlineRecipe: Buffer.from(
          JSON.stringify({
            RecipeFormatVersion: '2020-01-25',
            ComponentName: 'com.example.Proxied',
            ComponentVersion: '1.0.0',
            Manifests: [
              { Platform: { os: 'linux' }, Artifacts: [{ URI: 'greengrass:payload.txt' }], Lifecycle: {} },
            ],
          }),
        ),
      }),
    );
    await h.cloud.settleComponents();
    proxy = await startConnectProxy(AUTH);
  });
  after(async () => {
    await proxy?.close();
    await h?.close();
  });

  it('[CF-40] [CL-24] [CL-27] [CL-37] resolves through a CONNECT tunnel and downloads the presigned URL through the proxy, with Basic authentication', async () => {
    const np = new NetworkProxy({ url: proxy.url, ...AUTH });
    const client = dataPlane({ proxy: np });
    try {
      const r = await client.resolveComponent('com.example.Proxied', { test: '=1.0.0' }, { os: 'linux' });
      const file = join(h.dir, 'dl', 'payload.txt');
      const outcome = await downloadArtifact({
        url: () => client.artifactUrl(r.arn, 'payload.txt'),
        proxy: np,
        file,
      });
      expect(outcome).to.equal('downloaded');
      expect(readFileSync(file)).to.deep.equal(payload);
    } finally {
      client.close();
    }
    expect(proxy.tunnels.get(dpHost), 'CONNECT tunnels to the data plane').to.be.greaterThan(0);
    expect(proxy.forwarded.get(new URL(h.cloud.endpoint).host), 'the presigned GET').to.equal(1);
    expect(proxy.refused).to.equal(0);
  });

  it('[CF-40] a wrong proxy password is refused (407) and the call fails', async () => {
    const before = proxy.refused;
    const client = dataPlane({
      proxy: new NetworkProxy({ url: proxy.url, username: AUTH.username, password: 'wrong' }),
    });
    try {
      await client.thingGroups().then(
        () => expect.fail('the call went through'),
        (e: Error) => expect(e.message).to.match(/refused CONNECT .*HTTP 407/),
      );
    } finally {
      client.close();
    }
    expect(proxy.refused).to.be.greaterThan(before);
  });

  it('[CF-40] user info in the proxy URL authenticates too; noProxyAddresses bypasses the proxy', async () => {
    const inUrl = new NetworkProxy({
      url: `http://${AUTH.username}:${encodeURIComponent(AUTH.password)}@127.0.0.1:${proxy.port}`,
    });
    const c1 = dataPlane({ proxy: inUrl });
    const tunnels = proxy.tunnels.get(dpHost) ?? 0;
    try {
      expect(await c1.thingGroups()).to.deep.equal([]);
    } finally {
      c1.close();
    }
    expect(proxy.tunnels.get(dpHost)).to.equal(tunnels + 1);
    const bypass = new NetworkProxy({ url: proxy.url, noProxyAddresses: 'example.com, 127.0.0.1' });
    expect(bypass.bypass('127.0.0.1')).to.equal(true);
    expect(bypass.bypass('a.example.com')).to.equal(true);
    expect(bypass.bypass('example.org')).to.equal(false);
    const c2 = dataPlane({ proxy: bypass });
    try {
      expect(await c2.thingGroups()).to.deep.equal([]);
    } finally {
      c2.close();
    }
    expect(proxy.tunnels.get(dpHost), 'no tunnel for an exempt host').to.equal(tunnels + 1);
  });

  it('[CF-40] a proxy URL that is not http:// is refused naming the field', () => {
    expect(() => new NetworkProxy({ url: 'https://proxy:3128' })).to.throw(
      NetworkProxyError,
      /networkProxy\.proxy\.url: only http:\/\/ proxies are supported/,
    );
    expect(() => new NetworkProxy({ url: 'not a url' })).to.throw(
      NetworkProxyError,
      /networkProxy\.proxy\.url/,
    );
  });

  it('[CF-40] [CL-54] [CL-62] [CL-63] credentials and a SigV4-signed S3 GET go through the tunnel', async () => {
    const np = new NetworkProxy({ url: proxy.url, ...AUTH });
    const tes = credentials(np);
    const s3 = new S3ArtifactFetcher({
      credentials: () => tes.resolveCredentials(),
      region: h.cloud.device.region,
      endpoint: `${h.cloud.device.dataPlane}/s3`,
      certificatePath: p.certificatePath,
      privateKeyPath: p.privateKeyPath,
      rootCaPath: p.rootCaPath,
      proxy: np,
    });
    const credHost = h.cloud.device.credentialsEndpoint;
    const before = proxy.tunnels.get(credHost) ?? 0;
    try {
      const c = await tes.resolveCredentials();
      expect(c.accessKeyId).to.match(/^ASIA/);
      expect(proxy.tunnels.get(credHost)).to.equal(before + 1);
      const file = join(h.dir, 'dl', 'object.bin');
      expect(
        await downloadArtifact({ open: (hd) => s3.open('s3://proxied-bucket/dir/object.bin', hd), file }),
      ).to.equal('downloaded');
      expect(readFileSync(file)).to.deep.equal(s3Object);
      expect(tes.upstreamCalls, 'the credentials were cached [CL-61]').to.equal(1);
      await s3.open('s3://proxied-bucket/dir/missing.bin').then(
        () => expect.fail('a missing key was served'),
        (e: { code?: string; message: string }) => {
          expect(e.code).to.equal('S3_GET_OBJECT_RESOURCE_NOT_FOUND');
          expect(e.message).to.match(/HTTP 404 NoSuchKey/);
        },
      );
    } finally {
      s3.close();
      tes.close();
    }
  });

  it('[CL-63] the local S3 endpoint refuses an unsigned GET and credentials it did not issue', async () => {
    const get = (headers: Record<string, string>) =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = request(
          {
            host: h.cloud.device.deviceHost,
            port: h.cloud.device.dataPlanePort,
            path: '/s3/proxied-bucket/dir/object.bin',
            key: readFileSync(p.privateKeyPath),
            cert: readFileSync(p.certificatePath),
            ca: readFileSync(p.rootCaPath),
            headers,
          },
          (res) => {
            let body = '';
            res.on('data', (c) => (body += String(c)));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
          },
        );
        req.on('error', reject);
        req.end();
      });
    const unsigned = await get({});
    expect(unsigned.status).to.equal(403);
    expect(unsigned.body).to.include('<Code>AccessDenied</Code>');
    const now = new Date()
      .toISOString()
      .replace(/[-:]/g, '')
      .replace(/\.\d{3}/, '');
    const forged = await get({
      'x-amz-date': now,
      'x-amz-security-token': Buffer.alloc(88).toString('base64'),
      authorization: `AWS4-HMAC-SHA256 Credential=ASIAFORGEDFORGED2345/${now.slice(0, 8)}/${h.cloud.device.region}/s3/aws4_request, SignedHeaders=host;x-amz-date, Signature=${'0'.repeat(64)}`,
    });
    expect(forged.status).to.equal(403);
    expect(forged.body).to.include('<Code>InvalidAccessKeyId</Code>');
  });

  it('[CF-40] [CL-66] the MQTT connection tunnels through the proxy (aws-crt)', async () => {
    const mqttHost = `${h.cloud.device.deviceHost}:${h.cloud.device.mqttPort}`;
    const conn = new IotConnection(
      connectionOptions(p, {
        httpProxy: { host: '127.0.0.1', port: proxy.port, username: AUTH.username, password: AUTH.password },
      }),
    );
    try {
      conn.start();
      await eventually('the MQTT connection', () => conn.connected, 20000);
      expect(proxy.tunnels.get(mqttHost)).to.equal(1);
    } finally {
      await conn.stop();
    }
  });
});
