// The Greengrass data-plane client (cloud.md section 2): HTTPS with the device certificate and no
// SigV4 [CL-22], the endpoint from greengrassDataPlaneEndpoint/Port [CL-20, CL-21], retries of 5xx,
// 429 and network errors with a growing jittered interval [CL-23], and the calls the nucleus makes:
// ResolveComponentCandidates [CL-24..CL-26], GetComponentVersionArtifact [CL-27..CL-29],
// ListThingGroupsForCoreDevice [CL-32] and GetDeploymentConfiguration [CL-33..CL-35].
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Agent, request } from 'node:https';
import { isIP } from 'node:net';
import type { DevicePlatform } from '../recipe/index.js';
import { httpGet, readBody, type NetworkProxy } from './proxy.js';

export interface DataPlaneOptions {
  /** Host of the data plane (greengrass-ats.iot.<region>.amazonaws.com, or the local cloud). */
  host: string;
  port: number;
  certificatePath: string;
  privateKeyPath: string;
  rootCaPath: string;
  thingName: string;
  /** First retry interval (default 1 s), doubled up to `maxRetryIntervalMs` (default 60 s). */
  retryIntervalMs?: number;
  maxRetryIntervalMs?: number;
  /** Attempts of a retryable failure before giving up (default 6): the deployment stage has its own timeout. */
  maxAttempts?: number;
  /** Per-request timeout (default 30 s). */
  requestTimeoutMs?: number;
  /** networkProxy [CF-40]: every call and the presigned downloads go through it unless the host is exempt. */
  proxy?: NetworkProxy;
  log?: (msg: string) => void;
}

export class DataPlaneError extends Error {
  constructor(
    readonly status: number,
    readonly errorType: string,
    message: string,
  ) {
    super(message);
  }
}

export interface ResolvedCandidate {
  arn: string;
  componentName: string;
  componentVersion: string;
  /** The recipe as sent (JSON text, decoded from base64) [CL-25]. */
  recipe: string;
  vendorGuidance?: string;
}

interface Reply {
  status: number;
  body: Buffer;
}

/** [CL-23] retryable: HTTP >= 500, 429, or no answer at all (status 0). */
const retryable = (status: number) => status === 0 || status === 429 || status >= 500;

export class DataPlaneClient {
  private readonly agent: Agent;

  constructor(private readonly o: DataPlaneOptions) {
    const options = {
      keepAlive: true,
      maxSockets: 4,
      key: readFileSync(o.privateKeyPath),
      cert: readFileSync(o.certificatePath),
      ca: readFileSync(o.rootCaPath),
    };
    this.agent = o.proxy && !o.proxy.bypass(o.host) ? o.proxy.httpsAgent(options) : new Agent(options);
  }

  close(): void {
    this.agent.destroy();
  }

  /** [CL-24] one candidate per call; `localVersion` is the version already on the device, if any. */
  async resolveComponent(
    name: string,
    versionRequirements: Record<string, string>,
    platform: DevicePlatform,
    localVersion?: string,
  ): Promise<ResolvedCandidate> {
    const attributes: Record<string, string> = {};
    for (const [k, v] of Object.entries(platform)) if (typeof v === 'string') attributes[k] = v;
    const body = {
      platform: { attributes },
      componentCandidates: [
        {
          componentName: name,
          ...(localVersion !== undefined ? { componentVersion: localVersion } : {}),
          versionRequirements,
        },
      ],
    };
    const json = await this.call('POST', '/greengrass/v2/resolveComponentCandidates', body);
    const list = json.resolvedComponentVersions;
    if (!Array.isArray(list) || list.length !== 1)
      throw new DataPlaneError(
        200,
        'RESOLVE_COMPONENT_CANDIDATES_BAD_RESPONSE',
        `resolving ${name}: expected exactly one version`,
      );
    const r = list[0] as Record<string, unknown>;
    return {
      arn: String(r.arn),
      componentName: String(r.componentName),
      componentVersion: String(r.componentVersion),
      recipe: Buffer.from(String(r.recipe ?? ''), 'base64').toString('utf8'),
      vendorGuidance: typeof r.vendorGuidance === 'string' ? r.vendorGuidance : undefined,
    };
  }

  /** [CL-27..CL-29] the presigned URL of a `greengrass:` artifact. */
  async artifactUrl(componentVersionArn: string, artifactName: string): Promise<string> {
    const name = artifactName.split('/').map(encodeURIComponent).join('/');
    const json = await this.call(
      'GET',
      `/greengrass/v2/components/${encodeURIComponent(componentVersionArn)}/artifacts/${name}?s3EndpointType=GLOBAL`,
    );
    if (typeof json.preSignedUrl !== 'string')
      throw new DataPlaneError(
        200,
        'GET_COMPONENT_VERSION_ARTIFACT_BAD_RESPONSE',
        'no preSignedUrl in the reply',
      );
    return json.preSignedUrl;
  }

