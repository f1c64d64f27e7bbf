// downloadArtifact's GET against real HTTP(S) servers on loopback that misbehave the ways a download
// meets in the field: a Range request answered with 206 or with the whole body, a connection cut in
// the middle of the body, a complete file answered 416, no Content-Length, an error status; and the
// direct GET over TLS. Every file is checked byte for byte and the requests the server saw are checked.
import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { createServer as createTlsServer, type TLSSocket } from 'node:tls';
import { join } from 'node:path';
import { ArtifactDownloadError, downloadArtifact } from '../../../src/iot/index.js';
import { getInto } from '../../../src/iot/artifact-get.js';
import { ArtifactFileSink } from '../../../src/iot/artifact-sink.js';
import { LocalCa } from '../../../src/localcloud/index.js';

// 5 MiB and a bit: several of the sink's 1 MiB buffers, and not a multiple of any read size.
const content = Buffer.alloc(5 * 1024 * 1024 + 12345);
for (let i = 0; i + 4 <= content.length; i += 4) content.writeUInt32LE((i * 2654435761) >>> 0, i);
const digest = createHash('sha256').update(content).digest('base64');

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

/** Serves `content` honouring `Range: bytes=N-` with 206, unless told otherwise per request. */
const rangeServer: Handler = (req, res) => {
  const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
  const start = m ? Number(m[1]) : 0;
  if (start >= content.length) {
    res.writeHead(416, { 'content-range': `bytes */${content.length}` }).end();
    return;
  }
  res.writeHead(m ? 206 : 200, {
    'content-length': String(content.length - start),
    ...(m ? { 'content-range': `bytes ${start}-${content.length - 1}/${content.length}` } : {}),
  });
  res.end(content.subarray(start));
};

