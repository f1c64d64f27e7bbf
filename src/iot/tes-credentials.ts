// The token exchange service's upstream side (cloud.md section 4): AWS credentials from the IoT
// credentials provider, `GET https://{iotCredEndpoint}/role-aliases/{iotRoleAlias}/credentials` over
// mutual TLS with the `x-amzn-iot-thingname` header [CL-54, CL-55], retried [CL-56] and cached
// [CL-61]. The local TES server answers components from this cache [CL-60], and the nucleus signs its
// own S3 requests with the same credentials [CL-62].
import { Agent, request } from 'node:https';
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import type { NetworkProxy } from './proxy.js';

export interface CredentialProviderSettings {
  /** `iotCredEndpoint`, used verbatim after https:// (so `host:port` works) [CL-54]. */
  endpoint: string;
  roleAlias: string;
  thingName: string;
  certificatePath: string;
  privateKeyPath: string;
  rootCaPath: string;
}

/** Seconds a failed fetch is remembered, by kind [CL-61]. */
export interface CredentialRetrySeconds {
  clientError: number;
  serverError: number;
  unknownError: number;
}

export const DEFAULT_CREDENTIAL_RETRY: CredentialRetrySeconds = {
  clientError: 120,
  serverError: 60,
  unknownError: 300,
};

/** A success is cached until this long before the credentials expire [CL-61]. */
export const EXPIRY_MARGIN_MS = 300_000;

export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  expiration: Date;
}

/** What the TES server answers: the status and the JSON body, in the container-credentials form [CL-60]. */
export interface CredentialReply {
  status: number;
  body: string;
  credentials?: AwsCredentials;
}

export class CredentialsError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export interface TesCredentialsOptions {
  /** Read at every upstream fetch: a change of any value clears the cache [CL-61]. */
  settings(): CredentialProviderSettings;
  retrySeconds?(): CredentialRetrySeconds;
  proxy?: NetworkProxy;
  /** Per attempt (default 30 s). */
  requestTimeoutMs?: number;
  /** Attempts of a call answered 5xx/429 or not at all (default 3), `backoffMs` apart (default 200) [CL-56]. */
  attempts?: number;
  backoffMs?: number;
  now?: () => number;
  log?: (msg: string) => void;
}

interface CacheEntry {
  key: string;
  until: number;
  reply: CredentialReply;
}

const json = (v: unknown) => JSON.stringify(v);

export class TesCredentials {
  private cache: CacheEntry | undefined;
  private inflight: Promise<CredentialReply> | undefined;
  private agent: Agent | undefined;
  private agentKey = '';
  /** Upstream calls made (each attempt counts). */
  upstreamCalls = 0;

  constructor(private readonly o: TesCredentialsOptions) {}

  private now(): number {
    return (this.o.now ?? Date.now)();
  }

  /** The cached reply, or one fetch shared by every concurrent caller [CL-61]. */
  async reply(): Promise<CredentialReply> {
    const s = this.o.settings();
    const key = json(s);
    if (this.cache && this.cache.key !== key) this.cache = undefined; // identity changed [CL-61]
    if (this.cache && this.now() < this.cache.until) return this.cache.reply;
    this.inflight ??= this.fetch(s, key).finally(() => {
      this.inflight = undefined;
    });
    return this.inflight;
  }

  /** The credentials for the nucleus's own requests (S3) [CL-62]; throws CredentialsError. */
  async resolveCredentials(): Promise<AwsCredentials> {
    const r = await this.reply();
    if (r.credentials) return r.credentials;
    let message = r.body;
    try {
      const parsed = JSON.parse(r.body) as { message?: string; Message?: string };
      message = parsed.message ?? parsed.Message ?? r.body;
    } catch {
      // not JSON: the body as it came
    }
    throw new CredentialsError(r.status, `credentials provider: HTTP ${r.status}: ${message}`);
  }

  close(): void {
    this.agent?.destroy();
    this.agent = undefined;
  }

