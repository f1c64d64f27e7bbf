// The GET of an artifact's presigned URL (cloud.md CL-37): HTTP/1.1 over a plain or TLS socket whose
// reads land straight in the download's file buffers (net/tls `onread`), so a 1 GB body costs no
// per-read allocation, no copy and no garbage, and memory stays flat (node:http allocates a fresh
// buffer for every 64 KiB read and leaves them to the garbage collector: about 40 MB of growth).
// Only what a presigned download needs: one request per connection (`Connection: close`), a body
// framed by Content-Length or by the end of the connection, no redirects; through the network proxy
// [CF-40] for http:// URLs (absolute form). An https:// URL through the proxy needs a CONNECT tunnel,
// whose socket cannot take `onread`: that case goes through node:http (see `directGetSupported`).
import { connect as netConnect, isIP, type OnReadOpts, type Socket } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls';
import type { ArtifactFileSink } from './artifact-sink.js';
import type { NetworkProxy } from './proxy.js';

export interface ResponseHead {
  status: number;
  /** Lower-case names; repeated fields joined with ", ". */
  headers: Record<string, string>;
}

export interface DirectGetOptions {
  headers?: Record<string, string>;
  proxy?: NetworkProxy;
  /** No bytes for this long fails the GET (default 30 s). */
  timeoutMs?: number;
  /** For https:// URLs: trusted CAs instead of Node's (tests). */
  ca?: string | Buffer;
}

/** Whether `getInto` can fetch `url`: http(s) directly, or http:// through the proxy. */
export function directGetSupported(url: string, proxy?: NetworkProxy): boolean {
  const u = new URL(url);
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return false;
  return u.protocol === 'http:' || !proxy || proxy.bypass(u.hostname);
}

const MAX_HEAD = 64 * 1024;

function parseHead(text: string): ResponseHead {
  const lines = text.split('\r\n');
  const m = /^HTTP\/1\.[01] (\d{3})(?: |$)/.exec(lines[0]);
  if (!m) throw new Error(`not an HTTP/1.x status line: ${JSON.stringify(lines[0].slice(0, 80))}`);
  const headers: Record<string, string> = {};
  for (const line of lines.slice(1)) {
    const i = line.indexOf(':');
    if (i <= 0) throw new Error(`malformed response header line ${JSON.stringify(line.slice(0, 80))}`);
    const name = line.slice(0, i).trim().toLowerCase();
    const value = line.slice(i + 1).trim();
    headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
  }
  return { status: Number(m[1]), headers };
}

/**
 * One GET of `url`. `onHead` sees the status and headers and answers the sink for the body, or
 * undefined when the body is not wanted (the connection is closed); it may throw to fail the GET.
 * Resolves with the head once the whole body is in the sink (the caller then awaits `sink.finish()`);
 * rejects on a network error, a timeout, or a connection closed before Content-Length bytes.
 */
