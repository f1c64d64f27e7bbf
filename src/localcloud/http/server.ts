// The restJson1 HTTP front [CP-01]..[CP-13]: reads the JSON body, routes, and renders results and errors
// the way @aws-sdk/client-greengrassv2 reads them.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { ApiError, internalError, validationError } from './errors.js';
import type { Router } from './router.js';

/** A route outside the Greengrass API (e.g. local artifact upload); returns false if it does not apply. */
export type RawHandler = (req: IncomingMessage, res: ServerResponse, url: URL) => Promise<boolean>;

/**
 * Checks a Greengrass API request's credentials once its body has been read, before it is routed; throws
 * ApiError to refuse it (raw handlers run first and do their own checking).
 */
export type Authenticator = (req: IncomingMessage, body: Buffer) => Promise<void>;

const MAX_BODY_BYTES = 16 * 1024 * 1024;

export function requestListener(
  router: Router,
  raw: RawHandler[],
  log: (msg: string) => void,
  authenticate?: Authenticator,
) {
  return (req: IncomingMessage, res: ServerResponse): void => {
    const requestId = randomUUID();
    res.setHeader('x-amzn-RequestId', requestId);
    handle(router, raw, req, res, authenticate).catch((e: unknown) => {
      const err = e instanceof ApiError ? e : internalError('internal error');
      if (!(e instanceof ApiError)) log(`request ${requestId} ${req.method} ${req.url} failed: ${String(e)}`);
      sendError(res, err);
    });
  };
}

async function handle(
  router: Router,
  raw: RawHandler[],
  req: IncomingMessage,
  res: ServerResponse,
  authenticate: Authenticator | undefined,
) {
  const url = new URL(req.url ?? '/', 'http://localhost');
  for (const h of raw) if (await h(req, res, url)) return;
  let bytes: Buffer | undefined;
  if (authenticate) {
    // Credentials first, as AWS does: a refused request learns nothing about routes and changes nothing.
    bytes = await readBody(req);
    await authenticate(req, bytes);
  }
  let match;
  try {
    match = router.match(req.method ?? 'GET', url.pathname);
  } catch {
    throw validationError(`malformed percent-encoding in path ${url.pathname}`, undefined, 'CANNOT_PARSE');
  }
  if (!match)
    throw validationError(`no operation for ${req.method} ${url.pathname}`, undefined, 'UNKNOWN_OPERATION');
  const text = (bytes ?? (await readBody(req))).toString('utf8');
  let body: Record<string, unknown> = {};
  if (text.trim() !== '') {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw validationError('the request body is not valid JSON', undefined, 'CANNOT_PARSE');
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
      throw validationError('the request body must be a JSON object', undefined, 'CANNOT_PARSE');
    body = parsed as Record<string, unknown>;
  }
  const result = await match.route.handler({
    operation: match.route.operation,
    params: match.params,
    query: url.searchParams,
    headers: req.headers,
    body,
    clientThing: clientThing(req),
  });
  if (result.status === 204 || result.body === undefined) {
    res.writeHead(result.status, { 'content-length': '0' });
    res.end();
    return;
  }
  sendJson(res, result.status, result.body);
}

/** The subject CN of a verified client certificate, when the request came over mutual TLS. */
function clientThing(req: IncomingMessage): string | undefined {
  const sock = req.socket as Partial<TLSSocket>;
  if (typeof sock.getPeerCertificate !== 'function' || sock.authorized !== true) return undefined;
  const cn = sock.getPeerCertificate().subject?.CN;
  return typeof cn === 'string' && cn !== '' ? cn : undefined;
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY_BYTES) {
        reject(validationError(`the request body exceeds ${MAX_BODY_BYTES} bytes`, undefined, 'OTHER'));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': String(Buffer.byteLength(text)),
  });
  res.end(text);
}

/** [CP-61]: status, `x-amzn-errortype` and a body with `message` and the shape's members. */
export function sendError(res: ServerResponse, err: ApiError): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.setHeader('x-amzn-errortype', err.errorType);
  if (err.status === 429 || err.status === 500) res.setHeader('Retry-After', '1');
  sendJson(res, err.status, err.body());
}
