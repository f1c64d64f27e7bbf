// The token exchange service's local server (cloud.md section 4.2): HTTP on localhost, one path
// [CL-57], checks in order (method, path, the component's SVCUID, the getCredentials policy) [CL-59],
// and the cached credentials in the container-credentials form AWS SDKs read, with the upstream
// status passed through, 504 when no answer comes in time and 500 on anything unexpected [CL-60].
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { CredentialReply } from './tes-credentials.js';

export const TES_SERVICE = 'aws.greengrass.TokenExchangeService';
export const TES_OPERATION = 'getCredentials';
export const TES_PATH = '/2016-11-01/credentialprovider/';

export interface TesServerOptions {
  /** 0 = any free port [CL-57]. */
  port: number;
  credentials: { reply(): Promise<CredentialReply> };
  /** The component an SVCUID belongs to, or undefined. */
  authenticate(token: string): string | undefined;
  /** Whether the component may call getCredentials on aws.greengrass.TokenExchangeService [CL-59]. */
  authorize(component: string): boolean;
  /** How long a request waits for the credentials (default 30 s) before 504 [CL-60]. */
  timeoutMs?: number;
  log?: (msg: string) => void;
}

/** The server: 127.0.0.1, and ::1 on the same port where the host has IPv6 ("localhost" may be either). */
export class TesServer {
  private constructor(
    private readonly servers: Server[],
    readonly port: number,
    /** Requests answered, by status. */
    readonly answered: ReadonlyMap<number, number>,
  ) {}

  /** `AWS_CONTAINER_CREDENTIALS_FULL_URI` [CL-58]. */
  get uri(): string {
    return `http://localhost:${this.port}${TES_PATH}`;
  }

  static async start(o: TesServerOptions): Promise<TesServer> {
    const counts = new Map<number, number>();
    const handler = (req: IncomingMessage, res: ServerResponse) => {
      void answer(o, req).then(
        ({ status, body }) => {
          counts.set(status, (counts.get(status) ?? 0) + 1);
          res.writeHead(status, {
            'content-type': 'application/json',
            'content-length': String(Buffer.byteLength(body)),
          });
          res.end(body);
        },
        () => res.destroy(),
      );
    };
    const first = createServer(handler);
    await listen(first, o.port, '127.0.0.1');
    const port = (first.address() as AddressInfo).port;
    const servers = [first];
    const v6 = createServer(handler);
    try {
      await listen(v6, port, '::1');
      servers.push(v6);
    } catch (e) {
      o.log?.(`TES: not listening on [::1]:${port} (${(e as Error).message}); 127.0.0.1 only`);
    }
    return new TesServer(servers, port, counts);
  }

  async close(): Promise<void> {
    await Promise.all(
      this.servers.map(
        (srv) =>
          new Promise<void>((resolve) => {
            srv.close(() => resolve());
            srv.closeAllConnections();
          }),
      ),
    );
  }
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

const message = (m: string) => JSON.stringify({ message: m });

/** [CL-59] the checks in order, then [CL-60] the credentials. */
async function answer(o: TesServerOptions, req: IncomingMessage): Promise<{ status: number; body: string }> {
  req.resume();
  if (req.method !== 'GET') return { status: 405, body: message(`method ${req.method} is not allowed`) };
  const path = (req.url ?? '').split('?')[0];
  if (path !== TES_PATH) return { status: 400, body: message(`no credentials at ${path}; use ${TES_PATH}`) };
  const header = req.headers.authorization;
  const component = typeof header === 'string' && header !== '' ? o.authenticate(header) : undefined;
  if (component === undefined)
    return { status: 403, body: message('the Authorization header is not a known component token') };
  if (!o.authorize(component))
    return {
      status: 403,
      body: message(`${component} is not authorized to call ${TES_OPERATION} on ${TES_SERVICE}`),
    };
  let timer: NodeJS.Timeout | undefined;
  try {
    const timeoutMs = o.timeoutMs ?? 30_000;
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), timeoutMs);
    });
    const r = await Promise.race([o.credentials.reply(), timeout]);
    if (r === 'timeout')
      return {
        status: 504,
        body: message(`no credentials from the credentials provider in ${timeoutMs} ms`),
      };
    return { status: r.status, body: r.body };
  } catch (e) {
    o.log?.(`TES: ${component}: ${(e as Error).message}`);
    return { status: 500, body: message(`unexpected error: ${(e as Error).message}`) };
  } finally {
    clearTimeout(timer);
  }
}
