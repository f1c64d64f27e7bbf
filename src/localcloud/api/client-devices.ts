// BatchAssociateClientDeviceWithCoreDevice [CP-24], BatchDisassociateClientDeviceFromCoreDevice [CP-25],
// ListClientDevicesAssociatedWithCoreDevice [CP-40] (cloud.md CL-79).
import { compact, epochSeconds, type CloudContext } from '../context.js';
import { validationError } from '../http/errors.js';
import type { Route } from '../http/router.js';
import { paginate } from '../pagination.js';
import { isObject, maxResultsParam, optionalArray, thingName } from '../validate.js';
import { requireCoreDevice } from './core-devices.js';

function entryThingNames(body: Record<string, unknown>): string[] {
  const entries = optionalArray(body.entries, 'entries', 1, 100) ?? [];
  return entries.map((e, i) => {
    if (!isObject(e)) throw validationError(`entries[${i}] must be an object`, `entries[${i}]`);
    return thingName(e.thingName, `entries[${i}].thingName`);
  });
}

export function clientDeviceRoutes(ctx: CloudContext): Route[] {
  return [
    {
      method: 'POST',
      path: '/greengrass/v2/coreDevices/{coreDeviceThingName}/associateClientDevices',
      operation: 'BatchAssociateClientDeviceWithCoreDevice',
      handler: ({ params, body }) => {
        const core = requireCoreDevice(ctx, params.coreDeviceThingName).coreDeviceThingName;
        const things = entryThingNames(body);
        const at = ctx.now();
        ctx.store.transaction(() => {
          for (const t of things) ctx.store.clientDevices.associate(core, t, at);
        });
        return { status: 200, body: { errorEntries: [] } };
      },
    },
    {
      method: 'POST',
      path: '/greengrass/v2/coreDevices/{coreDeviceThingName}/disassociateClientDevices',
      operation: 'BatchDisassociateClientDeviceFromCoreDevice',
      handler: ({ params, body }) => {
        const core = requireCoreDevice(ctx, params.coreDeviceThingName).coreDeviceThingName;
        const things = entryThingNames(body);
        const errorEntries = ctx.store.transaction(() =>
          things
            .filter((t) => !ctx.store.clientDevices.disassociate(core, t))
            .map((t) => ({
              thingName: t,
              code: 'ResourceNotFoundException',
              message: `client device ${t} is not associated with core device ${core}`,
            })),
        );
        return { status: 200, body: { errorEntries } };
      },
    },
    {
      method: 'GET',
      path: '/greengrass/v2/coreDevices/{coreDeviceThingName}/associatedClientDevices',
      operation: 'ListClientDevicesAssociatedWithCoreDevice',
      handler: ({ params, query }) => {
        const core = requireCoreDevice(ctx, params.coreDeviceThingName).coreDeviceThingName;
        const maxResults = maxResultsParam(query);
        const page = paginate(ctx.store.clientDevices.list(core), maxResults, query.get('nextToken'));
        const associatedClientDevices = page.items.map((a) => ({
          thingName: a.thingName,
          associationTimestamp: epochSeconds(a.associatedMs),
        }));
        return { status: 200, body: compact({ associatedClientDevices, nextToken: page.nextToken }) };
      },
    },
  ];
}
