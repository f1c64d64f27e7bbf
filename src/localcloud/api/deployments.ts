// CreateDeployment [CP-28], GetDeployment [CP-38], ListDeployments [CP-44], CancelDeployment [CP-26],
// DeleteDeployment [CP-31]. One deployment per target is the latest; a new one is the next revision.
import { randomUUID } from 'node:crypto';
import { ARN_PATTERNS, deploymentArn, iotJobArn, parseTargetArn } from '../arn.js';
import { compact, epochSeconds, idempotent, type CloudContext } from '../context.js';
import { conflict, notFound, validationError } from '../http/errors.js';
import type { Route } from '../http/router.js';
import { paginate } from '../pagination.js';
import type { DeploymentRecord } from '../store/index.js';
import {
  enumParam,
  maxResultsParam,
  optionalClientToken,
  optionalString,
  requiredString,
} from '../validate.js';
import { parseComponents, parseDeploymentPolicies, parseIotJobConfiguration } from './deployment-spec.js';
import { parseTags } from './tags.js';

function requireDeployment(ctx: CloudContext, id: string): DeploymentRecord {
  const d = ctx.store.deployments.get(id);
  if (!d) throw notFound(`deployment ${id} does not exist`, id, 'deployment');
  return d;
}

function checkParentTargetArn(v: string | undefined, name = 'parentTargetArn'): string | undefined {
  if (v !== undefined && !ARN_PATTERNS.thingGroup.test(v))
    throw validationError(`${name} must be an AWS IoT thing group ARN: ${v}`, name);
  return v;
}

function deploymentSummary(d: DeploymentRecord) {
  return compact({
    targetArn: d.targetArn,
    revisionId: d.revisionId,
    deploymentId: d.deploymentId,
    deploymentName: d.deploymentName,
    creationTimestamp: epochSeconds(d.createdMs),
    deploymentStatus: d.deploymentStatus,
    isLatestForTarget: d.isLatestForTarget,
    parentTargetArn: d.parentTargetArn,
  });
}

/** Every component version named must exist and be deployable. */
async function checkComponentVersions(
  ctx: CloudContext,
  components: Record<string, Record<string, unknown>>,
) {
  await ctx.settleComponents();
  for (const [name, spec] of Object.entries(components)) {
    const version = spec.componentVersion as string;
    const rec = ctx.store.components.get(name, version);
    if (!rec)
      throw notFound(
        `component ${name} version ${version} does not exist`,
        `${name}:${version}`,
        'componentVersion',
      );
    if (rec.state !== 'DEPLOYABLE')
      throw validationError(
        `component ${name} version ${version} is ${rec.state}, not DEPLOYABLE`,
        `components.${name}.componentVersion`,
      );
  }
}

