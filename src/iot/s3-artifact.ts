// `s3://bucket/key` artifacts (cloud.md CL-63, CL-64): a GET signed with SigV4 (service s3) and the
// token exchange service's credentials [CL-62]. With the nucleus's S3 endpoint override (Tendril's
// decision for offline use, CL-64) the object is addressed path-style under that endpoint, which is
// trusted through the device's root CA and may ask for the device certificate (the local cloud does);
// without it, the AWS endpoint of the device's region, redirected once to the bucket's own region
// when S3 names another. The digest check and resume are downloadArtifact's [CL-38].
import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { Agent } from 'node:https';
import { rootCertificates } from 'node:tls';
import { SignatureV4 } from '@smithy/signature-v4';
import { ArtifactDownloadError } from './artifact-download.js';
import { httpGet, readBody, type NetworkProxy } from './proxy.js';
import type { AwsCredentials } from './tes-credentials.js';

const EMPTY_SHA256 = createHash('sha256').update('').digest('hex');

export interface S3FetcherOptions {
  /** TES credentials [CL-62]. */
  credentials(): Promise<AwsCredentials>;
  /** The device's region (`awsRegion`). */
  region: string;
  /** `https://host[:port][/prefix]`: path-style requests to an S3-compatible endpoint [CL-64]. */
  endpoint?: string;
  /** The device identity, for an endpoint override that asks for it and to trust the root CA. */
  certificatePath?: string;
  privateKeyPath?: string;
  rootCaPath?: string;
  proxy?: NetworkProxy;
  log?: (msg: string) => void;
}

export interface S3Location {
  bucket: string;
  key: string;
}

/** `s3://bucket/key`; throws ArtifactDownloadError naming the URI when it is not of that form. */
export function parseS3Uri(uri: string): S3Location {
  const m = /^s3:\/\/([^/]+)\/(.+)$/.exec(uri);
  if (!m)
    throw new ArtifactDownloadError(
      'ARTIFACT_DOWNLOAD_ERROR',
      `${uri}: an s3 artifact URI must be s3://<bucket>/<key>`,
    );
  return { bucket: m[1], key: m[2] };
}

