// ListComponents [CP-42], ListComponentVersions [CP-41], DescribeComponent [CP-32], GetComponent [CP-34],
// DeleteComponent [CP-29].
import { componentArn, componentVersionArn, parseComponentArn, parseComponentVersionArn } from '../arn.js';
import { compact, epochSeconds, type CloudContext } from '../context.js';
import { notFound } from '../http/errors.js';
import type { Route } from '../http/router.js';
import { paginate } from '../pagination.js';
import { renderRecipe } from '../recipe-document.js';
import type { ComponentVersionRecord } from '../store/index.js';
import { enumParam, maxResultsParam } from '../validate.js';

/** Validates a component-version ARN label and returns the stored version, or ResourceNotFoundException. */
export async function requireComponentVersion(
  ctx: CloudContext,
  arn: string,
): Promise<ComponentVersionRecord> {
  const parsed = parseComponentVersionArn(arn);
  await ctx.settleComponents();
  const rec =
    parsed.accountId === ctx.arn.accountId
      ? ctx.store.components.get(parsed.name, parsed.version)
      : undefined;
  if (!rec)
    throw notFound(
      `component ${parsed.name} version ${parsed.version} does not exist`,
      arn,
      'componentVersion',
    );
  return rec;
}

export function componentStatus(rec: ComponentVersionRecord) {
  return compact({ componentState: rec.state, message: rec.message, errors: rec.errors });
}

export function platformsOut(rec: ComponentVersionRecord) {
  return rec.platforms.map((p) => compact({ name: p.name, attributes: p.attributes }));
}

export function componentRoutes(ctx: CloudContext): Route[] {
  return [
    {
      method: 'GET',
      path: '/greengrass/v2/components',
      operation: 'ListComponents',
      handler: async ({ query }) => {
        const scope = enumParam(query, 'scope', ['PRIVATE', 'PUBLIC'] as const) ?? 'PRIVATE';
        const maxResults = maxResultsParam(query);
        await ctx.settleComponents();
        // PUBLIC lists AWS-provided components; an offline local cloud holds none.
        const names = scope === 'PRIVATE' ? ctx.store.components.names() : [];
        const page = paginate(names, maxResults, query.get('nextToken'));
        const components = page.items.map((name) => {
          const latest = ctx.store.components.versions(name)[0];
          return {
            arn: componentArn(ctx.arn, name),
            componentName: name,
            latestVersion: compact({
              arn: componentVersionArn(ctx.arn, name, latest.version),
              componentVersion: latest.version,
              creationTimestamp: epochSeconds(latest.createdMs),
              description: latest.description,
              publisher: latest.publisher,
              platforms: platformsOut(latest),
            }),
          };
        });
        return { status: 200, body: compact({ components, nextToken: page.nextToken }) };
      },
    },
    {
      method: 'GET',
      path: '/greengrass/v2/components/{arn}/versions',
      operation: 'ListComponentVersions',
      handler: ({ params, query }) => {
        const parsed = parseComponentArn(params.arn);
        const maxResults = maxResultsParam(query);
        const versions =
          parsed.accountId === ctx.arn.accountId ? ctx.store.components.versions(parsed.name) : [];
        if (versions.length === 0)
          throw notFound(`component ${parsed.name} does not exist`, params.arn, 'component');
        const page = paginate(versions, maxResults, query.get('nextToken'));
        const componentVersions = page.items.map((v) => ({
          componentName: v.name,
          componentVersion: v.version,
          arn: componentVersionArn(ctx.arn, v.name, v.version),
        }));
        return { status: 200, body: compact({ componentVersions, nextToken: page.nextToken }) };
      },
    },
    {
      method: 'GET',
      path: '/greengrass/v2/components/{arn}/metadata',
      operation: 'DescribeComponent',
      handler: async ({ params }) => {
        const rec = await requireComponentVersion(ctx, params.arn);
        const arn = componentVersionArn(ctx.arn, rec.name, rec.version);
        return {
          status: 200,
          body: compact({
            arn,
            componentName: rec.name,
            componentVersion: rec.version,
            creationTimestamp: epochSeconds(rec.createdMs),
            publisher: rec.publisher,
            description: rec.description,
            status: componentStatus(rec),
            platforms: platformsOut(rec),
            tags: ctx.store.tags.get(arn),
          }),
        };
      },
    },
    {
      method: 'GET',
      path: '/greengrass/v2/components/{arn}',
      operation: 'GetComponent',
      handler: async ({ params, query }) => {
        const format = enumParam(query, 'recipeOutputFormat', ['JSON', 'YAML'] as const) ?? 'JSON';
        const rec = await requireComponentVersion(ctx, params.arn);
        const recipe = Buffer.from(renderRecipe(rec.recipe, format), 'utf8').toString('base64');
        const tags = ctx.store.tags.get(componentVersionArn(ctx.arn, rec.name, rec.version));
        return { status: 200, body: { recipeOutputFormat: format, recipe, tags } };
      },
    },
    {
      method: 'DELETE',
      path: '/greengrass/v2/components/{arn}',
      operation: 'DeleteComponent',
      handler: async ({ params }) => {
        const rec = await requireComponentVersion(ctx, params.arn);
        ctx.store.transaction(() => {
          ctx.store.components.delete(rec.name, rec.version);
          ctx.store.tags.removeAll(componentVersionArn(ctx.arn, rec.name, rec.version));
          if (ctx.store.components.versions(rec.name).length === 0)
            ctx.store.tags.removeAll(componentArn(ctx.arn, rec.name));
        });
        return { status: 204 };
      },
    },
  ];
}
