// Optional AWS Signature Version 4 checking of control-plane requests (off unless keys are configured).
// The signature is recomputed with @smithy/signature-v4 over what arrived: method, raw path, query, the
// headers the client listed in SignedHeaders and the body, with the client's own x-amz-date as the signing
// date, then compared in constant time. Failures carry the error names AWS answers with, so the SDK raises
// the matching exception: MissingAuthenticationTokenException, IncompleteSignatureException (400),
// UnrecognizedClientException (unknown key) and InvalidSignatureException (bad signature, wrong scope,
// expired or not yet current date).
import { createHash, createHmac, timingSafeEqual, type Hash, type Hmac } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { SignatureV4 } from '@smithy/signature-v4';
import { ApiError } from './http/errors.js';

export interface AccessKey {
  accessKeyId: string;
  secretAccessKey: string;
}

/** How far x-amz-date may be from the server's clock, either way. */
export const MAX_CLOCK_SKEW_MS = 15 * 60 * 1000;

const ALGORITHM = 'AWS4-HMAC-SHA256';
const UNSIGNED_PAYLOAD = 'UNSIGNED-PAYLOAD';
const SERVICE = 'greengrass';

/** SHA-256 (or HMAC-SHA256 with a secret) on node:crypto, in the shape the signer expects. */
export class NodeSha256 {
  private readonly h: Hash | Hmac;

  constructor(secret?: string | ArrayBuffer | ArrayBufferView) {
    this.h = secret === undefined ? createHash('sha256') : createHmac('sha256', bytes(secret));
  }

  update(data: string | ArrayBuffer | ArrayBufferView): void {
    this.h.update(bytes(data));
  }

  digest(): Promise<Uint8Array> {
    return Promise.resolve(new Uint8Array(this.h.digest()));
  }

  reset(): void {
    throw new Error('NodeSha256 is single-use');
  }
}

function bytes(data: string | ArrayBuffer | ArrayBufferView): Uint8Array {
  if (typeof data === 'string') return Buffer.from(data, 'utf8');
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return new Uint8Array(data);
}

function missingToken(message: string): ApiError {
  return new ApiError('MissingAuthenticationTokenException', 403, message);
}

function incomplete(message: string): ApiError {
  return new ApiError('IncompleteSignatureException', 400, message);
}

function invalidSignature(message: string): ApiError {
  return new ApiError('InvalidSignatureException', 403, message);
}

function unrecognized(accessKeyId: string): ApiError {
  return new ApiError(
    'UnrecognizedClientException',
    403,
    `The security token included in the request is invalid: access key ${accessKeyId} is not known to this local cloud.`,
  );
}

interface ParsedAuthorization {
  accessKeyId: string;
  date: string;
  region: string;
  service: string;
  signedHeaders: string[];
  signature: string;
}

function parseAuthorization(value: string): ParsedAuthorization {
  if (!value.startsWith(`${ALGORITHM} `))
    throw incomplete(`Authorization header must use the ${ALGORITHM} algorithm (AWS Signature Version 4).`);
  const parts = new Map<string, string>();
  for (const piece of value.slice(ALGORITHM.length + 1).split(',')) {
    const trimmed = piece.trim();
    const eq = trimmed.indexOf('=');
    if (eq > 0) parts.set(trimmed.slice(0, eq), trimmed.slice(eq + 1));
  }
  const missing = ['Credential', 'SignedHeaders', 'Signature'].filter((k) => !parts.get(k));
  if (missing.length > 0)
    throw incomplete(
      `Authorization header requires ${missing.map((k) => `'${k}'`).join(', ')} parameter${missing.length > 1 ? 's' : ''}.`,
    );
  const scope = (parts.get('Credential') ?? '').split('/');
  if (scope.length !== 5 || scope[0] === '' || scope[4] !== 'aws4_request')
    throw incomplete(
      "Authorization header Credential must be 'ACCESS_KEY_ID/YYYYMMDD/REGION/SERVICE/aws4_request'.",
    );
  const signedHeaders = (parts.get('SignedHeaders') ?? '').split(';');
  return {
    accessKeyId: scope[0],
    date: scope[1],
    region: scope[2],
    service: scope[3],
    signedHeaders,
    signature: parts.get('Signature') ?? '',
  };
}

/** 20240102T030405Z -> Date, or undefined if it is not that form. */
function parseAmzDate(v: string): Date | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(v);
  if (!m) return undefined;
  const d = new Date(Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]));
  return Number.isNaN(d.getTime()) ? undefined : d;
}

function amzDate(ms: number): string {
  return new Date(ms)
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');
}

function decode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** The query as the client signed it: keys and values decoded, repeated keys as arrays. */
function signedQuery(rawQuery: string): Record<string, string | string[]> {
  const query: Record<string, string | string[]> = Object.create(null) as Record<string, string | string[]>;
  for (const pair of rawQuery.split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const key = decode(eq < 0 ? pair : pair.slice(0, eq));
    const value = eq < 0 ? '' : decode(pair.slice(eq + 1));
    const prev = query[key];
    query[key] = prev === undefined ? value : Array.isArray(prev) ? [...prev, value] : [prev, value];
  }
  return query;
}

/** The received path and query, still percent-encoded as sent. */
function rawTarget(req: IncomingMessage): { path: string; query: string } {
  let target = req.url ?? '/';
  if (!target.startsWith('/')) {
    try {
      const u = new URL(target);
      target = u.pathname + u.search;
    } catch {
      target = '/';
    }
  }
  const q = target.indexOf('?');
  return q < 0 ? { path: target, query: '' } : { path: target.slice(0, q), query: target.slice(q + 1) };
}

