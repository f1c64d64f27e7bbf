// The token exchange service against the local cloud's credentials provider and real sockets: the
// cache [CL-61] (one in-flight fetch, failures remembered by kind, success until expiry minus 5 min,
// cleared when the identity changes), the upstream status passed through and 504 when the provider
// does not answer [CL-60], the policy check [CL-59], and the configured port [CL-57].
import { expect } from 'chai';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import {
  EXPIRY_MARGIN_MS,
  TES_PATH,
  TesCredentials,
  TesServer,
  type CredentialProviderSettings,
} from '../../../src/iot/index.js';
import type { ProvisionResult } from '../../../src/localcloud/index.js';
import { tesAuthorized, tesPolicyIndex } from '../../../src/nucleus/tes-wiring.js';
import { startCloudHarness, type CloudHarness } from './helpers.js';

const THING = 'tes-unit-core';

describe('iot: token exchange service', function () {
  this.timeout(30000);
  let h: CloudHarness;
  let p: ProvisionResult;
  let settings: CredentialProviderSettings;

  before(async () => {
    h = await startCloudHarness();
    p = await h.cloud.provision({ thingName: THING, outDir: join(h.dir, 'device') });
    settings = {
      endpoint: h.cloud.device.credentialsEndpoint,
      roleAlias: h.cloud.device.roleAlias,
      thingName: THING,
      certificatePath: p.certificatePath,
      privateKeyPath: p.privateKeyPath,
      rootCaPath: p.rootCaPath,
    };
  });
  after(async () => h?.close());

  it('[CL-61] concurrent callers share one fetch; success is cached until 5 min before expiry', async () => {
    let now = Date.now();
    const tes = new TesCredentials({ settings: () => settings, now: () => now });
    try {
      const replies = await Promise.all([1, 2, 3, 4, 5].map(() => tes.reply()));
      expect(tes.upstreamCalls).to.equal(1);
      expect(new Set(replies.map((r) => r.body)).size).to.equal(1);
      const first = replies[0].credentials!;
      expect(replies[0].status).to.equal(200);
      now = first.expiration.getTime() - EXPIRY_MARGIN_MS - 1000;
      expect((await tes.resolveCredentials()).accessKeyId).to.equal(first.accessKeyId);
      expect(tes.upstreamCalls).to.equal(1);
      now = first.expiration.getTime() - EXPIRY_MARGIN_MS + 1;
      expect((await tes.resolveCredentials()).accessKeyId).to.not.equal(first.accessKeyId);
      expect(tes.upstreamCalls).to.equal(2);
    } finally {
      tes.close();
    }
  });

  it('[CL-60] [CL-61] an upstream 404 is passed through and remembered; a changed role alias clears the cache', async () => {
    let current = { ...settings, roleAlias: 'NoSuchAlias' };
    const tes = new TesCredentials({
      settings: () => current,
      retrySeconds: () => ({ clientError: 120, serverError: 60, unknownError: 300 }),
    });
    try {
      const r1 = await tes.reply();
      expect(r1.status).to.equal(404);
      expect(r1.body).to.match(/NoSuchAlias/);
      expect((await tes.reply()).status).to.equal(404);
      expect(tes.upstreamCalls, 'the 4xx is cached').to.equal(1);
      await tes.resolveCredentials().then(
        () => expect.fail('credentials from a 404'),
        (e: { status: number; message: string }) => {
          expect(e.status).to.equal(404);
          expect(e.message).to.match(/credentials provider: HTTP 404: role alias NoSuchAlias does not exist/);
        },
      );
      current = { ...settings };
      expect((await tes.reply()).status).to.equal(200);
      expect(tes.upstreamCalls).to.equal(2);
    } finally {
      tes.close();
    }
  });

  it('[CL-57] [CL-59] [CL-60] the server: the configured port, 504 when the provider does not answer, 403 when the policy refuses', async () => {
    // a provider that accepts connections and never answers the TLS handshake
    const held = new Set<Socket>();
    const silent: Server = createServer((s) => held.add(s));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const silentPort = (silent.address() as { port: number }).port;
    const upstream = new TesCredentials({
      settings: () => ({ ...settings, endpoint: `127.0.0.1:${silentPort}` }),
      attempts: 1,
      requestTimeoutMs: 5000,
    });
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const port = (probe.address() as { port: number }).port;
    await new Promise<void>((r) => probe.close(() => r()));
    let allowed = true;
    const server = await TesServer.start({
      port,
      credentials: upstream,
      authenticate: (t) => (t === 'GOODTOKEN2345678' ? 'com.example.A' : undefined),
      authorize: () => allowed,
      timeoutMs: 300,
    });
    try {
      expect(server.port).to.equal(port);
      expect(server.uri).to.equal(`http://localhost:${port}${TES_PATH}`);
      const get = () =>
        fetch(`http://127.0.0.1:${port}${TES_PATH}`, { headers: { authorization: 'GOODTOKEN2345678' } });
      const slow = await get();
      expect(slow.status).to.equal(504);
      expect(((await slow.json()) as { message: string }).message).to.match(/no credentials .* in 300 ms/);
      allowed = false;
      const denied = await get();
      expect(denied.status).to.equal(403);
      expect(((await denied.json()) as { message: string }).message).to.equal(
        'com.example.A is not authorized to call getCredentials on aws.greengrass.TokenExchangeService',
      );
      // over IPv6 loopback too, where the host has it ("localhost" may resolve there)
      const v6 = await fetch(`http://[::1]:${port}${TES_PATH}`).catch(() => undefined);
      if (v6) expect(v6.status).to.equal(403);
    } finally {
      await server.close();
      upstream.close();
      for (const s of held) s.destroy();
      await new Promise<void>((r) => silent.close(() => r()));
    }
  });

  it('[CL-59] the built-in policy allows every component; component policies only add to it', () => {
    expect(tesAuthorized(tesPolicyIndex({}), 'com.example.Any')).to.equal(true);
    const services = {
      'com.example.A': {
        configuration: {
          accessControl: {
            'aws.greengrass.TokenExchangeService': {
              p1: { operations: ['getCredentials'], resources: ['*'] },
            },
          },
        },
      },
    };
    expect(tesAuthorized(tesPolicyIndex(services), 'com.example.A')).to.equal(true);
    expect(tesAuthorized(tesPolicyIndex(services), 'com.example.B')).to.equal(true);
    expect(
      tesAuthorized({ services: new Map(), warnings: [] }, 'com.example.B'),
      'no policy at all',
    ).to.equal(false);
  });
});
