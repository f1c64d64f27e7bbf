// Optional SigV4 checking of control-plane requests: the unmodified SDK client with the right key works,
// a wrong secret, an unknown key, a wrong region or an old signing date are refused with the error AWS
// answers with, and a refused request changes nothing. Off by default: any credentials work.
import {
  CreateComponentVersionCommand,
  GetComponentCommand,
  GetComponentVersionArtifactCommand,
  GreengrassV2Client,
  ListComponentsCommand,
  ListTagsForResourceCommand,
  TagResourceCommand,
  UntagResourceCommand,
} from '@aws-sdk/client-greengrassv2';
import { SignatureV4 } from '@smithy/signature-v4';
import { expect } from 'chai';
import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseLocalCloudFlags } from '../../../src/cli/localcloud-command.js';
import { UsageError } from '../../../src/cli/command.js';
import { createLocalCloud, type LocalCloud } from '../../../src/localcloud/index.js';
import { expectServiceError, recipeBytes, simpleRecipe } from './helpers.js';

const KEY = { accessKeyId: 'AKIDTENDRILTEST1', secretAccessKey: 'c2VjcmV0LW9uZQ/+secret1' };
const KEY2 = { accessKeyId: 'AKIDTENDRILTEST2', secretAccessKey: 'secret-two' };

class TestSha256 {
  private readonly h: Hash | Hmac;
  constructor(secret?: string | ArrayBuffer | ArrayBufferView) {
    this.h = secret === undefined ? createHash('sha256') : createHmac('sha256', toBytes(secret));
  }
  update(data: string | ArrayBuffer | ArrayBufferView): void {
    this.h.update(toBytes(data));
  }
  digest(): Promise<Uint8Array> {
    return Promise.resolve(new Uint8Array(this.h.digest()));
  }
  reset(): void {}
}

function toBytes(d: string | ArrayBuffer | ArrayBufferView): Uint8Array {
  if (typeof d === 'string') return Buffer.from(d);
  if (ArrayBuffer.isView(d)) return new Uint8Array(d.buffer, d.byteOffset, d.byteLength);
  return new Uint8Array(d);
}

interface Setup {
  cloud: LocalCloud;
  dataDir: string;
  clients: GreengrassV2Client[];
  client(opts?: {
    credentials?: { accessKeyId: string; secretAccessKey: string };
    region?: string;
    systemClockOffset?: number;
  }): GreengrassV2Client;
  close(): Promise<void>;
}

