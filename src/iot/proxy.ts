// The nucleus's network proxy (config.md CF-40: `networkProxy.proxy.{url,username,password}` and
// `networkProxy.noProxyAddresses`): HTTPS requests (data plane, credentials provider, S3, presigned
// downloads) go through an HTTP CONNECT tunnel, plain HTTP requests are sent to the proxy in absolute
// form; hosts listed in noProxyAddresses are reached directly. Only http:// proxies are supported.
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest, type AgentOptions } from 'node:https';
import { isIP, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { connect as tlsConnect } from 'node:tls';

export interface NetworkProxySettings {
  /** `http://[user:pass@]host[:port]`; the port defaults to 80. */
  url: string;
  username?: string;
  password?: string;
  /** Comma-separated hosts or domain suffixes reached without the proxy; `*` = all. */
  noProxyAddresses?: string;
}

export class NetworkProxyError extends Error {}

export class NetworkProxy {
  readonly host: string;
  readonly port: number;
  readonly username: string | undefined;
  readonly password: string | undefined;
  private readonly noProxy: string[];

  /** Throws NetworkProxyError naming the field when the settings cannot be used. */
  constructor(s: NetworkProxySettings) {
    let u: URL;
    try {
      u = new URL(s.url);
    } catch {
      throw new NetworkProxyError(`networkProxy.proxy.url: ${JSON.stringify(s.url)} is not a URL`);
    }
    if (u.protocol !== 'http:')
      throw new NetworkProxyError(
        `networkProxy.proxy.url: only http:// proxies are supported, not ${u.protocol}//`,
      );
    if (u.hostname === '') throw new NetworkProxyError('networkProxy.proxy.url: the URL has no host');
    this.host = u.hostname.replace(/^\[(.*)\]$/, '$1');
    this.port = u.port === '' ? 80 : Number(u.port);
    // explicit username/password win over the URL's user info (the Java nucleus reads both)
    this.username = s.username || (u.username ? decodeURIComponent(u.username) : undefined);
    this.password = s.password || (u.password ? decodeURIComponent(u.password) : undefined);
    this.noProxy = (s.noProxyAddresses ?? '')
      .split(',')
      .map((a) => a.trim().toLowerCase())
      .filter(Boolean);
  }

  /** The proxy as a URL with its credentials, the form of the HTTP(S)_PROXY variables [LC-71]. */
  envUrl(): string {
    const auth =
      this.username === undefined
        ? ''
        : `${encodeURIComponent(this.username)}${this.password === undefined ? '' : `:${encodeURIComponent(this.password)}`}@`;
    const host = isIP(this.host) === 6 ? `[${this.host}]` : this.host;
    return `http://${auth}${host}:${this.port}`;
  }

  get noProxyAddresses(): string[] {
    return [...this.noProxy];
  }

  /** Whether `host` is reached directly: listed exactly, or under a listed domain (`example.com`, `.example.com`). */
  bypass(host: string): boolean {
    const h = host.toLowerCase().replace(/^\[(.*)\]$/, '$1');
    return this.noProxy.some((entry) => {
      if (entry === '*') return true;
      const e = entry.replace(/^\*?\./, '');
      return h === e || h.endsWith(`.${e}`);
    });
  }

  private authHeader(): Record<string, string> {
    if (this.username === undefined) return {};
    const token = Buffer.from(`${this.username}:${this.password ?? ''}`).toString('base64');
    return { 'proxy-authorization': `Basic ${token}` };
  }

  /** Opens a CONNECT tunnel to host:port through the proxy. */
  tunnel(host: string, port: number, timeoutMs = 30_000): Promise<Socket> {
    const target = `${isIP(host) === 6 ? `[${host}]` : host}:${port}`;
    return new Promise((resolve, reject) => {
      const req = httpRequest({
        host: this.host,
        port: this.port,
        method: 'CONNECT',
        path: target,
        headers: { host: target, ...this.authHeader() },
        timeout: timeoutMs,
      });
      req.once('connect', (res: IncomingMessage, socket: Socket) => {
        if (res.statusCode === 200) return resolve(socket);
        socket.destroy();
        reject(
          new Error(`proxy ${this.host}:${this.port} refused CONNECT ${target}: HTTP ${res.statusCode}`),
        );
      });
      req.once('timeout', () => req.destroy(new Error(`proxy ${this.host}:${this.port}: CONNECT timed out`)));
      req.once('error', (e) => reject(new Error(`proxy ${this.host}:${this.port}: ${e.message}`)));
      req.end();
    });
  }

  /** An HTTPS agent whose connections are TLS over CONNECT tunnels (TLS options as for https.Agent). */
  httpsAgent(options: AgentOptions = {}): HttpsAgent {
    return new TunnelingAgent(this, options);
  }

  /** Headers a plain-HTTP request sent to the proxy in absolute form needs. */
  forwardHeaders(): Record<string, string> {
    return this.authHeader();
  }
}

class TunnelingAgent extends HttpsAgent {
  constructor(
    private readonly proxy: NetworkProxy,
    options: AgentOptions,
  ) {
    super(options);
  }

  override createConnection(
    options: Parameters<HttpsAgent['createConnection']>[0],
    callback?: (err: Error | null, stream: Duplex) => void,
  ): Duplex | null | undefined {
    const host = String(options.host ?? options.hostname ?? 'localhost');
    const port = Number(options.port ?? 443);
    this.proxy.tunnel(host, port).then(
      (socket) => {
        const servername = options.servername ?? (isIP(host) ? undefined : host);
        const tls = tlsConnect({ ...(options as object), socket, servername, host, port });
        let done = false;
        const finish = (err: Error | null) => {
          if (done) return;
          done = true;
          if (err) {
            tls.destroy();
            callback?.(err, tls);
          } else callback?.(null, tls);
        };
        tls.once('secureConnect', () => finish(null));
        tls.once('error', (e) => finish(e));
      },
      (e: Error) => callback?.(e, undefined as unknown as Duplex),
    );
    return undefined;
  }
}

export interface GetOptions {
  method?: 'GET' | 'HEAD';
  headers?: Record<string, string>;
  /** For https:// URLs: the agent to use (e.g. with a client certificate); default a fresh one. */
  httpsAgent?: HttpsAgent;
  /** TLS options for a fresh agent (ca, key, cert). */
  tls?: AgentOptions;
  proxy?: NetworkProxy;
  timeoutMs?: number;
}

/** One GET of a URL, directly or through the proxy; resolves with the response (body unread). */
export function httpGet(url: string, o: GetOptions = {}): Promise<IncomingMessage> {
  const u = new URL(url);
  const host = u.hostname.replace(/^\[(.*)\]$/, '$1');
  const proxy = o.proxy && !o.proxy.bypass(host) ? o.proxy : undefined;
  const headers = { ...(o.headers ?? {}) };
  return new Promise((resolve, reject) => {
    let req;
    const common = { method: o.method ?? 'GET', timeout: o.timeoutMs ?? 30_000 };
    if (u.protocol === 'https:') {
      const agent =
        o.httpsAgent ??
        (proxy ? proxy.httpsAgent(o.tls) : new HttpsAgent({ ...(o.tls ?? {}), keepAlive: false }));
      req = httpsRequest({
        ...common,
        host,
        port: u.port === '' ? 443 : Number(u.port),
        path: u.pathname + u.search,
        headers,
        agent,
        ...(isIP(host) ? {} : { servername: host }),
      });
    } else if (u.protocol === 'http:') {
      req = proxy
        ? httpRequest({
            ...common,
            host: proxy.host,
            port: proxy.port,
            path: u.href,
            headers: { host: u.host, ...proxy.forwardHeaders(), ...headers },
            agent: new HttpAgent({ keepAlive: false }),
          })
        : httpRequest({
            ...common,
            host,
            port: u.port === '' ? 80 : Number(u.port),
            path: u.pathname + u.search,
            headers,
          });
    } else return reject(new Error(`unsupported URL scheme ${u.protocol}`));
    req.once('response', resolve);
    req.once('timeout', () => req.destroy(new Error(`GET ${u.host}: no answer in ${common.timeout} ms`)));
    req.once('error', reject);
    req.end();
  });
}

/** Reads a whole (small) response body. */
export async function readBody(res: IncomingMessage, limit = 16 * 1024 * 1024): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of res) {
    size += (c as Buffer).length;
    if (size > limit) {
      res.destroy();
      throw new Error(`response larger than ${limit} bytes`);
    }
    chunks.push(c as Buffer);
  }
  return Buffer.concat(chunks);
}