/** S3's path encoding: each segment percent-encoded (RFC 3986 unreserved kept), `/` kept. */
const encodeKey = (key: string) =>
  key
    .split('/')
    .map((seg) =>
      encodeURIComponent(seg).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`),
    )
    .join('/');

class NodeSha256 {
  private readonly h: Hash | Hmac;
  constructor(secret?: string | ArrayBuffer | ArrayBufferView) {
    this.h = secret === undefined ? createHash('sha256') : createHmac('sha256', toBytes(secret));
  }
  update(data: string | ArrayBuffer | ArrayBufferView): void {
    this.h.update(toBytes(data));
  }
  digest(): Promise<Uint8Array> {
    return Promise.resolve(new Uint8Array(this.h.digest()));
  }
  reset(): void {
    throw new Error('single use');
  }
}

function toBytes(d: string | ArrayBuffer | ArrayBufferView): Uint8Array {
  if (typeof d === 'string') return Buffer.from(d, 'utf8');
  if (ArrayBuffer.isView(d)) return new Uint8Array(d.buffer, d.byteOffset, d.byteLength);
  return new Uint8Array(d);
}

export class S3ArtifactFetcher {
  private readonly agents = new Map<string, Agent>();
  /** Buckets S3 said live in another region. */
  private readonly bucketRegion = new Map<string, string>();

  constructor(private readonly o: S3FetcherOptions) {
    if (o.endpoint !== undefined) {
      let u: URL;
      try {
        u = new URL(o.endpoint);
      } catch {
        throw new Error(`s3EndpointOverride: ${JSON.stringify(o.endpoint)} is not a URL`);
      }
      if (u.protocol !== 'https:' && u.protocol !== 'http:')
        throw new Error(`s3EndpointOverride: ${o.endpoint} must be an https:// (or http://) URL`);
    }
  }

  close(): void {
    for (const a of this.agents.values()) a.destroy();
    this.agents.clear();
  }

  /** The object's URL: path-style under the override, else the AWS endpoint of `region`. */
  objectUrl(loc: S3Location, region: string): string {
    const key = encodeKey(loc.key);
    if (this.o.endpoint !== undefined)
      return `${this.o.endpoint.replace(/\/+$/, '')}/${encodeURIComponent(loc.bucket)}/${key}`;
    // a dotted bucket name does not fit the wildcard certificate of virtual-hosted names
    return loc.bucket.includes('.')
      ? `https://s3.${region}.amazonaws.com/${loc.bucket}/${key}`
      : `https://${loc.bucket}.s3.${region}.amazonaws.com/${key}`;
  }

  /** A signed GET of the object with `headers` (Range); maps refusals to S3_GET_OBJECT_* [CL-63]. */
  async open(uri: string, headers: Record<string, string> = {}): Promise<IncomingMessage> {
    const loc = parseS3Uri(uri);
    let region = this.bucketRegion.get(loc.bucket) ?? this.o.region;
    for (let redirects = 0; ; redirects++) {
      const res = await this.signedGet(this.objectUrl(loc, region), region, headers);
      const status = res.statusCode ?? 0;
      if (status >= 200 && status < 300) return res;
      if (status === 416) return res;
      const body = (await readBody(res, 64 * 1024).catch(() => Buffer.alloc(0))).toString('utf8');
      const code = /<Code>([^<]*)<\/Code>/.exec(body)?.[1] ?? '';
      const text = /<Message>([^<]*)<\/Message>/.exec(body)?.[1] ?? body.slice(0, 200);
      const other = res.headers['x-amz-bucket-region'];
      if (
        this.o.endpoint === undefined &&
        typeof other === 'string' &&
        other !== region &&
        (status === 301 || status === 400) &&
        redirects === 0
      ) {
        this.o.log?.(`s3: bucket ${loc.bucket} is in ${other}, not ${region}`);
        this.bucketRegion.set(loc.bucket, other);
        region = other;
        continue;
      }
      const detail = `${uri}: HTTP ${status}${code ? ` ${code}` : ''}${text ? `: ${text}` : ''}`;
      // expired or not yet known credentials are worth another try [CL-63]
      if (code === 'ExpiredToken' || code === 'InvalidAccessKeyId' || status >= 500 || status === 429)
        throw new Error(detail);
      if (status === 403) throw new ArtifactDownloadError('S3_GET_OBJECT_ACCESS_DENIED', detail);
      if (status === 404) throw new ArtifactDownloadError('S3_GET_OBJECT_RESOURCE_NOT_FOUND', detail);
      throw new ArtifactDownloadError('ARTIFACT_DOWNLOAD_ERROR', detail);
    }
  }

  private async signedGet(
    url: string,
    region: string,
    extra: Record<string, string>,
  ): Promise<IncomingMessage> {
    const creds = await this.o.credentials().catch((e: Error) => {
      throw new Error(`s3: no credentials from the token exchange service: ${e.message}`);
    });
    const u = new URL(url);
    const signer = new SignatureV4({
      service: 's3',
      region,
      credentials: {
        accessKeyId: creds.accessKeyId,
        secretAccessKey: creds.secretAccessKey,
        sessionToken: creds.sessionToken,
      },
      sha256: NodeSha256,
      uriEscapePath: false, // S3 signs the path as sent, encoded once
      applyChecksum: false,
    });
    const signed = await signer.sign({
      method: 'GET',
      protocol: u.protocol,
      hostname: u.hostname,
      port: u.port === '' ? undefined : Number(u.port),
      path: u.pathname,
      query: Object.fromEntries(u.searchParams),
      headers: { host: u.host, 'x-amz-content-sha256': EMPTY_SHA256 },
    });
    const headers: Record<string, string> = { ...extra };
    for (const [k, v] of Object.entries(signed.headers)) headers[k] = String(v);
    return httpGet(url, {
      headers,
      proxy: this.o.proxy,
      httpsAgent: u.protocol === 'https:' ? this.agentFor(u.hostname) : undefined,
    });
  }

  private agentFor(host: string): Agent {
    let agent = this.agents.get(host);
    if (agent) return agent;
    const override = this.o.endpoint !== undefined;
    const options = {
      keepAlive: true,
      maxSockets: 4,
      // the public CAs, plus the device's root CA (which signs the local cloud's certificates)
      ca: this.o.rootCaPath ? [...rootCertificates, readFileSync(this.o.rootCaPath, 'utf8')] : undefined,
      ...(override && this.o.certificatePath && this.o.privateKeyPath
        ? { cert: readFileSync(this.o.certificatePath), key: readFileSync(this.o.privateKeyPath) }
        : {}),
    };
    agent =
      this.o.proxy && !this.o.proxy.bypass(host) ? this.o.proxy.httpsAgent(options) : new Agent(options);
    this.agents.set(host, agent);
    return agent;
  }
}