async function setup(credentials?: { accessKeyId: string; secretAccessKey: string }[]): Promise<Setup> {
  const dataDir = mkdtempSync(join(tmpdir(), 'tendril-sigv4-'));
  const cloud = await createLocalCloud({ dataDir, log: () => {}, credentials });
  const s: Setup = {
    cloud,
    dataDir,
    clients: [],
    client: (opts = {}) => {
      const c = new GreengrassV2Client({
        endpoint: cloud.endpoint,
        region: opts.region ?? 'us-east-1',
        credentials: opts.credentials ?? KEY,
        systemClockOffset: opts.systemClockOffset,
        maxAttempts: 1,
      });
      s.clients.push(c);
      return c;
    },
    close: async () => {
      for (const c of s.clients) c.destroy();
      await cloud.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
  return s;
}

/** Signs a request by hand (for routes the SDK does not call, and to tamper after signing). */
async function signed(
  endpoint: string,
  req: {
    method: string;
    path: string;
    query?: Record<string, string>;
    body?: string;
    headers?: Record<string, string>;
  },
  key = KEY,
) {
  const url = new URL(endpoint);
  const signer = new SignatureV4({
    service: 'greengrass',
    region: 'us-east-1',
    credentials: key,
    sha256: TestSha256,
  });
  const out = await signer.sign({
    method: req.method,
    protocol: 'http:',
    hostname: url.hostname,
    port: Number(url.port),
    path: req.path,
    query: req.query ?? {},
    headers: { host: url.host, ...(req.headers ?? {}) },
    body: req.body,
  });
  const qs = new URLSearchParams(req.query ?? {}).toString();
  return {
    url: `${endpoint}${req.path}${qs === '' ? '' : `?${qs}`}`,
    headers: Object.fromEntries(Object.entries(out.headers).filter(([k]) => k !== 'host')),
  };
}

describe('localcloud SigV4 credentials checking (optional)', function () {
  describe('with credentials configured', () => {
    let s: Setup;
    beforeEach(async () => {
      s = await setup([KEY, KEY2]);
    });
    afterEach(async () => {
      await s.close();
    });

    it('accepts the SDK signed with a configured key: body, query, encoded ARN path, repeated query', async () => {
      const c = s.client();
      const created = await c.send(
        new CreateComponentVersionCommand({
          inlineRecipe: recipeBytes(simpleRecipe('com.example.Signed', '1.0.0')),
          tags: { team: 'edge', stage: 'dev' },
        }),
      );
      expect(created.componentVersion).to.equal('1.0.0');
      const listed = await c.send(new ListComponentsCommand({ scope: 'PRIVATE', maxResults: 5 }));
      expect(listed.components?.map((x) => x.componentName)).to.deep.equal(['com.example.Signed']);
      const got = await c.send(new GetComponentCommand({ arn: created.arn, recipeOutputFormat: 'YAML' }));
      expect(got.recipeOutputFormat).to.equal('YAML');
      await c.send(new TagResourceCommand({ resourceArn: created.arn, tags: { 'a b': 'x/y=z' } }));
      await c.send(new UntagResourceCommand({ resourceArn: created.arn, tagKeys: ['team', 'a b'] }));
      const tags = await c.send(new ListTagsForResourceCommand({ resourceArn: created.arn }));
      expect(tags.tags).to.deep.equal({ stage: 'dev' });
      // the second key works too
      const other = await s.client({ credentials: KEY2 }).send(new ListComponentsCommand({}));
      expect(other.components).to.have.length(1);
    });

    it('refuses a wrong secret with InvalidSignatureException and changes nothing', async () => {
      const bad = s.client({ credentials: { ...KEY, secretAccessKey: 'not-the-secret' } });
      const e = await expectServiceError(
        bad.send(
          new CreateComponentVersionCommand({
            inlineRecipe: recipeBytes(simpleRecipe('com.example.Refused', '1.0.0')),
          }),
        ),
        'InvalidSignatureException',
      );
      expect((e.$metadata as { httpStatusCode: number }).httpStatusCode).to.equal(403);
      expect(String(e.message)).to.match(/signature we calculated does not match/);
      const listed = await s.client().send(new ListComponentsCommand({}));
      expect(listed.components).to.deep.equal([]);
    });

    it('refuses an unknown access key with UnrecognizedClientException', async () => {
      const e = await expectServiceError(
        s
          .client({ credentials: { accessKeyId: 'AKIDUNKNOWN', secretAccessKey: KEY.secretAccessKey } })
          .send(new ListComponentsCommand({})),
        'UnrecognizedClientException',
      );
      expect((e.$metadata as { httpStatusCode: number }).httpStatusCode).to.equal(403);
      expect(String(e.message)).to.include('AKIDUNKNOWN');
    });

    it('refuses a signature scoped to another region', async () => {
      const e = await expectServiceError(
        s.client({ region: 'eu-west-1' }).send(new ListComponentsCommand({})),
        'InvalidSignatureException',
      );
      expect(String(e.message)).to.match(/region.*us-east-1.*eu-west-1/);
    });

    it('refuses an x-amz-date more than 15 minutes old, and one too far ahead', async () => {
      const old = await expectServiceError(
        s.client({ systemClockOffset: -20 * 60 * 1000 }).send(new ListComponentsCommand({})),
        'InvalidSignatureException',
      );
      expect((old.$metadata as { httpStatusCode: number }).httpStatusCode).to.equal(403);
      expect(String(old.message)).to.match(/^Signature expired: \d{8}T\d{6}Z is now earlier than/);
      const ahead = await expectServiceError(
        s.client({ systemClockOffset: 20 * 60 * 1000 }).send(new ListComponentsCommand({})),
        'InvalidSignatureException',
      );
      expect(String(ahead.message)).to.match(/^Signature not yet current/);
      // within the window is fine
      await s.client({ systemClockOffset: -10 * 60 * 1000 }).send(new ListComponentsCommand({}));
    });

    it('refuses an unsigned request and a body changed after signing', async () => {
      const none = await fetch(`${s.cloud.endpoint}/greengrass/v2/components`);
      expect(none.status).to.equal(403);
      expect(none.headers.get('x-amzn-errortype')).to.equal('MissingAuthenticationTokenException');

      const list = await signed(s.cloud.endpoint, {
        method: 'GET',
        path: '/greengrass/v2/components',
        query: { scope: 'PRIVATE' },
      });
      expect((await fetch(list.url, { headers: list.headers })).status).to.equal(200);
      const otherQuery = await fetch(list.url.replace('PRIVATE', 'PUBLIC'), { headers: list.headers });
      expect(otherQuery.status).to.equal(403);
      expect(otherQuery.headers.get('x-amzn-errortype')).to.equal('InvalidSignatureException');

      const body = JSON.stringify({ tags: { a: '1' } });
      const created = await s.client().send(
        new CreateComponentVersionCommand({
          inlineRecipe: recipeBytes(simpleRecipe('com.example.T', '1.0.0')),
        }),
      );
      const path = `/tags/${encodeURIComponent(created.arn!)}`;
      const ok = await signed(s.cloud.endpoint, {
        method: 'POST',
        path,
        body,
        headers: { 'content-type': 'application/json' },
      });
      const tampered = await fetch(ok.url, {
        method: 'POST',
        headers: ok.headers,
        body: body.replace('"1"', '"2"'),
      });
      expect(tampered.status).to.equal(403);
      expect(tampered.headers.get('x-amzn-errortype')).to.equal('InvalidSignatureException');
      expect(
        (await s.client().send(new ListTagsForResourceCommand({ resourceArn: created.arn }))).tags,
      ).to.deep.equal({});
      const good = await fetch(ok.url, { method: 'POST', headers: ok.headers, body });
      expect(good.status).to.equal(200);
      expect(
        (await s.client().send(new ListTagsForResourceCommand({ resourceArn: created.arn }))).tags,
      ).to.deep.equal({ a: '1' });
    });

    it('needs a signed UNSIGNED-PAYLOAD upload; presigned downloads need no signature', async () => {
      const path = '/tendril/artifacts';
      const query = { uri: 's3://bucket/signed/hello.txt' };
      const unsigned = await fetch(`${s.cloud.endpoint}${path}?uri=${encodeURIComponent(query.uri)}`, {
        method: 'PUT',
        body: 'nope',
      });
      expect(unsigned.status).to.equal(403);
      expect(unsigned.headers.get('x-amzn-errortype')).to.equal('MissingAuthenticationTokenException');
      expect(existsSync(join(s.dataDir, 'artifacts', 's3', 'bucket', 'signed', 'hello.txt'))).to.equal(false);

      const hashed = await signed(s.cloud.endpoint, { method: 'PUT', path, query, body: 'hello' });
      const refused = await fetch(hashed.url, { method: 'PUT', headers: hashed.headers, body: 'hello' });
      expect(refused.status).to.equal(403);
      expect(await refused.text()).to.include('UNSIGNED-PAYLOAD');

      const up = await signed(s.cloud.endpoint, {
        method: 'PUT',
        path,
        query,
        headers: { 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' },
      });
      const stored = await fetch(up.url, { method: 'PUT', headers: up.headers, body: 'hello' });
      expect(stored.status).to.equal(200);

      const c = s.client();
      const out = await c.send(
        new CreateComponentVersionCommand({
          inlineRecipe: recipeBytes(
            simpleRecipe('com.example.Art', '1.0.0', {
              Manifests: [{ Platform: { os: 'linux' }, Artifacts: [{ Uri: query.uri }] }],
            }),
          ),
        }),
      );
      const a = await c.send(
        new GetComponentVersionArtifactCommand({ arn: out.arn, artifactName: 'signed/hello.txt' }),
      );
      const dl = await fetch(a.preSignedUrl!);
      expect(dl.status).to.equal(200);
      expect(await dl.text()).to.equal('hello');
    });

    it('refuses a bad key list at start', async () => {
      const dataDir = mkdtempSync(join(tmpdir(), 'tendril-sigv4-'));
      try {
        let err: unknown;
        try {
          await createLocalCloud({
            dataDir,
            log: () => {},
            credentials: [KEY, { ...KEY, secretAccessKey: 'z' }],
          });
        } catch (e) {
          err = e;
        }
        expect(err).to.be.instanceOf(TypeError);
        expect(String(err)).to.include(`access key ${KEY.accessKeyId} is given more than once`);
      } finally {
        rmSync(dataDir, { recursive: true, force: true });
      }
    });
  });

  describe('off by default', () => {
    it('accepts any credentials and unsigned requests', async () => {
      const s = await setup();
      try {
        await s
          .client({
            credentials: { accessKeyId: 'whatever', secretAccessKey: 'anything' },
            region: 'ap-south-1',
          })
          .send(
            new CreateComponentVersionCommand({
              inlineRecipe: recipeBytes(simpleRecipe('com.example.Open', '1.0.0')),
            }),
          );
        const listed = await s.client().send(new ListComponentsCommand({ scope: 'PRIVATE' }));
        expect(listed.components).to.have.length(1);
        const plain = await fetch(`${s.cloud.endpoint}/greengrass/v2/components`);
        expect(plain.status).to.equal(200);
      } finally {
        await s.close();
      }
    });
  });

  describe('tendril localcloud --check-credentials', () => {
    const parse = (v: string[] | undefined) =>
      parseLocalCloudFlags({ data: '/tmp/x', ...(v === undefined ? {} : { 'check-credentials': v }) });

    it('takes repeated and comma-separated ACCESS_KEY_ID:SECRET values; absent = off', () => {
      expect(parse(undefined).credentials).to.equal(undefined);
      expect(parse(['A1:s/e+c=:x,A2:two', 'A3:three']).credentials).to.deep.equal([
        { accessKeyId: 'A1', secretAccessKey: 's/e+c=:x' },
        { accessKeyId: 'A2', secretAccessKey: 'two' },
        { accessKeyId: 'A3', secretAccessKey: 'three' },
      ]);
    });

    it('names the flag on a malformed value without echoing the secret', () => {
      for (const bad of [['nocolon'], ['A1:'], [':secret'], ['A1:s1,'], ['A/1:s'], ['A1:s1', 'A1:s2']]) {
        let err: unknown;
        try {
          parse(bad);
        } catch (e) {
          err = e;
        }
        expect(err, bad.join(' ')).to.be.instanceOf(UsageError);
        expect((err as Error).message).to.match(/^--check-credentials/);
        expect((err as Error).message).not.to.include('s1');
      }
    });
  });
});
