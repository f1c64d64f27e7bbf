// GetCoreDevice [CP-37], ListCoreDevices [CP-43], DeleteCoreDevice [CP-30], ListInstalledComponents [CP-46],
// ListEffectiveDeployments [CP-45]. The data comes from what devices report (store/core-devices.ts).
import { checkThingGroupArn, coreDeviceArn } from '../arn.js';
import { compact, epochSeconds, type CloudContext } from '../context.js';
import { notFound } from '../http/errors.js';
import type { Route } from '../http/router.js';
import { paginate } from '../pagination.js';
import type { CoreDeviceRecord } from '../store/index.js';
import { checkString, enumParam, maxResultsParam, thingName } from '../validate.js';

/** Validates the path label and returns the device, or ResourceNotFoundException. */
export function requireCoreDevice(ctx: CloudContext, label: string | undefined): CoreDeviceRecord {
  const thing = thingName(label, 'coreDeviceThingName');
  const device = ctx.store.coreDevices.get(thing);
  if (!device) throw notFound(`core device ${thing} does not exist`, thing, 'coreDevice');
  return device;
}

function coreDeviceSummary(d: CoreDeviceRecord) {
  return compact({
    coreDeviceThingName: d.coreDeviceThingName,
    status: d.status,
    lastStatusUpdateTimestamp: epochSeconds(d.lastStatusUpdateMs),
    platform: d.platform,
    architecture: d.architecture,
    runtime: d.runtime,
  });
}

export function coreDeviceRoutes(ctx: CloudContext): Route[] {
  return [
    {
      method: 'GET',
      path: '/greengrass/v2/coreDevices/{coreDeviceThingName}',
      operation: 'GetCoreDevice',
      handler: ({ params }) => {
        const d = requireCoreDevice(ctx, params.coreDeviceThingName);
        const tags = ctx.store.tags.get(coreDeviceArn(ctx.arn, d.coreDeviceThingName));
        return { status: 200, body: { ...coreDeviceSummary(d), coreVersion: d.coreVersion, tags } };
      },
    },
    {
      method: 'GET',
      path: '/greengrass/v2/coreDevices',
      operation: 'ListCoreDevices',
      handler: ({ query }) => {
        const groupArn = query.get('thingGroupArn');
        const runtime = query.get('runtime');
        const filter = {
          thingGroupName: groupArn === null ? undefined : checkThingGroupArn(groupArn),
          status: enumParam(query, 'status', ['HEALTHY', 'UNHEALTHY'] as const),
          runtime: runtime === null ? undefined : checkString(runtime, 'runtime', { max: 255 }),
        };
        const maxResults = maxResultsParam(query);
        const page = paginate(ctx.store.coreDevices.list(filter), maxResults, query.get('nextToken'));
        return {
          status: 200,
          body: compact({ coreDevices: page.items.map(coreDeviceSummary), nextToken: page.nextToken }),
        };
      },
    },
    {
      method: 'DELETE',
      path: '/greengrass/v2/coreDevices/{coreDeviceThingName}',
      operation: 'DeleteCoreDevice',
      handler: ({ params }) => {
        const d = requireCoreDevice(ctx, params.coreDeviceThingName);
        ctx.store.transaction(() => {
          ctx.store.coreDevices.delete(d.coreDeviceThingName);
          ctx.store.tags.removeAll(coreDeviceArn(ctx.arn, d.coreDeviceThingName));
        });
        return { status: 204 };
      },
    },
    {
      method: 'GET',
      path: '/greengrass/v2/coreDevices/{coreDeviceThingName}/installedComponents',
      operation: 'ListInstalledComponents',
      handler: ({ params, query }) => {
        const d = requireCoreDevice(ctx, params.coreDeviceThingName);
        const topology = enumParam(query, 'topologyFilter', ['ALL', 'ROOT'] as const) ?? 'ROOT';
        const maxResults = maxResultsParam(query);
        const all = ctx.store.coreDevices.installedComponents(d.coreDeviceThingName, topology === 'ROOT');
        const page = paginate(all, maxResults, query.get('nextToken'));
        const installedComponents = page.items.map((c) =>
          compact({
            componentName: c.componentName,
            componentVersion: c.componentVersion,
            lifecycleState: c.lifecycleState,
            lifecycleStateDetails: c.lifecycleStateDetails,
            isRoot: c.isRoot,
            lastStatusChangeTimestamp:
              c.lastStatusChangeMs === undefined ? undefined : epochSeconds(c.lastStatusChangeMs),
            lastReportedTimestamp:
              c.lastReportedMs === undefined ? undefined : epochSeconds(c.lastReportedMs),
            lastInstallationSource: c.lastInstallationSource,
            lifecycleStatusCodes: c.lifecycleStatusCodes,
          }),
        );
        return { status: 200, body: compact({ installedComponents, nextToken: page.nextToken }) };
      },
    },
    {
      method: 'GET',
      path: '/greengrass/v2/coreDevices/{coreDeviceThingName}/effectiveDeployments',
      operation: 'ListEffectiveDeployments',
      handler: ({ params, query }) => {
        const d = requireCoreDevice(ctx, params.coreDeviceThingName);
        const maxResults = maxResultsParam(query);
        const all = ctx.store.coreDevices.effectiveDeployments(d.coreDeviceThingName);
        const page = paginate(all, maxResults, query.get('nextToken'));
        const effectiveDeployments = page.items.map((e) =>
          compact({
            deploymentId: e.deploymentId,
            deploymentName: e.deploymentName,
            iotJobId: e.iotJobId,
            iotJobArn: e.iotJobArn,
            description: e.description,
            targetArn: e.targetArn,
            coreDeviceExecutionStatus: e.coreDeviceExecutionStatus,
            reason: e.reason,
            creationTimestamp: epochSeconds(e.createdMs),
            modifiedTimestamp: epochSeconds(e.modifiedMs),
            statusDetails: e.statusDetails,
          }),
        );
        return { status: 200, body: compact({ effectiveDeployments, nextToken: page.nextToken }) };
      },
    },
  ];
}