export function deploymentRoutes(ctx: CloudContext): Route[] {
  return [
    {
      method: 'POST',
      path: '/greengrass/v2/deployments',
      operation: 'CreateDeployment',
      handler: async ({ body }) => {
        const targetArn = requiredString(body, 'targetArn');
        const target = parseTargetArn(targetArn);
        const deploymentName = optionalString(body, 'deploymentName', { max: 256 });
        const components = parseComponents(body.components);
        const deploymentPolicies = parseDeploymentPolicies(body.deploymentPolicies);
        const iotJobConfiguration = parseIotJobConfiguration(body.iotJobConfiguration);
        const parentTargetArn = checkParentTargetArn(optionalString(body, 'parentTargetArn'));
        const tags = parseTags(body.tags);
        const clientToken = optionalClientToken(body);
        await checkComponentVersions(ctx, components ?? {});
        let created: ReturnType<typeof ctx.store.deployments.create> | undefined;
        const result = idempotent(ctx, 'CreateDeployment', clientToken, body, () => {
          const deploymentId = randomUUID();
          // Thing groups are deployed through an IoT job (CP-63); a single thing through its shadow (CP-64).
          const iotJobId = target.kind === 'thinggroup' ? randomUUID() : undefined;
          created = ctx.store.deployments.create({
            deploymentId,
            targetArn,
            deploymentName,
            iotJobId,
            iotJobArn: iotJobId ? iotJobArn(ctx.arn, iotJobId) : undefined,
            spec: compact({ components, deploymentPolicies, iotJobConfiguration }),
            createdMs: ctx.now(),
            parentTargetArn,
          });
          if (tags) ctx.store.tags.put(deploymentArn(ctx.arn, deploymentId), tags);
          return compact({
            deploymentId,
            iotJobId: created.created.iotJobId,
            iotJobArn: created.created.iotJobArn,
          });
        });
        if (created) ctx.events.emit('deploymentCreated', created.created, created.superseded);
        return { status: 201, body: result };
      },
    },
    {
      method: 'GET',
      path: '/greengrass/v2/deployments/{deploymentId}',
      operation: 'GetDeployment',
      handler: ({ params }) => {
        const d = requireDeployment(ctx, params.deploymentId);
        return {
          status: 200,
          body: compact({
            ...deploymentSummary(d),
            iotJobId: d.iotJobId,
            iotJobArn: d.iotJobArn,
            components: d.spec.components,
            deploymentPolicies: d.spec.deploymentPolicies,
            iotJobConfiguration: d.spec.iotJobConfiguration,
            tags: ctx.store.tags.get(deploymentArn(ctx.arn, d.deploymentId)),
          }),
        };
      },
    },
    {
      method: 'GET',
      path: '/greengrass/v2/deployments',
      operation: 'ListDeployments',
      handler: ({ query }) => {
        const targetArn = query.get('targetArn') ?? undefined;
        if (targetArn !== undefined) parseTargetArn(targetArn);
        const parentTargetArn = checkParentTargetArn(query.get('parentTargetArn') ?? undefined);
        const history = enumParam(query, 'historyFilter', ['ALL', 'LATEST_ONLY'] as const) ?? 'LATEST_ONLY';
        const maxResults = maxResultsParam(query);
        const all = ctx.store.deployments.list({
          targetArn,
          parentTargetArn,
          latestOnly: history === 'LATEST_ONLY',
        });
        const page = paginate(all, maxResults, query.get('nextToken'));
        return {
          status: 200,
          body: compact({ deployments: page.items.map(deploymentSummary), nextToken: page.nextToken }),
        };
      },
    },
    {
      method: 'POST',
      path: '/greengrass/v2/deployments/{deploymentId}/cancel',
      operation: 'CancelDeployment',
      handler: ({ params }) => {
        const d = requireDeployment(ctx, params.deploymentId);
        if (d.deploymentStatus !== 'ACTIVE')
          throw conflict(
            `deployment ${d.deploymentId} is ${d.deploymentStatus}; only an ACTIVE deployment can be canceled`,
            d.deploymentId,
            'deployment',
          );
        ctx.store.deployments.setStatus(d.deploymentId, 'CANCELED');
        ctx.events.emit('deploymentCanceled', requireDeployment(ctx, d.deploymentId));
        return { status: 200, body: { message: `Canceled deployment ${d.deploymentId}` } };
      },
    },
    {
      method: 'DELETE',
      path: '/greengrass/v2/deployments/{deploymentId}',
      operation: 'DeleteDeployment',
      handler: ({ params }) => {
        const d = requireDeployment(ctx, params.deploymentId);
        if (d.deploymentStatus === 'ACTIVE')
          throw conflict(
            `deployment ${d.deploymentId} is ACTIVE; cancel it before deleting it`,
            d.deploymentId,
            'deployment',
          );
        ctx.store.transaction(() => {
          ctx.store.deployments.delete(d.deploymentId);
          ctx.store.tags.removeAll(deploymentArn(ctx.arn, d.deploymentId));
        });
        return { status: 204 };
      },
    },
  ];
}