export function getInto(
  url: string,
  o: DirectGetOptions,
  onHead: (head: ResponseHead) => Promise<ArtifactFileSink | undefined>,
): Promise<ResponseHead> {
  const u = new URL(url);
  const host = u.hostname.replace(/^\[(.*)\]$/, '$1');
  const port = u.port === '' ? (u.protocol === 'https:' ? 443 : 80) : Number(u.port);
  const proxy = u.protocol === 'http:' && o.proxy && !o.proxy.bypass(host) ? o.proxy : undefined;
  const headers: Record<string, string> = {
    host: u.host,
    ...(proxy ? proxy.forwardHeaders() : {}),
    ...o.headers,
    connection: 'close',
  };
  for (const [k, v] of Object.entries(headers))
    if (/[\r\n]/.test(k + v)) throw new Error(`GET ${u.host}: header ${k} holds a line break`);
  const target = proxy ? u.href : u.pathname + u.search;
  const request =
    `GET ${target} HTTP/1.1\r\n` +
    Object.entries(headers)
      .map(([k, v]) => `${k}: ${v}\r\n`)
      .join('') +
    '\r\n';
  const timeoutMs = o.timeoutMs ?? 30_000;

  return new Promise<ResponseHead>((resolve, reject) => {
    const scratch = Buffer.allocUnsafe(MAX_HEAD);
    let headLen = 0;
    /** Body bytes that came before the sink did. */
    const early: Buffer[] = [];
    let head: ResponseHead | undefined;
    let sink: ArtifactFileSink | undefined;
    /** Content-Length of the body, or -1: until the connection ends. */
    let expected = -1;
    /** Body bytes handed to the sink (it may drop a leading part). */
    let got = 0;
    /** What the last buffer handed to the socket was: the next read's bytes are there. */
    let given: 'scratch' | 'sink' = 'scratch';
    let paused = false;
    let eof = false;
    let settled = false;

    const finish = (e?: Error) => {
      if (settled) return;
      settled = true;
      socket.destroy();
      if (e) reject(e);
      else resolve(head!);
    };
    const complete = () => sink !== undefined && expected >= 0 && got >= expected;

    const onread: OnReadOpts = {
      buffer: () => {
        // The sink's region stays put until the next callback (nothing else adds to the sink then).
        if (sink) {
          given = 'sink';
          const room = sink.region();
          return expected < 0 ? room : room.subarray(0, Math.min(room.length, expected - got));
        }
        given = 'scratch';
        return head ? scratch : scratch.subarray(headLen);
      },
      callback: (n) => {
        if (settled) return false;
        if (head === undefined) {
          headLen += n;
          const end = scratch.subarray(0, headLen).indexOf('\r\n\r\n');
          if (end < 0) {
            if (headLen === MAX_HEAD)
              finish(new Error(`GET ${u.host}: response head over ${MAX_HEAD} bytes`));
            return !settled;
          }
          try {
            head = parseHead(scratch.toString('latin1', 0, end));
          } catch (e) {
            finish(new Error(`GET ${u.host}: ${(e as Error).message}`));
            return false;
          }
          early.push(Buffer.from(scratch.subarray(end + 4, headLen))); // body bytes read with the head
          paused = true;
          onHead(head).then(
            (s) => start(s),
            (e: Error) => finish(e),
          );
          return false;
        }
        if (!sink) {
          // A TLS socket hands over what it already decrypted even after a pause: keep it.
          early.push(Buffer.from(scratch.subarray(0, n)));
          return false;
        }
        const ok = deliver(sink, n, given === 'sink' ? undefined : scratch);
        if (sink.error) finish(sink.error);
        else if (complete()) finish();
        else if (!ok) paused = true;
        return ok && !settled;
      },
    };
    /** The server ended the connection: done for a body framed by the end, else cut short. */
    const atEof = () => {
      if (head === undefined)
        return finish(new Error(`GET ${u.host}: the connection closed before a response`));
      if (!sink) return; // onHead still deciding: start() comes back here
      if (expected < 0) return finish();
      if (!complete())
        finish(new Error(`GET ${u.host}: the connection closed after ${got} of ${expected} bytes`));
    };
    /** `n` body bytes for the sink: read into its region, or to copy in from `from`; never past Content-Length. */
    const deliver = (s: ArtifactFileSink, n: number, from?: Buffer): boolean => {
      const take = expected < 0 ? n : Math.min(n, Math.max(0, expected - got));
      got += take;
      return from ? s.push(from.subarray(0, take)) : s.commit(take);
    };

    const start = (s: ArtifactFileSink | undefined) => {
      if (settled) return void s?.abort();
      if (!s) return finish();
      sink = s;
      const te = head!.headers['transfer-encoding'];
      if (te !== undefined && te.toLowerCase() !== 'identity')
        return finish(
          new Error(`GET ${u.host}: Transfer-Encoding ${te} is not supported, only a Content-Length body`),
        );
      const cl = head!.headers['content-length'];
      if (cl !== undefined) {
        if (!/^\d+$/.test(cl)) return finish(new Error(`GET ${u.host}: bad Content-Length ${cl}`));
        expected = Number(cl);
      }
      s.ondrain = () => {
        if (s.error) return finish(s.error);
        if (!paused || settled) return;
        paused = false;
        socket.resume();
      };
      let ok = true;
      for (const b of early.splice(0)) ok = deliver(s, b.length, b);
      if (s.error) return finish(s.error);
      if (complete()) return finish();
      if (eof) return atEof();
      if (ok) s.ondrain();
    };

    const common = { host: proxy?.host ?? host, port: proxy?.port ?? port, onread };
    const socket: Socket =
      u.protocol === 'https:'
        ? tlsConnect({
            ...common,
            ...(isIP(host) ? {} : { servername: host }),
            ...(o.ca === undefined ? {} : { ca: o.ca }),
          } as ConnectionOptions)
        : netConnect(common);
    socket.write(request);
    socket.setTimeout(timeoutMs, () => finish(new Error(`GET ${u.host}: no data for ${timeoutMs} ms`)));
    socket.once('error', (e) => finish(new Error(`GET ${u.host}: ${e.message}`)));
    const ended = () => {
      eof = true;
      atEof();
    };
    socket.once('end', ended);
    socket.once('close', ended);
  });
}
