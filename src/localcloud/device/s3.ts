// An S3-compatible GetObject/HeadObject over the local cloud's s3:// artifacts (DESIGN decision on
// CL-64), path-style under `/s3/` on the data-plane port: `GET /s3/<bucket>/<key>` serves
// artifacts/s3/<bucket>/<key>, with Range. Every request must be SigV4-signed (service s3, this
// cloud's region) with credentials the local credentials provider issued [CL-54, CL-55]: those are
// derived from the store's secret, so they are checked without remembering them and stay valid
// across restarts until they expire. Errors are S3's XML errors.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { SignatureV4 } from '@smithy/signature-v4';
import { artifactLocation } from '../artifact-store.js';
import type { CloudContext } from '../context.js';
import type { RawHandler } from '../http/server.js';
import { NodeSha256 } from '../sigv4.js';

export const S3_PREFIX = '/s3/';
const MAX_SKEW_MS = 15 * 60 * 1000;

export interface IssuedCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  expirationMs: number;
}

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

function mac(ctx: CloudContext, what: string, n: number): Buffer {
  return Buffer.from(ctx.artifacts.sign(what, n), 'hex');
}

function secretOf(ctx: CloudContext, accessKeyId: string): string {
  return mac(ctx, `tes-secret/${accessKeyId}`, 0).toString('base64').slice(0, 40);
}

/** New credentials for the credentials provider: a random key id, the rest derived from it. */
export function issueCredentials(ctx: CloudContext, lifetimeMs: number): IssuedCredentials {
  const accessKeyId = 'ASIA' + [...randomBytes(16)].map((b) => BASE32[b % 32]).join('');
  const expirationMs = Math.floor((ctx.now() + lifetimeMs) / 1000) * 1000;
  const exp = Buffer.alloc(8);
  exp.writeBigUInt64BE(BigInt(expirationMs));
  const token = Buffer.concat([exp, mac(ctx, `tes-token/${accessKeyId}`, expirationMs), randomBytes(48)]);
  return {
    accessKeyId,
    secretAccessKey: secretOf(ctx, accessKeyId),
    sessionToken: token.toString('base64'),
    expirationMs,
  };
}

type Check =
  { ok: true; secretAccessKey: string } | { ok: false; status: number; code: string; message: string };

/** Whether the key id and session token are ones this cloud issued, and not expired. */
export function checkIssued(ctx: CloudContext, accessKeyId: string, sessionToken: string | undefined): Check {
  const raw = Buffer.from(sessionToken ?? '', 'base64');
  if (raw.length !== 88)
    return {
      ok: false,
      status: 403,
      code: 'InvalidAccessKeyId',
      message: `The AWS Access Key Id ${accessKeyId} does not exist in our records (no valid x-amz-security-token).`,
    };
  const expirationMs = Number(raw.readBigUInt64BE(0));
  const want = mac(ctx, `tes-token/${accessKeyId}`, expirationMs);
  if (!timingSafeEqual(want, raw.subarray(8, 40)))
    return {
      ok: false,
      status: 403,
      code: 'InvalidAccessKeyId',
      message: `The AWS Access Key Id ${accessKeyId} does not exist in our records.`,
    };
  if (expirationMs <= ctx.now())
    return { ok: false, status: 400, code: 'ExpiredToken', message: 'The provided token has expired.' };
  return { ok: true, secretAccessKey: secretOf(ctx, accessKeyId) };
}

class S3Error extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

