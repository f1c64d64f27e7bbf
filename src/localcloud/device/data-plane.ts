// The Greengrass data plane over HTTPS with mutual TLS (cloud.md section 2): only clients holding a
// certificate from the local CA complete the handshake [CL-22]. Routes the nucleus calls:
// ResolveComponentCandidates [CL-24]..[CL-26], GetComponentVersionArtifact [CL-27]..[CL-29],
// ListThingGroupsForCoreDevice [CL-32], GetDeploymentConfiguration [CL-33] (Tendril's binding, DESIGN.md),
// the IoT credentials provider for TES [CL-54], [CL-55], and an S3-compatible GET of the s3://
// artifacts under /s3/ (s3.ts, CL-64).
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { artifactRoutes } from '../api/artifacts.js';
import { resolveRoutes } from '../api/resolve.js';
import { parseTargetArn } from '../arn.js';
import type { CloudContext } from '../context.js';
import { ApiError, notFound, validationError } from '../http/errors.js';
import { Router, type Route } from '../http/router.js';
import { requestListener, sendError, type RawHandler } from '../http/server.js';
import { enumParam, thingName } from '../validate.js';
import { fullDeploymentDocument } from './deployment-document.js';
import type { ServerIdentity } from './pki.js';
import { issueCredentials, s3RawHandler } from './s3.js';

const URL_LIFETIME_MS = 60 * 60 * 1000;
const CREDENTIAL_LIFETIME_MS = 60 * 60 * 1000;

function accessDenied(message: string): ApiError {
  return new ApiError('AccessDeniedException', 403, message);
}

function requireSelf(clientThing: string | undefined, thing: string, field: string): void {
  if (clientThing !== thing)
    throw accessDenied(
      `the client certificate belongs to ${clientThing ?? 'no thing'}, not to ${field} ${thing}`,
    );
}

/** Whether a deployment targets the thing: the thing itself, or a job execution for it. */
function targets(ctx: CloudContext, deploymentId: string, thing: string): boolean {
  const d = ctx.store.deployments.get(deploymentId);
  if (!d) return false;
  const t = parseTargetArn(d.targetArn);
  if (t.kind === 'thing') return t.name === thing;
  return d.iotJobId !== undefined && ctx.store.jobs.execution(d.iotJobId, thing) !== undefined;
}

function configurationPath(deploymentId: string, thing: string): string {
  return `deployment-configuration/${deploymentId}/${thing}`;
}