  private async fetch(s: CredentialProviderSettings, key: string): Promise<CredentialReply> {
    const retry = { ...DEFAULT_CREDENTIAL_RETRY, ...(this.o.retrySeconds?.() ?? {}) };
    const missing = (['endpoint', 'roleAlias', 'thingName'] as const).filter((k) => !s[k]);
    if (missing.length > 0) {
      const names = { endpoint: 'iotCredEndpoint', roleAlias: 'iotRoleAlias', thingName: 'system.thingName' };
      return {
        status: 500,
        body: json({
          message: `the nucleus configuration has no ${missing.map((k) => names[k]).join(', ')}`,
        }),
      };
    }
    let r: { status: number; body: Buffer; error?: string };
    try {
      r = await this.call(s);
    } catch (e) {
      r = { status: 0, body: Buffer.alloc(0), error: (e as Error).message };
    }
    const now = this.now();
    if (r.status === 200) {
      const creds = parseCredentials(r.body);
      if (creds) {
        const reply: CredentialReply = {
          status: 200,
          credentials: creds,
          body: json({
            AccessKeyId: creds.accessKeyId,
            SecretAccessKey: creds.secretAccessKey,
            Token: creds.sessionToken,
            Expiration: creds.raw,
          }),
        };
        const until = creds.expiration.getTime() - EXPIRY_MARGIN_MS;
        if (until > now) this.cache = { key, until, reply };
        else {
          this.cache = undefined;
          this.o.log?.(`TES: the credentials expire at ${creds.raw}, too soon to cache`);
        }
        return reply;
      }
      r = { status: 0, body: r.body, error: 'the credentials provider answered 200 without credentials' };
    }
    let reply: CredentialReply;
    let seconds: number;
    if (r.status >= 400 && r.status < 500) {
      reply = { status: r.status, body: r.body.toString('utf8') };
      seconds = retry.clientError;
    } else if (r.status >= 500) {
      reply = { status: r.status, body: r.body.toString('utf8') };
      seconds = retry.serverError;
    } else {
      reply = { status: 500, body: json({ message: `credentials provider: ${r.error ?? 'no answer'}` }) };
      seconds = retry.unknownError;
    }
    this.o.log?.(`TES: credentials fetch failed (HTTP ${r.status || 'none'}); next try in ${seconds} s`);
    this.cache = { key, until: now + seconds * 1000, reply };
    return reply;
  }

  /** [CL-54, CL-56] the upstream GET with retries; a connection or TLS failure resets the agent. */
  private async call(s: CredentialProviderSettings): Promise<{ status: number; body: Buffer }> {
    const attempts = this.o.attempts ?? 3;
    let last: { status: number; body: Buffer } | undefined;
    let error: Error | undefined;
    for (let i = 1; i <= attempts; i++) {
      try {
        last = await this.once(s);
        error = undefined;
        if (last.status !== 429 && last.status < 500) return last;
      } catch (e) {
        error = e as Error;
        this.agent?.destroy(); // reset the client [CL-56]
        this.agent = undefined;
      }
      if (i < attempts) {
        const wait = error ? Math.random() * 200 : (this.o.backoffMs ?? 200);
        await new Promise((r) => setTimeout(r, wait));
      }
    }
    if (error) throw error;
    return last!;
  }

  private once(s: CredentialProviderSettings): Promise<{ status: number; body: Buffer }> {
    const m = /^(.*?)(?::(\d+))?$/.exec(s.endpoint.replace(/^https:\/\//, '').replace(/\/+$/, ''))!;
    const host = m[1].replace(/^\[(.*)\]$/, '$1');
    const port = m[2] ? Number(m[2]) : 443;
    const agentKey = json([s.certificatePath, s.privateKeyPath, s.rootCaPath, host]);
    if (!this.agent || this.agentKey !== agentKey) {
      this.agent?.destroy();
      const options = {
        keepAlive: true,
        maxSockets: 2,
        key: readFileSync(s.privateKeyPath),
        cert: readFileSync(s.certificatePath),
        ca: readFileSync(s.rootCaPath),
      };
      this.agent =
        this.o.proxy && !this.o.proxy.bypass(host) ? this.o.proxy.httpsAgent(options) : new Agent(options);
      this.agentKey = agentKey;
    }
    this.upstreamCalls++;
    const agent = this.agent;
    return new Promise((resolve, reject) => {
      const req = request(
        {
          host,
          port,
          method: 'GET',
          path: `/role-aliases/${encodeURIComponent(s.roleAlias)}/credentials`,
          agent,
          ...(isIP(host) ? {} : { servername: host }), // SNI = the endpoint [CL-54]
          headers: { 'x-amzn-iot-thingname': s.thingName },
          timeout: this.o.requestTimeoutMs ?? 30_000,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
          res.on('error', reject);
        },
      );
      req.on('timeout', () => req.destroy(new Error('the credentials provider did not answer in time')));
      req.on('error', reject);
      req.end();
    });
  }
}

/** [CL-55] `{"credentials":{accessKeyId, secretAccessKey, sessionToken, expiration}}`, or undefined. */
function parseCredentials(body: Buffer): (AwsCredentials & { raw: string }) | undefined {
  try {
    const c = (JSON.parse(body.toString('utf8')) as { credentials?: Record<string, unknown> }).credentials;
    if (!c) return undefined;
    const { accessKeyId, secretAccessKey, sessionToken, expiration } = c;
    if (
      typeof accessKeyId !== 'string' ||
      typeof secretAccessKey !== 'string' ||
      typeof sessionToken !== 'string' ||
      typeof expiration !== 'string'
    )
      return undefined;
    const when = new Date(expiration);
    if (Number.isNaN(when.getTime())) return undefined;
    return { accessKeyId, secretAccessKey, sessionToken, expiration: when, raw: expiration };
  } catch {
    return undefined;
  }
}