describe('iot: artifact download against misbehaving HTTP servers', function () {
  this.timeout(30000);
  let dir: string;
  let server: Server;
  let handler: Handler;
  let seen: Array<string | undefined>;
  let url: string;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tendril-artifact-dl-'));
    server = createServer((req, res) => {
      seen.push(req.headers.range);
      handler(req, res);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/artifact?X-Amz-Signature=abc`;
  });
  beforeEach(() => {
    seen = [];
    handler = rangeServer;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
    rmSync(dir, { recursive: true, force: true });
  });

  const file = (name: string) => join(dir, name);
  const opened: ArtifactFileSink[] = [];
  const get = (f: string, attempts = 3) =>
    downloadArtifact({ url: async () => url, file: f, digest, algorithm: 'sha256', attempts });

  it('[CL-37] [CL-38] downloads a multi-buffer body whole, digest-verified', async () => {
    expect(await get(file('whole.bin'))).to.equal('downloaded');
    expect(readFileSync(file('whole.bin')).equals(content)).to.equal(true);
    expect(seen).to.deep.equal([undefined]);
  });

  it('[CL-37] resumes a partial file with Range from its end and appends the 206 body', async () => {
    writeFileSync(file('partial.bin'), content.subarray(0, 1_234_567));
    expect(await get(file('partial.bin'))).to.equal('downloaded');
    expect(seen).to.deep.equal(['bytes=1234567-']);
    expect(readFileSync(file('partial.bin')).equals(content)).to.equal(true);
  });

  it('[CL-37] a server that ignores Range (200, whole body) has the bytes already there skipped', async () => {
    handler = (req, res) => {
      res.writeHead(200, { 'content-length': String(content.length) });
      res.end(content);
    };
    writeFileSync(file('ignored.bin'), content.subarray(0, 3_000_001));
    expect(await get(file('ignored.bin'))).to.equal('downloaded');
    expect(seen).to.deep.equal(['bytes=3000001-']);
    expect(readFileSync(file('ignored.bin')).equals(content)).to.equal(true);
  });

  it('[CL-37] a connection cut mid-body is retried from the end of what was written', async () => {
    let first = true;
    handler = (req, res) => {
      if (!first) return rangeServer(req, res);
      first = false;
      res.writeHead(200, { 'content-length': String(content.length) });
      res.write(content.subarray(0, 2_500_000), () => setTimeout(() => res.destroy(), 50));
    };
    expect(await get(file('cut.bin'))).to.equal('downloaded');
    expect(seen).to.have.length(2);
    expect(seen[0]).to.equal(undefined);
    const resumedAt = Number(/^bytes=(\d+)-$/.exec(seen[1] ?? '')?.[1]);
    expect(resumedAt, 'the second GET continues after the bytes the first one wrote').to.be.greaterThan(0);
    expect(resumedAt).to.be.at.most(2_500_000);
    expect(readFileSync(file('cut.bin')).equals(content)).to.equal(true);
  });

  it('[CL-37] cuts after progress do not use up the attempts; cuts before any byte do', async () => {
    let cuts = 5;
    handler = (req, res) => {
      if (cuts-- <= 0) return rangeServer(req, res);
      const start = Number(/^bytes=(\d+)-$/.exec(req.headers.range ?? '')?.[1] ?? 0);
      res.writeHead(req.headers.range ? 206 : 200, { 'content-length': String(content.length - start) });
      res.write(content.subarray(start, start + 600_000), () => setTimeout(() => res.destroy(), 50));
    };
    expect(await get(file('flaky.bin'))).to.equal('downloaded');
    expect(seen, 'five cut attempts, each resumed, then the rest').to.have.length(6);
    expect(readFileSync(file('flaky.bin')).equals(content)).to.equal(true);

    seen = [];
    handler = (req, res) => {
      res.writeHead(200, { 'content-length': String(content.length) });
      res.flushHeaders();
      setTimeout(() => res.destroy(), 50);
    };
    const e = await get(file('stuck.bin')).catch((x: unknown) => x);
    expect((e as ArtifactDownloadError).code).to.equal('ARTIFACT_DOWNLOAD_ERROR');
    expect(seen, 'three attempts without a byte').to.have.length(3);
    expect(existsSync(file('stuck.bin'))).to.equal(false);
  });

  it('[CL-37] [CL-38] a complete but corrupt file gets 416, fails the digest, and is downloaded again', async () => {
    const bad = Buffer.from(content);
    bad[bad.length - 1] ^= 0xff;
    writeFileSync(file('corrupt.bin'), bad);
    expect(await get(file('corrupt.bin'))).to.equal('downloaded');
    expect(seen).to.deep.equal([`bytes=${content.length}-`, undefined]);
    expect(readFileSync(file('corrupt.bin')).equals(content)).to.equal(true);
  });

  it('[CL-37] a 200 without Content-Length fails with GREENGRASS_ARTIFACT_SIZE_NOT_FOUND at once', async () => {
    handler = (req, res) => {
      res.writeHead(200, { 'transfer-encoding': 'chunked' });
      res.end(content.subarray(0, 1000));
    };
    const e = await get(file('nosize.bin')).catch((x: unknown) => x);
    expect(e).to.be.instanceOf(ArtifactDownloadError);
    expect((e as ArtifactDownloadError).code).to.equal('GREENGRASS_ARTIFACT_SIZE_NOT_FOUND');
    expect(seen).to.have.length(1);
    expect(() => statSync(file('nosize.bin'))).to.throw();
  });

  it('[CL-37] an error status fails with ARTIFACT_DOWNLOAD_ERROR naming it, and the partial file goes', async () => {
    handler = (req, res) => {
      res.writeHead(403, { 'content-type': 'application/xml' }).end('<Error>AccessDenied</Error>');
    };
    writeFileSync(file('denied.bin'), content.subarray(0, 1000));
    const e = await get(file('denied.bin'), 2).catch((x: unknown) => x);
    expect((e as ArtifactDownloadError).code).to.equal('ARTIFACT_DOWNLOAD_ERROR');
    expect((e as Error).message).to.contain('HTTP 403');
    expect(seen, 'both attempts resumed from the partial file').to.deep.equal(['bytes=1000-', 'bytes=1000-']);
    expect(existsSync(file('denied.bin')), 'a failed download leaves no partial file').to.equal(false);
  });

  it('[CL-37] the direct GET over TLS checks the server certificate and writes the body whole', async () => {
    const ca = await LocalCa.open(join(dir, 'ca'));
    const id = await ca.issueServer(['localhost']);
    // The whole response goes out at once, before the request is even read: the client's first read
    // decrypts many records in one go, the first of them with the head (none may be lost while the
    // file is being opened).
    const head = `HTTP/1.1 200 OK\r\ncontent-length: ${content.length}\r\nconnection: close\r\n\r\n`;
    const sockets: TLSSocket[] = [];
    const tlsServer = createTlsServer({ key: id.privateKeyPem, cert: id.certificatePem }, (s) => {
      sockets.push(s);
      s.on('error', () => undefined);
      s.end(Buffer.concat([Buffer.from(head), content]));
    });
    await new Promise<void>((r) => tlsServer.listen(0, '127.0.0.1', r));
    const at = `https://localhost:${(tlsServer.address() as AddressInfo).port}/tls.bin`;
    try {
      for (const delayMs of [0, 50]) {
        const hash = createHash('sha256');
        const f = file(`tls-${delayMs}.bin`);
        const got = await getInto(at, { ca: id.caPem }, async () => {
          await new Promise((r) => setTimeout(r, delayMs));
          return ArtifactFileSink.open(f, false, hash, 0).then((sink) => (opened.push(sink), sink));
        });
        await Promise.all(opened.splice(0).map((s) => s.finish()));
        expect(got.status).to.equal(200);
        expect(hash.digest('base64'), `opened after ${delayMs} ms`).to.equal(digest);
        expect(readFileSync(f).equals(content)).to.equal(true);
      }
      // Node's own CAs do not know the local CA: the handshake is refused.
      const refused = await getInto(at, {}, async () => undefined).catch((x: Error) => x);
      expect(refused).to.be.instanceOf(Error);
      expect((refused as Error).message).to.match(/certificate/i);
    } finally {
      // (close's callback never comes after the refused handshake: the listener is closed, the rest destroyed)
      tlsServer.close();
      for (const s of sockets) s.destroy();
    }
  });
});
