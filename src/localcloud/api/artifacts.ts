// GetComponentVersionArtifact [CP-35] (cloud.md CL-27..CL-29) hands out a presigned-style URL to the local
// download route. Local-cloud-only routes (not part of the Greengrass API):
//   PUT /tendril/artifacts?uri=s3://B/K                         upload an s3:// artifact
//   PUT /tendril/artifacts?uri=greengrass:N&componentName=C&componentVersion=V   upload a greengrass: one
//   GET /tendril/artifacts/download?path=P&expires=MS&signature=S   the presigned URL; plain GET and Range (CL-39)
import type { IncomingMessage, ServerResponse } from 'node:http';
import { artifactLocation } from '../artifact-store.js';
import type { CloudContext } from '../context.js';
import { ApiError, notFound, validationError } from '../http/errors.js';
import type { Route } from '../http/router.js';
import { sendError, sendJson, type RawHandler } from '../http/server.js';
import { artifactNodes, artifactUri } from '../recipe-document.js';
import { checkString, enumParam } from '../validate.js';
import { requireComponentVersion } from './components.js';

const URL_LIFETIME_MS = 60 * 60 * 1000;

/** The artifact name a URI answers to: the scheme-specific part (CL-28), or for s3:// also the key. */
function answersTo(uri: string, name: string): boolean {
  if (uri.startsWith('greengrass:')) return uri.slice('greengrass:'.length) === name;
  if (uri.startsWith('s3://')) {
    const rest = uri.slice('s3://'.length);
    return rest === name || rest.slice(rest.indexOf('/') + 1) === name;
  }
  return false;
}

export function artifactRoutes(ctx: CloudContext): Route[] {
  return [
    {
      method: 'GET',
      path: '/greengrass/v2/components/{arn}/artifacts/{artifactName+}',
      operation: 'GetComponentVersionArtifact',
      handler: async ({ params, query, headers }) => {
        const name = checkString(params.artifactName, 'artifactName');
        enumParam(query, 's3EndpointType', ['REGIONAL', 'GLOBAL'] as const);
        const endpointType = headers['x-amz-iot-endpoint-type'];
        if (endpointType !== undefined && endpointType !== 'fips' && endpointType !== 'standard')
          throw validationError('iotEndpointType must be fips or standard', 'iotEndpointType');
        const rec = await requireComponentVersion(ctx, params.arn);
        const uri = artifactNodes(rec.recipe)
          .map(artifactUri)
          .find((u) => u !== undefined && answersTo(u, name));
        const loc = uri === undefined ? undefined : artifactLocation(uri, rec.name, rec.version);
        if (!loc?.ok || !ctx.artifacts.exists(loc.relPath))
          throw notFound(
            `component ${rec.name} version ${rec.version} has no stored artifact ${name}`,
            name,
            'artifact',
          );
        const expires = ctx.now() + URL_LIFETIME_MS;
        const q = new URLSearchParams({
          path: loc.relPath,
          expires: String(expires),
          signature: ctx.artifacts.sign(loc.relPath, expires),
        });
        return { status: 200, body: { preSignedUrl: `${ctx.baseUrl()}/tendril/artifacts/download?${q}` } };
      },
    },
  ];
}

async function upload(ctx: CloudContext, req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
  const uri = url.searchParams.get('uri');
  if (!uri) throw validationError('uri is required', 'uri');
  let component = '';
  let version = '';
  if (uri.startsWith('greengrass:')) {
    component = checkString(url.searchParams.get('componentName') ?? undefined, 'componentName', {
      max: 128,
    });
    version = checkString(url.searchParams.get('componentVersion') ?? undefined, 'componentVersion', {
      max: 64,
    });
  }
  const loc = artifactLocation(uri, component, version);
  if (!loc.ok) throw validationError(loc.reason, 'uri');
  await ctx.artifacts.write(loc.relPath, req);
  sendJson(res, 200, { uri, path: loc.relPath, digest: await ctx.artifacts.digest(loc.relPath) });
}

function download(ctx: CloudContext, req: IncomingMessage, res: ServerResponse, url: URL): void {
  const path = url.searchParams.get('path') ?? '';
  const expires = Number(url.searchParams.get('expires'));
  const signature = url.searchParams.get('signature') ?? '';
  if (!ctx.artifacts.verify(path, expires, signature, ctx.now()))
    throw new ApiError('AccessDeniedException', 403, 'the artifact URL is invalid or has expired');
  if (!ctx.artifacts.exists(path)) throw notFound('the artifact no longer exists', path, 'artifact');
  const size = ctx.artifacts.size(path);
  const range = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
  if (range) {
    const start = Number(range[1]);
    const end = range[2] === '' ? size - 1 : Math.min(Number(range[2]), size - 1);
    if (start >= size || start > end) {
      res.writeHead(416, { 'content-range': `bytes */${size}` });
      res.end();
      return;
    }
    res.writeHead(206, {
      'content-type': 'application/octet-stream',
      'content-length': String(end - start + 1),
      'content-range': `bytes ${start}-${end}/${size}`,
      'accept-ranges': 'bytes',
    });
    ctx.artifacts.read(path, { start, end }).pipe(res);
    return;
  }
  res.writeHead(200, {
    'content-type': 'application/octet-stream',
    'content-length': String(size),
    'accept-ranges': 'bytes',
  });
  ctx.artifacts.read(path).pipe(res);
}

/** The local artifact routes, served before the Greengrass API routes. */
export function artifactRawHandler(ctx: CloudContext): RawHandler {
  return async (req, res, url) => {
    if (!url.pathname.startsWith('/tendril/artifacts')) return false;
    try {
      if (req.method === 'PUT' && url.pathname === '/tendril/artifacts') await upload(ctx, req, res, url);
      else if (req.method === 'GET' && url.pathname === '/tendril/artifacts/download')
        download(ctx, req, res, url);
      else
        throw validationError(`no route for ${req.method} ${url.pathname}`, undefined, 'UNKNOWN_OPERATION');
    } catch (e) {
      if (!(e instanceof ApiError)) throw e;
      req.resume();
      sendError(res, e);
    }
    return true;
  };
}