  /** [CL-32] every page of the thing's groups. */
  async thingGroups(): Promise<string[]> {
    const out: string[] = [];
    let token: string | undefined;
    do {
      const q = token ? `?nextToken=${encodeURIComponent(token)}` : '';
      const json = await this.call(
        'GET',
        `/greengrass/v2/coreDevices/${encodeURIComponent(this.o.thingName)}/thingGroups${q}`,
      );
      for (const g of (json.thingGroups as Array<{ thingGroupName?: string }> | undefined) ?? [])
        if (g.thingGroupName) out.push(g.thingGroupName);
      token = typeof json.nextToken === 'string' && json.nextToken ? json.nextToken : undefined;
    } while (token);
    return out;
  }

  /** [CL-33, CL-34] the full document of a LARGE_CONFIGURATION deployment, digest-checked. */
  async deploymentConfiguration(deploymentId: string): Promise<Record<string, unknown>> {
    const q = new URLSearchParams({ coreDeviceThingName: this.o.thingName, s3EndpointType: 'GLOBAL' });
    const json = await this.call(
      'GET',
      `/greengrass/v2/deployments/${encodeURIComponent(deploymentId)}/configuration?${q}`,
    );
    const url = String(json.preSignedUrl);
    const want = (json.integrityCheck as { digest?: string } | undefined)?.digest;
    const res = await httpGet(url, { proxy: this.o.proxy, timeoutMs: this.o.requestTimeoutMs });
    const status = res.statusCode ?? 0;
    const declared = Number(res.headers['content-length'] ?? '0');
    if (declared > 10 * 1024 * 1024) {
      res.destroy();
      throw new DataPlaneError(
        status,
        'DEPLOYMENT_DOCUMENT_SIZE_EXCEEDED',
        `the document is ${declared} bytes`,
      );
    }
    const text = (await readBody(res, 10 * 1024 * 1024)).toString('utf8');
    if (status < 200 || status >= 300 || text === '')
      throw new DataPlaneError(status, 'CLOUD_API_ERROR', `document download: HTTP ${status}`);
    const digest = createHash('sha256').update(text, 'utf8').digest('base64');
    if (want !== undefined && digest !== want)
      throw new DataPlaneError(
        200,
        'CLOUD_API_ERROR',
        'the deployment document does not match its integrity check',
      );
    return JSON.parse(text) as Record<string, unknown>;
  }

  /** One JSON call with the retries of CL-23; a final failure throws DataPlaneError. */
  private async call(method: string, path: string, body?: unknown): Promise<Record<string, unknown>> {
    const max = this.o.maxAttempts ?? 6;
    let interval = this.o.retryIntervalMs ?? 1000;
    for (let attempt = 1; ; attempt++) {
      const r = await this.send(method, path, body);
      if (r.status >= 200 && r.status < 300)
        return JSON.parse(r.body.toString('utf8') || '{}') as Record<string, unknown>;
      let err: { message?: string; __type?: string } = {};
      try {
        err = JSON.parse(r.body.toString('utf8')) as typeof err;
      } catch {
        err = { message: r.body.toString('utf8') };
      }
      const message = `${method} ${path.split('?')[0]}: HTTP ${r.status}: ${err.message ?? ''}`;
      if (!retryable(r.status) || attempt >= max)
        throw new DataPlaneError(r.status, err.__type ?? '', message);
      const wait = interval / 2 + Math.random() * (interval / 2);
      this.o.log?.(`data plane: ${message}; retrying in ${Math.round(wait)} ms`);
      await new Promise((res) => setTimeout(res, wait));
      interval = Math.min(interval * 2, this.o.maxRetryIntervalMs ?? 60_000);
    }
  }

  private send(method: string, path: string, body?: unknown): Promise<Reply> {
    const data = body === undefined ? undefined : Buffer.from(JSON.stringify(body), 'utf8');
    return new Promise((resolve) => {
      const req = request(
        {
          host: this.o.host,
          port: this.o.port,
          method,
          path,
          agent: this.agent,
          ...(isIP(this.o.host) ? {} : { servername: this.o.host }),
          timeout: this.o.requestTimeoutMs ?? 30_000,
          headers: data ? { 'content-type': 'application/json', 'content-length': String(data.length) } : {},
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
          res.on('error', (e) =>
            resolve({ status: 0, body: Buffer.from(JSON.stringify({ message: e.message })) }),
          );
        },
      );
      req.on('timeout', () => req.destroy(new Error('request timed out')));
      req.on('error', (e) =>
        resolve({ status: 0, body: Buffer.from(JSON.stringify({ message: e.message })) }),
      );
      req.end(data);
    });
  }
}