function sendS3Error(res: ServerResponse, e: S3Error, head: boolean): void {
  const body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${e.code}</Code><Message>${e.message.replace(/[<>&]/g, '')}</Message></Error>`;
  res.writeHead(e.status, {
    'content-type': 'application/xml',
    'content-length': String(Buffer.byteLength(body)),
  });
  res.end(head ? undefined : body);
}

/** 20240102T030405Z -> epoch ms, or NaN. */
function amzDateMs(v: string): number {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(v);
  return m ? Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]) : NaN;
}

/** Checks the SigV4 signature of an S3 request; throws S3Error to refuse it. */
async function verify(
  ctx: CloudContext,
  req: IncomingMessage,
  rawPath: string,
  query: string,
): Promise<void> {
  const header = req.headers.authorization ?? '';
  if (header === '') throw new S3Error(403, 'AccessDenied', 'Access Denied: the request is not signed');
  const m =
    /^AWS4-HMAC-SHA256 Credential=([^/,\s]+)\/(\d{8})\/([^/,\s]+)\/([^/,\s]+)\/aws4_request,\s*SignedHeaders=([^,\s]+),\s*Signature=([0-9a-f]{64})$/.exec(
      header,
    );
  if (!m) throw new S3Error(400, 'AuthorizationHeaderMalformed', 'The authorization header is malformed.');
  const [, accessKeyId, day, region, service, signedList, signature] = m;
  if (service !== 's3')
    throw new S3Error(
      400,
      'AuthorizationHeaderMalformed',
      `the credential scope service must be s3, not ${service}`,
    );
  if (region !== ctx.arn.region)
    throw new S3Error(
      400,
      'AuthorizationHeaderMalformed',
      `the region '${region}' is wrong; expecting '${ctx.arn.region}'`,
    );
  const amz = String(req.headers['x-amz-date'] ?? '');
  const when = amzDateMs(amz);
  if (Number.isNaN(when) || amz.slice(0, 8) !== day)
    throw new S3Error(403, 'AccessDenied', 'x-amz-date is missing or does not match the credential scope');
  if (Math.abs(when - ctx.now()) > MAX_SKEW_MS)
    throw new S3Error(
      403,
      'RequestTimeTooSkewed',
      'The difference between the request time and the current time is too large.',
    );
  const token = req.headers['x-amz-security-token'];
  const issued = checkIssued(ctx, accessKeyId, typeof token === 'string' ? token : undefined);
  if (!issued.ok) throw new S3Error(issued.status, issued.code, issued.message);
  const signed = signedList.split(';');
  if (!signed.includes('host'))
    throw new S3Error(400, 'AuthorizationHeaderMalformed', 'host must be a signed header');
  const headers: Record<string, string> = {};
  for (const name of signed) {
    const v = req.headersDistinct[name];
    if (v === undefined) throw new S3Error(403, 'SignatureDoesNotMatch', `signed header ${name} is missing`);
    headers[name] = v.map((x) => x.trim()).join(',');
  }
  const signer = new SignatureV4({
    service: 's3',
    region,
    credentials: {
      accessKeyId,
      secretAccessKey: issued.secretAccessKey,
      sessionToken: typeof token === 'string' ? token : undefined,
    },
    sha256: NodeSha256,
    uriEscapePath: false,
    applyChecksum: false,
  });
  const q: Record<string, string> = {};
  for (const [k, v] of new URLSearchParams(query)) q[k] = v;
  const resigned = await signer.sign(
    {
      method: req.method ?? 'GET',
      protocol: 'https:',
      hostname: headers.host,
      path: rawPath,
      query: q,
      headers,
    },
    { signingDate: new Date(when), signableHeaders: new Set(signed) },
  );
  const expected = /Signature=([0-9a-f]{64})/.exec(String(resigned.headers.authorization))?.[1] ?? '';
  if (!timingSafeEqual(Buffer.from(expected.padEnd(64, '0'), 'hex'), Buffer.from(signature, 'hex')))
    throw new S3Error(
      403,
      'SignatureDoesNotMatch',
      'The request signature we calculated does not match the signature you provided.',
    );
}

/** The raw handler for `/s3/...` on the data plane. */
export function s3RawHandler(ctx: CloudContext): RawHandler {
  return async (req, res, url) => {
    if (!url.pathname.startsWith(S3_PREFIX)) return false;
    const head = req.method === 'HEAD';
    req.resume();
    try {
      if (req.method !== 'GET' && !head)
        throw new S3Error(405, 'MethodNotAllowed', `${req.method} is not supported by the local S3 endpoint`);
      const target = req.url ?? '/';
      const qi = target.indexOf('?');
      const rawPath = qi < 0 ? target : target.slice(0, qi);
      await verify(ctx, req, rawPath, qi < 0 ? '' : target.slice(qi + 1));
      let parts: string[];
      try {
        parts = rawPath.slice(S3_PREFIX.length).split('/').map(decodeURIComponent);
      } catch {
        throw new S3Error(400, 'InvalidURI', "Couldn't parse the specified URI.");
      }
      if (parts.length < 2 || parts[0] === '' || parts.slice(1).join('/') === '')
        throw new S3Error(400, 'InvalidRequest', 'path-style GET /s3/<bucket>/<key> only');
      const uri = `s3://${parts.join('/')}`;
      const loc = artifactLocation(uri, '', '');
      if (!loc.ok || !ctx.artifacts.exists(loc.relPath))
        throw new S3Error(404, 'NoSuchKey', `The specified key does not exist: ${uri}`);
      serveObject(ctx, req, res, loc.relPath, head);
    } catch (e) {
      if (!(e instanceof S3Error)) throw e;
      sendS3Error(res, e, head);
    }
    return true;
  };
}

function serveObject(
  ctx: CloudContext,
  req: IncomingMessage,
  res: ServerResponse,
  relPath: string,
  head: boolean,
): void {
  const size = ctx.artifacts.size(relPath);
  const range = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
  let start = 0;
  let end = size - 1;
  const headers: Record<string, string> = {
    'content-type': 'application/octet-stream',
    'accept-ranges': 'bytes',
  };
  if (range) {
    start = Number(range[1]);
    end = range[2] === '' ? size - 1 : Math.min(Number(range[2]), size - 1);
    if (start >= size || start > end) {
      sendS3Error(res, new S3Error(416, 'InvalidRange', 'The requested range is not satisfiable'), head);
      return;
    }
    headers['content-range'] = `bytes ${start}-${end}/${size}`;
  }
  headers['content-length'] = String(size === 0 ? 0 : end - start + 1);
  res.writeHead(range ? 206 : 200, headers);
  if (head || size === 0) {
    res.end();
    return;
  }
  ctx.artifacts.read(relPath, { start, end }).pipe(res);
}
