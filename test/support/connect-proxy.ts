// A tiny real HTTP proxy for tests: CONNECT tunnels (counted by target) and absolute-form plain-HTTP
// requests (counted too), with optional Basic authentication (407 without it). Loopback only.
import { createServer, request, type Server } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';

export interface TestProxy {
  port: number;
  url: string;
  /** host:port -> CONNECT tunnels opened. */
  tunnels: Map<string, number>;
  /** host:port -> absolute-form requests forwarded. */
  forwarded: Map<string, number>;
  /** Requests refused with 407. */
  refused: number;
  close(): Promise<void>;
}

const bump = (m: Map<string, number>, k: string) => m.set(k, (m.get(k) ?? 0) + 1);

export async function startConnectProxy(auth?: { username: string; password: string }): Promise<TestProxy> {
  const tunnels = new Map<string, number>();
  const forwarded = new Map<string, number>();
  const sockets = new Set<Socket>();
  const expected = auth
    ? `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}`
    : undefined;
  const state = { refused: 0 };
  const server: Server = createServer((req, res) => {
    if (expected && req.headers['proxy-authorization'] !== expected) {
      state.refused++;
      res.writeHead(407, { 'proxy-authenticate': 'Basic realm="test"' }).end();
      return;
    }
    let target: URL;
    try {
      target = new URL(req.url ?? '');
    } catch {
      res.writeHead(400).end('absolute-form requests only');
      return;
    }
    bump(forwarded, target.host);
    const headers = { ...req.headers };
    delete headers['proxy-authorization'];
    const up = request(
      {
        host: target.hostname,
        port: target.port || 80,
        path: target.pathname + target.search,
        method: req.method,
        headers,
      },
      (r) => {
        res.writeHead(r.statusCode ?? 502, r.headers);
        r.pipe(res);
      },
    );
    up.on('error', () => res.writeHead(502).end());
    req.pipe(up);
  });
  server.on('connect', (req, client: Socket, head: Buffer) => {
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    client.on('error', () => undefined);
    if (expected && req.headers['proxy-authorization'] !== expected) {
      state.refused++;
      client.end(
        'HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm="test"\r\n\r\n',
      );
      return;
    }
    const [host, port] = [req.url!.slice(0, req.url!.lastIndexOf(':')), Number(req.url!.split(':').pop())];
    bump(tunnels, `${host.replace(/^\[(.*)\]$/, '$1')}:${port}`);
    const upstream = connect(port, host.replace(/^\[(.*)\]$/, '$1'), () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    sockets.add(upstream);
    upstream.on('close', () => {
      sockets.delete(upstream);
      client.destroy();
    });
    upstream.on('error', () => client.destroy());
    client.on('close', () => upstream.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    tunnels,
    forwarded,
    get refused() {
      return state.refused;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
