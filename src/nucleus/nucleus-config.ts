// Reading the nucleus's own configuration out of the config tree: which service is the nucleus,
// and its keys with the spec's defaults [CF-26..CF-52].
import { readFileSync } from 'node:fs';
import { Topics, type Configuration, type JsonObject, type JsonValue } from '../config/index.js';

export const DEFAULT_NUCLEUS_NAME = 'aws.greengrass.Nucleus';

/** The running Tendril's version: its installation's package.json (src/ and dist/ sit beside it). */
export const TENDRIL_VERSION: string = (() => {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
      version?: unknown;
    };
    return typeof pkg.version === 'string' ? pkg.version : '0.0.0';
  } catch {
    return '0.0.0';
  }
})();

/** Services that are bookkeeping nodes of the nucleus, never components to run. */
const RESERVED = new Set([
  '_authentication_tokens',
  'deploymentservice',
  'fleetstatusservice',
  'telemetryagent',
  'aws.greengrass.tokenexchangeservice', // served by the nucleus itself (tes-wiring.ts)
]);

function isMap(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function getCI(map: JsonObject | undefined, key: string): JsonValue | undefined {
  if (!map) return undefined;
  const k = Object.keys(map).find((x) => x.toLowerCase() === key.toLowerCase());
  return k === undefined ? undefined : map[k];
}

/** `aws.greengrass.Nucleus` when present, else the service whose componentType is NUCLEUS [CF-26 intro]. */
export function nucleusServiceName(services: JsonObject): string {
  // a deployed tendril.Nucleus (self-update) does not move the nucleus's configuration away from
  // aws.greengrass.Nucleus, which setup and the Java nucleus create
  if (isMap(services[DEFAULT_NUCLEUS_NAME])) return DEFAULT_NUCLEUS_NAME;
  for (const [name, def] of Object.entries(services)) {
    if (isMap(def) && String(getCI(def, 'componentType') ?? '').toUpperCase() === 'NUCLEUS') return name;
  }
  return DEFAULT_NUCLEUS_NAME;
}

export interface NucleusSettings {
  nucleusName: string;
  thingName: string;
  awsRegion: string;
  rootCaPath: string;
  ipcSocketPath?: string;
  runWithDefault: { posixUser?: string; posixShell: string; systemResourceLimits?: JsonObject };
  logging: JsonObject;
  interpolateComponentConfiguration: boolean;
  platformOverride: Record<string, string>;
  /** [CF-40] `networkProxy`, when it names a proxy URL. */
  networkProxy?: { url: string; username?: string; password?: string; noProxyAddresses?: string };
}

function str(v: JsonValue | undefined, dflt = ''): string {
  return v === undefined || v === null ? dflt : String(v);
}

/**
 * `nucleusServiceName` read off the config tree: only each service's `componentType` is looked at,
 * rather than copying every service out of the tree (settings are read for each component started).
 */
function nucleusServiceNameIn(config: Configuration): string {
  const services = config.findTopics(['services']);
  if (!services) return DEFAULT_NUCLEUS_NAME;
  const named = services.child(DEFAULT_NUCLEUS_NAME);
  if (named instanceof Topics && named.name === DEFAULT_NUCLEUS_NAME) return DEFAULT_NUCLEUS_NAME;
  for (const def of services.children()) {
    if (!(def instanceof Topics)) continue;
    if (String(def.child('componentType')?.toJson() ?? '').toUpperCase() === 'NUCLEUS') return def.name;
  }
  return DEFAULT_NUCLEUS_NAME;
}

export function readNucleusSettings(config: Configuration): NucleusSettings {
  const system = config.toMap(['system']);
  const nucleusName = nucleusServiceNameIn(config);
  // the nucleus's configuration only (case-insensitive, as getCI), {} when it is not a map
  const conf = config.toMap(['services', nucleusName, 'configuration']);
  const rwd = isMap(getCI(conf, 'runWithDefault')) ? (getCI(conf, 'runWithDefault') as JsonObject) : {};
  const limits = getCI(rwd, 'systemResourceLimits');
  const np = getCI(conf, 'networkProxy');
  const proxy = isMap(np) ? getCI(np, 'proxy') : undefined;
  const proxyUrl = isMap(proxy) ? str(getCI(proxy, 'url')) : '';
  const override = getCI(conf, 'platformOverride');
  return {
    nucleusName,
    thingName: str(getCI(system, 'thingName')),
    awsRegion: str(getCI(conf, 'awsRegion')) || 'us-east-1',
    rootCaPath: str(getCI(system, 'rootCaPath')),
    ipcSocketPath: getCI(system, 'ipcSocketPath') ? str(getCI(system, 'ipcSocketPath')) : undefined,
    runWithDefault: {
      posixUser: getCI(rwd, 'posixUser') ? str(getCI(rwd, 'posixUser')) : undefined,
      posixShell: str(getCI(rwd, 'posixShell'), 'sh') || 'sh',
      systemResourceLimits: isMap(limits) ? limits : undefined,
    },
    logging: isMap(getCI(conf, 'logging')) ? (getCI(conf, 'logging') as JsonObject) : {},
    interpolateComponentConfiguration: String(getCI(conf, 'interpolateComponentConfiguration')) === 'true',
    platformOverride: isMap(override)
      ? Object.fromEntries(Object.entries(override).map(([k, v]) => [k, String(v)]))
      : {},
    networkProxy:
      proxyUrl && isMap(proxy) && isMap(np)
        ? {
            url: proxyUrl,
            username: str(getCI(proxy, 'username')) || undefined,
            password: str(getCI(proxy, 'password')) || undefined,
            noProxyAddresses: str(getCI(np, 'noProxyAddresses')) || undefined,
          }
        : undefined,
  };
}

/**
 * The components the nucleus runs: services with a lifecycle, minus the nucleus itself and the
 * bookkeeping nodes. `main` is included when it has a lifecycle (the Java nucleus allows that).
 */
export function runnableServices(services: JsonObject, nucleusName: string): Record<string, JsonObject> {
  const out: Record<string, JsonObject> = {};
  for (const [name, def] of Object.entries(services)) {
    if (!isMap(def) || name.startsWith('_') || RESERVED.has(name.toLowerCase())) continue;
    if (name.toLowerCase() === nucleusName.toLowerCase()) continue;
    const type = String(getCI(def, 'componentType') ?? '').toUpperCase();
    if (type === 'PLUGIN' || type === 'LAMBDA' || type === 'NUCLEUS') continue;
    if (name === 'main' && !isMap(getCI(def, 'lifecycle'))) continue;
    out[name] = def;
  }
  return out;
}