export class SigV4Verifier {
  private readonly signers = new Map<string, SignatureV4>();

  constructor(
    keys: readonly AccessKey[],
    private readonly region: string,
    private readonly now: () => number,
  ) {
    for (const k of keys) {
      if (typeof k.accessKeyId !== 'string' || !/^[^\s/:,]+$/.test(k.accessKeyId))
        throw new TypeError(
          'credentials: an accessKeyId must be a non-empty string without whitespace, "/", ":" or ","',
        );
      if (typeof k.secretAccessKey !== 'string' || k.secretAccessKey === '')
        throw new TypeError(
          `credentials: the secretAccessKey of ${k.accessKeyId} must be a non-empty string`,
        );
      const known = this.signers.get(k.accessKeyId);
      if (known !== undefined)
        throw new TypeError(`credentials: access key ${k.accessKeyId} is given more than once`);
      this.signers.set(
        k.accessKeyId,
        new SignatureV4({
          service: SERVICE,
          region,
          credentials: { accessKeyId: k.accessKeyId, secretAccessKey: k.secretAccessKey },
          sha256: NodeSha256,
          uriEscapePath: true,
          applyChecksum: false,
        }),
      );
    }
  }

  /**
   * Checks the request's Authorization header; throws ApiError to refuse it. `body` is the whole request
   * body, or 'streamed' for a route that reads the body itself: then the client must sign
   * `x-amz-content-sha256: UNSIGNED-PAYLOAD`.
   */
  async verify(req: IncomingMessage, body: Buffer | 'streamed'): Promise<void> {
    const header = req.headers.authorization;
    if (header === undefined || header === '')
      throw missingToken(
        'Missing Authentication Token: this local cloud checks credentials; sign the request with AWS Signature Version 4.',
      );
    const auth = parseAuthorization(header);
    const signed = new Set(auth.signedHeaders);
    if (!signed.has('host')) throw incomplete("'Host' must be a 'SignedHeader' in the AWS Authorization.");
    if (!signed.has('x-amz-date'))
      throw incomplete("'X-Amz-Date' must be a 'SignedHeader' in the AWS Authorization.");
    if (signed.has('authorization')) throw incomplete("'Authorization' cannot be a 'SignedHeader'.");
    const amz = req.headers['x-amz-date'];
    const signingDate = typeof amz === 'string' ? parseAmzDate(amz) : undefined;
    if (signingDate === undefined || typeof amz !== 'string')
      throw incomplete(
        "Authorization header requires an 'X-Amz-Date' header of the form YYYYMMDD'T'HHMMSS'Z'.",
      );

    const signer = this.signers.get(auth.accessKeyId);
    if (signer === undefined) throw unrecognized(auth.accessKeyId);
    if (auth.date !== amz.slice(0, 8))
      throw invalidSignature(
        `Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '${auth.date}' != '${amz.slice(0, 8)}', from '${amz}'.`,
      );
    if (auth.region !== this.region)
      throw invalidSignature(
        `Credential should be scoped to a valid region: this local cloud is '${this.region}', not '${auth.region}'.`,
      );
    if (auth.service !== SERVICE)
      throw invalidSignature(
        `Credential should be scoped to correct service: '${SERVICE}', not '${auth.service}'.`,
      );
    const now = this.now();
    const skew = signingDate.getTime() - now;
    if (skew < -MAX_CLOCK_SKEW_MS)
      throw invalidSignature(
        `Signature expired: ${amz} is now earlier than ${amzDate(now - MAX_CLOCK_SKEW_MS)} (${amzDate(now)} - 15 min.)`,
      );
    if (skew > MAX_CLOCK_SKEW_MS)
      throw invalidSignature(
        `Signature not yet current: ${amz} is still later than ${amzDate(now + MAX_CLOCK_SKEW_MS)} (${amzDate(now)} + 15 min.)`,
      );
    if (!/^[0-9a-f]{64}$/.test(auth.signature))
      throw incomplete('Authorization header Signature must be 64 lowercase hexadecimal digits.');

    // The payload: its hash is always ours, never the client's claim.
    const claimed = req.headers['x-amz-content-sha256'];
    if (body === 'streamed') {
      if (!signed.has('x-amz-content-sha256') || claimed !== UNSIGNED_PAYLOAD)
        throw invalidSignature(
          `This route streams its body: sign the request with the header 'x-amz-content-sha256: ${UNSIGNED_PAYLOAD}'.`,
        );
    } else if (claimed !== undefined) {
      const actual = createHash('sha256').update(body).digest('hex');
      if (claimed !== actual)
        throw invalidSignature(
          'The x-amz-content-sha256 header does not match the SHA-256 of the request body (unsigned payloads are not accepted here).',
        );
    }

    const headers: Record<string, string> = {};
    for (const name of signed) {
      const values = req.headersDistinct[name];
      if (values === undefined)
        throw invalidSignature(`The signed header '${name}' is not present in the request.`);
      headers[name] = values.map((v) => v.trim()).join(',');
    }
    const target = rawTarget(req);
    const resigned = await signer.sign(
      {
        method: req.method ?? 'GET',
        protocol: 'http:',
        hostname: headers.host ?? '',
        path: target.path,
        query: signedQuery(target.query),
        headers,
        body: body === 'streamed' ? undefined : body,
      },
      { signingDate, signableHeaders: signed },
    );
    const expected = /Signature=([0-9a-f]{64})/.exec(String(resigned.headers.authorization))?.[1] ?? '';
    const a = Buffer.from(expected, 'hex');
    const b = Buffer.from(auth.signature, 'hex');
    if (a.length !== 32 || !timingSafeEqual(a, b))
      throw invalidSignature(
        'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.',
      );
  }
}
