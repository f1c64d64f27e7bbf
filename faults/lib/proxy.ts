// The network faults' proxies.
// - CuttingProxy: a TCP proxy that relays to a target and cuts connections on demand: the first
//   `cutAfter.length` connections are destroyed after relaying that many bytes towards the client.
//   It notes the request line and Range header of plain HTTP requests, to show resumed downloads.
// - DataPlaneProxy: the nucleus's data-plane endpoint points here. It terminates TLS with a server
//   certificate of the local cloud's own CA (so the nucleus trusts it), checks the device certificate,
//   forwards each request to the real data plane with the device's certificate, and rewrites the
//   presigned artifact URLs so that downloads go through a CuttingProxy: in the local cloud (as in AWS)
//   the artifact bytes come from the presigned URL's host, not from the data-plane endpoint. It can
//   drop requests (the connection closed without an answer).
import { readFileSync } from 'node:fs';
import {
  createServer as createHttpsServer,
  request as httpsRequest,
  type Server as HttpsServer,
} from 'node:https';
import { createServer, connect, type AddressInfo, type Server, type Socket } from 'node:net';
import { LocalCa } from '../../src/localcloud/index.js';
import type { Device } from './cloud.js';

export class CuttingProxy {
  private server: Server | undefined;
  private readonly live = new Set<Socket>();
  /** Byte counts after which the next requests' connections are cut, consumed one per request. */
  cutAfter: number[] = [];
  connections = 0;
  cut = 0;
  /** `GET /path` lines and their Range headers, as sniffed from the client side. */
  readonly requests: { line: string; range?: string }[] = [];
  port = 0;

  constructor(private readonly target: () => { host: string; port: number }) {}

  async listen(): Promise<void> {
    this.server = createServer((client) => {
      this.connections++;
      const t = this.target();
      const upstream = connect(t.port, t.host);
      this.live.add(client);
      // per request, not per connection: a kept-alive connection carries several downloads
      let limit: number | undefined;
      let relayed = 0;
      client.on('data', (d: Buffer) => {
        const head = d.toString('latin1', 0, Math.min(d.length, 4096));
        const line = head.split('\r\n')[0];
        if (/^[A-Z]+ \/\S* HTTP\/1\.[01]$/.test(line)) {
          const range = /\r\nrange: *([^\r\n]+)/i.exec(head)?.[1];
          this.requests.push({ line: line.split('?')[0], range });
          limit = this.cutAfter.shift();
          relayed = 0;
        }
        upstream.write(d);
      });
      upstream.on('data', (d: Buffer) => {
        if (limit !== undefined && relayed + d.length >= limit) {
          client.write(d.subarray(0, Math.max(0, limit - relayed)));
          this.cut++;
          client.destroy();
          upstream.destroy();
          return;
        }
        relayed += d.length;
        client.write(d);
      });
      const end = () => {
        this.live.delete(client);
        client.destroy();
        upstream.destroy();
      };
      client.on('close', end);
      upstream.on('close', end);
      client.on('error', end);
      upstream.on('error', end);
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    this.port = (this.server!.address() as AddressInfo).port;
  }

  async close(): Promise<void> {
    for (const s of this.live) s.destroy();
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }
}

export class DataPlaneProxy {
  private server: HttpsServer | undefined;
  port = 0;
  /** The next this-many requests are dropped: the connection is closed without an answer. */
  dropNext = 0;
  requests = 0;
  dropped = 0;
  rewritten = 0;

  constructor(
    private readonly cloudDataDir: string,
    private readonly device: Device,
    private readonly upstream: () => number,
    private readonly download: CuttingProxy,
  ) {}

  async listen(): Promise<void> {
    const ca = await LocalCa.open(this.cloudDataDir);
    const identity = await ca.issueServer(['127.0.0.1']);
    const key = readFileSync(this.device.privateKeyPath);
    const cert = readFileSync(this.device.certificatePath);
    const rootCa = readFileSync(this.device.rootCaPath);
    this.server = createHttpsServer(
      {
        key: identity.privateKeyPem,
        cert: identity.certificatePem,
        ca: [identity.caPem],
        requestCert: true,
        rejectUnauthorized: true,
      },
      (req, res) => {
        this.requests++;
        if (this.dropNext > 0) {
          this.dropNext--;
          this.dropped++;
          req.socket.destroy();
          return;
        }
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => {
          const headers = { ...req.headers, host: `127.0.0.1:${this.upstream()}` };
          const up = httpsRequest(
            {
              host: '127.0.0.1',
              port: this.upstream(),
              method: req.method,
              path: req.url,
              headers,
              key,
              cert,
              ca: rootCa,
            },
            (r) => {
              const body: Buffer[] = [];
              r.on('data', (c: Buffer) => body.push(c));
              r.on('end', () => {
                let out = Buffer.concat(body);
                const text = out.toString('utf8');
                if (text.includes('"preSignedUrl"')) {
                  const rewritten = text.replace(
                    /("preSignedUrl":\s*"http:\/\/)127\.0\.0\.1:\d+/,
                    `$1127.0.0.1:${this.download.port}`,
                  );
                  if (rewritten !== text) this.rewritten++;
                  out = Buffer.from(rewritten);
                }
                const h = { ...r.headers, 'content-length': String(out.length) };
                delete h['transfer-encoding'];
                res.writeHead(r.statusCode ?? 502, h);
                res.end(out);
              });
              r.on('error', () => res.destroy());
            },
          );
          up.on('error', () => res.destroy());
          up.end(Buffer.concat(chunks));
        });
      },
    );
    this.server.on('tlsClientError', () => {});
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    this.port = (this.server!.address() as AddressInfo).port;
  }

  async close(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }
}
