// GetConnectivityInfo [CP-36] and UpdateConnectivityInfo [CP-51] (cloud.md CL-76), with the capitalised
// JSON names of the ConnectivityInfo shape [CP-07].
import { compact, type CloudContext } from '../context.js';
import { validationError } from '../http/errors.js';
import type { Route } from '../http/router.js';
import type { ConnectivityEndpoint } from '../store/index.js';
import { isObject, optionalArray, optionalInteger, optionalString, thingName } from '../validate.js';

function parseEndpoint(v: unknown, i: number): ConnectivityEndpoint {
  const name = `ConnectivityInfo[${i}]`;
  if (!isObject(v)) throw validationError(`${name} must be an object`, name);
  return compact({
    id: optionalString(v, 'Id', {}, `${name}.Id`),
    hostAddress: optionalString(v, 'HostAddress', {}, `${name}.HostAddress`),
    portNumber: optionalInteger(v.PortNumber, `${name}.PortNumber`, 0, 65535),
    metadata: optionalString(v, 'Metadata', { min: 0 }, `${name}.Metadata`),
  });
}

export function connectivityRoutes(ctx: CloudContext): Route[] {
  return [
    {
      method: 'GET',
      path: '/greengrass/things/{thingName}/connectivityInfo',
      operation: 'GetConnectivityInfo',
      handler: ({ params }) => {
        const thing = thingName(params.thingName, 'thingName');
        const rec = ctx.store.connectivity.get(thing);
        const list = (rec?.endpoints ?? []).map((e) =>
          compact({ Id: e.id, HostAddress: e.hostAddress, PortNumber: e.portNumber, Metadata: e.metadata }),
        );
        return { status: 200, body: { ConnectivityInfo: list } };
      },
    },
    {
      method: 'PUT',
      path: '/greengrass/things/{thingName}/connectivityInfo',
      operation: 'UpdateConnectivityInfo',
      handler: ({ params, body }) => {
        const thing = thingName(params.thingName, 'thingName');
        if (body.ConnectivityInfo === undefined)
          throw validationError('ConnectivityInfo is required', 'ConnectivityInfo');
        const endpoints = optionalArray(body.ConnectivityInfo, 'ConnectivityInfo')!.map(parseEndpoint);
        const version = ctx.store.connectivity.put(thing, endpoints);
        ctx.events.emit('connectivityInfoUpdated', thing, version);
        return {
          status: 200,
          body: { Version: String(version), Message: 'Updated the connectivity information' },
        };
      },
    },
  ];
}