export function dataPlaneRoutes(ctx: CloudContext, roleAliases: () => string[]): Route[] {
  return [
    {
      method: 'GET',
      path: '/greengrass/v2/coreDevices/{thingName}/thingGroups',
      operation: 'ListThingGroupsForCoreDevice',
      handler: ({ params, clientThing }) => {
        const thing = thingName(params.thingName, 'thingName');
        requireSelf(clientThing, thing, 'thingName');
        const thingGroups = ctx.store.coreDevices
          .thingGroupsOf(thing)
          .map((g) => ({ thingGroupName: g, rootToParentThingGroups: [] }));
        return { status: 200, body: { thingGroups } };
      },
    },
    {
      // UNVERIFIED against AWS: Tendril's own binding of GetDeploymentConfiguration (CL-33).
      method: 'GET',
      path: '/greengrass/v2/deployments/{deploymentId}/configuration',
      operation: 'GetDeploymentConfiguration',
      handler: ({ params, query, clientThing }) => {
        const thing = thingName(query.get('coreDeviceThingName') ?? undefined, 'coreDeviceThingName');
        enumParam(query, 's3EndpointType', ['REGIONAL', 'GLOBAL'] as const);
        requireSelf(clientThing, thing, 'coreDeviceThingName');
        const d = ctx.store.deployments.get(params.deploymentId);
        if (!d || !targets(ctx, d.deploymentId, thing))
          throw notFound(
            `deployment ${params.deploymentId} does not exist for core device ${thing}`,
            params.deploymentId,
            'deployment',
          );
        const body = JSON.stringify(fullDeploymentDocument(ctx.arn, d));
        const expires = ctx.now() + URL_LIFETIME_MS;
        const path = configurationPath(d.deploymentId, thing);
        const q = new URLSearchParams({
          deploymentId: d.deploymentId,
          thing,
          expires: String(expires),
          signature: ctx.artifacts.sign(path, expires),
        });
        return {
          status: 200,
          body: {
            preSignedUrl: `${ctx.baseUrl()}/tendril/deployment-configuration?${q}`,
            integrityCheck: {
              algorithm: 'SHA-256',
              digest: createHash('sha256').update(body, 'utf8').digest('base64'),
            },
          },
        };
      },
    },
    {
      method: 'GET',
      path: '/role-aliases/{roleAlias}/credentials',
      operation: 'GetCredentialsForRoleAlias',
      handler: ({ params, headers, clientThing }) => {
        const header = headers['x-amzn-iot-thingname'];
        if (header !== undefined && header !== clientThing)
          throw accessDenied(
            `x-amzn-iot-thingname ${String(header)} is not the certificate's thing ${clientThing ?? ''}`,
          );
        if (!roleAliases().includes(params.roleAlias))
          throw notFound(`role alias ${params.roleAlias} does not exist`, params.roleAlias, 'roleAlias');
        // derived from the store's secret, so the S3 endpoint can check them (s3.ts)
        const issued = issueCredentials(ctx, CREDENTIAL_LIFETIME_MS);
        return {
          status: 200,
          body: {
            credentials: {
              accessKeyId: issued.accessKeyId,
              secretAccessKey: issued.secretAccessKey,
              sessionToken: issued.sessionToken,
              expiration: new Date(issued.expirationMs).toISOString().replace(/\.\d{3}Z$/, 'Z'),
            },
          },
        };
      },
    },
  ];
}

/** The presigned large-configuration download on the control-plane port: plain GET, no auth (CL-34). */
export function deploymentConfigurationRawHandler(ctx: CloudContext): RawHandler {
  return (req, res, url) => {
    if (url.pathname !== '/tendril/deployment-configuration') return Promise.resolve(false);
    try {
      if (req.method !== 'GET') throw validationError(`no route for ${req.method} ${url.pathname}`);
      const id = url.searchParams.get('deploymentId') ?? '';
      const thing = url.searchParams.get('thing') ?? '';
      const expires = Number(url.searchParams.get('expires'));
      if (
        !ctx.artifacts.verify(
          configurationPath(id, thing),
          expires,
          url.searchParams.get('signature') ?? '',
          ctx.now(),
        )
      )
        throw accessDenied('the deployment configuration URL is invalid or has expired');
      const d = ctx.store.deployments.get(id);
      if (!d) throw notFound(`deployment ${id} no longer exists`, id, 'deployment');
      const body = JSON.stringify(fullDeploymentDocument(ctx.arn, d));
      res.writeHead(200, {
        'content-type': 'application/json',
        'content-length': String(Buffer.byteLength(body)),
      });
      res.end(body);
    } catch (e) {
      if (!(e instanceof ApiError)) throw e;
      sendError(res, e);
    }
    return Promise.resolve(true);
  };
}

export interface DataPlaneServer {
  readonly port: number;
  close(): Promise<void>;
}

export async function startDataPlane(
  ctx: CloudContext,
  opts: {
    host: string;
    port: number;
    identity: ServerIdentity;
    roleAliases: () => string[];
    log(m: string): void;
  },
): Promise<DataPlaneServer> {
  const router = new Router().add(
    ...dataPlaneRoutes(ctx, opts.roleAliases),
    ...resolveRoutes(ctx),
    ...artifactRoutes(ctx),
  );
  const server: Server = createServer(
    {
      key: opts.identity.privateKeyPem,
      cert: opts.identity.certificatePem,
      ca: [opts.identity.caPem],
      requestCert: true,
      rejectUnauthorized: true,
    },
    requestListener(router, [s3RawHandler(ctx)], opts.log),
  );
  server.on('tlsClientError', (e) => opts.log(`data plane: TLS handshake refused: ${e.message}`));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
