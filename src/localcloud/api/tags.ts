// ListTagsForResource [CP-47], TagResource [CP-49], UntagResource [CP-50]. Taggable: components, component
// versions, deployments and core devices of this account.
import { ARN_PATTERNS } from '../arn.js';
import type { CloudContext } from '../context.js';
import { notFound, validationError } from '../http/errors.js';
import type { Route } from '../http/router.js';
import { checkString, optionalStringMap } from '../validate.js';

const MAX_TAGS = 50;

export const TAG_KEY_RULE = { max: 128 };
export const TAG_VALUE_RULE = { min: 0, max: 256 };

/** Validates a `tags` member: key/value lengths [CP-52], no reserved `aws:` prefix, at most 50 tags. */
export function parseTags(v: unknown, name = 'tags'): Record<string, string> | undefined {
  const tags = optionalStringMap(v, name, TAG_KEY_RULE, TAG_VALUE_RULE);
  if (!tags) return undefined;
  for (const k of Object.keys(tags))
    if (k.toLowerCase().startsWith('aws:'))
      throw validationError(`${name} key ${k} uses the reserved prefix aws:`, name);
  if (Object.keys(tags).length > MAX_TAGS)
    throw validationError(`${name} may hold at most ${MAX_TAGS} tags`, name);
  return tags;
}

function resourceExists(ctx: CloudContext, arn: string): boolean {
  const parts = arn.split(':');
  if (parts[4] !== ctx.arn.accountId) return false;
  const type = parts[5];
  const rest = parts.slice(6);
  if (type === 'components') {
    if (rest.length === 1) return ctx.store.components.versions(rest[0]).length > 0;
    if (rest.length === 3 && rest[1] === 'versions')
      return ctx.store.components.get(rest[0], rest[2]) !== undefined;
    return false;
  }
  if (type === 'deployments') return rest.length === 1 && ctx.store.deployments.get(rest[0]) !== undefined;
  if (type === 'coreDevices') return rest.length === 1 && ctx.store.coreDevices.get(rest[0]) !== undefined;
  return false;
}

function requireResource(ctx: CloudContext, arn: string): string {
  if (!ARN_PATTERNS.tagResource.test(arn))
    throw validationError(
      `resourceArn must be the ARN of a component, component version, deployment or core device: ${arn}`,
      'resourceArn',
    );
  if (!resourceExists(ctx, arn)) throw notFound(`resource ${arn} does not exist`, arn, 'resource');
  return arn;
}

export function tagRoutes(ctx: CloudContext): Route[] {
  return [
    {
      method: 'GET',
      path: '/tags/{resourceArn}',
      operation: 'ListTagsForResource',
      handler: ({ params }) => {
        const arn = requireResource(ctx, params.resourceArn);
        return { status: 200, body: { tags: ctx.store.tags.get(arn) } };
      },
    },
    {
      method: 'POST',
      path: '/tags/{resourceArn}',
      operation: 'TagResource',
      handler: ({ params, body }) => {
        if (body.tags === undefined || body.tags === null) throw validationError('tags is required', 'tags');
        const tags = parseTags(body.tags)!;
        const arn = requireResource(ctx, params.resourceArn);
        ctx.store.transaction(() => {
          const merged = { ...ctx.store.tags.get(arn), ...tags };
          if (Object.keys(merged).length > MAX_TAGS)
            throw validationError(`a resource may hold at most ${MAX_TAGS} tags`, 'tags');
          ctx.store.tags.put(arn, tags);
        });
        return { status: 200, body: {} };
      },
    },
    {
      method: 'DELETE',
      path: '/tags/{resourceArn}',
      operation: 'UntagResource',
      handler: ({ params, query }) => {
        const keys = query.getAll('tagKeys');
        if (keys.length === 0) throw validationError('tagKeys is required', 'tagKeys');
        if (keys.length > 200) throw validationError('tagKeys may list at most 200 keys', 'tagKeys');
        for (const k of keys) checkString(k, 'tagKeys', TAG_KEY_RULE);
        const arn = requireResource(ctx, params.resourceArn);
        ctx.store.tags.remove(arn, keys);
        return { status: 200, body: {} };
      },
    },
  ];
}
