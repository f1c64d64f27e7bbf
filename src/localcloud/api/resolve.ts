// ResolveComponentCandidates [CP-48] (cloud.md CL-24..CL-26): for each candidate, the greatest DEPLOYABLE
// version that satisfies every version requirement and claims the device's platform.
import { componentVersionArn } from '../arn.js';
import type { CloudContext } from '../context.js';
import { notFound, validationError } from '../http/errors.js';
import type { Route } from '../http/router.js';
import { manifestMatches, satisfiesRequirement, versionRequirementProblem } from '../../recipe/index.js';
import type { ComponentVersionRecord } from '../store/index.js';
import {
  isObject,
  optionalArray,
  optionalObject,
  optionalString,
  optionalStringMap,
  requiredString,
} from '../validate.js';

interface Candidate {
  componentName: string;
  componentVersion?: string;
  versionRequirements: Record<string, string>;
}

function parseCandidates(body: Record<string, unknown>): Candidate[] {
  const list = optionalArray(body.componentCandidates, 'componentCandidates', 1);
  if (!list) throw validationError('componentCandidates is required', 'componentCandidates');
  return list.map((c, i) => {
    const f = `componentCandidates[${i}]`;
    if (!isObject(c)) throw validationError(`${f} must be an object`, f);
    const requirements = optionalStringMap(c.versionRequirements, `${f}.versionRequirements`) ?? {};
    for (const [by, range] of Object.entries(requirements))
      if (versionRequirementProblem(range) !== undefined)
        throw validationError(
          `${f}.versionRequirements.${by} ${versionRequirementProblem(range)}`,
          `${f}.versionRequirements`,
        );
    return {
      componentName: requiredString(c, 'componentName', { max: 128 }, `${f}.componentName`),
      componentVersion: optionalString(c, 'componentVersion', { max: 64 }, `${f}.componentVersion`),
      versionRequirements: requirements,
    };
  });
}

function claimsPlatform(rec: ComponentVersionRecord, attributes: Record<string, string>): boolean {
  return rec.platforms.length === 0 || rec.platforms.some((p) => manifestMatches(p.attributes, attributes));
}

export function resolveRoutes(ctx: CloudContext): Route[] {
  return [
    {
      method: 'POST',
      path: '/greengrass/v2/resolveComponentCandidates',
      operation: 'ResolveComponentCandidates',
      handler: async ({ body }) => {
        const platform = optionalObject(body.platform, 'platform') ?? {};
        optionalString(platform, 'name', {}, 'platform.name');
        const attributes = optionalStringMap(platform.attributes, 'platform.attributes') ?? {};
        const candidates = parseCandidates(body);
        await ctx.settleComponents();
        const resolvedComponentVersions = candidates.map((c) => {
          const usable = ctx.store.components
            .versions(c.componentName)
            .filter((v) => v.state === 'DEPLOYABLE')
            .filter((v) =>
              Object.values(c.versionRequirements).every((r) => satisfiesRequirement(v.version, r)),
            );
          const requirements = JSON.stringify(c.versionRequirements);
          if (usable.length === 0)
            throw notFound(
              `Component ${c.componentName} has no usable version satisfying the requirements ${requirements}`,
              c.componentName,
              'component',
            );
          const chosen = usable.find((v) => claimsPlatform(v, attributes));
          if (!chosen)
            throw notFound(
              `Component ${c.componentName}: none of the versions satisfying ${requirements} claim platform ${JSON.stringify(attributes)}`,
              c.componentName,
              'component',
            );
          return {
            arn: componentVersionArn(ctx.arn, chosen.name, chosen.version),
            componentName: chosen.name,
            componentVersion: chosen.version,
            recipe: Buffer.from(JSON.stringify(chosen.recipe), 'utf8').toString('base64'),
            vendorGuidance: 'ACTIVE',
          };
        });
        return { status: 200, body: { resolvedComponentVersions } };
      },
    },
  ];
}
