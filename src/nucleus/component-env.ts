// The environment a component's steps start from, before its own setenv layers [LC-71 steps 1-3,
// CF-54]: the nucleus's environment, PATH completed, the component's IPC token (also its token for
// the token exchange service [CL-58]), the root CA, the proxy variables when a network proxy is
// configured [CF-40], and the global setenv (region, thing name, version, IPC socket paths, then the
// config's root setenv, where the TES URI AWS_CONTAINER_CREDENTIALS_FULL_URI lives [CL-58]).
import type { NucleusSettings } from './nucleus-config.js';
import { TENDRIL_VERSION } from './nucleus-config.js';

export interface ComponentEnvInput {
  settings: NucleusSettings;
  /** The component's SVCUID [CF-80, CF-81]. */
  authToken: string;
  /** Where the nucleus listens, and the path a component should use (relative for long roots) [CF-78]. */
  socketPath: string;
  socketPathForComponent: string;
  /** Root `setenv.*` from the config tree. */
  globalSetenv: Record<string, unknown>;
  base?: NodeJS.ProcessEnv;
}

const REQUIRED_PATH = ['/bin', '/usr/bin', '/sbin', '/usr/sbin'];

export function completePath(path: string | undefined): string {
  const parts = (path ?? '').split(':').filter(Boolean);
  for (const p of REQUIRED_PATH) if (!parts.includes(p)) parts.push(p);
  return parts.join(':');
}

/** `http://user:pass@host:port` of the proxy URL with the configured credentials [LC-71]. */
export function proxyEnvUrl(p: NonNullable<NucleusSettings['networkProxy']>): string {
  try {
    const u = new URL(p.url);
    if (p.username) u.username = encodeURIComponent(p.username);
    if (p.password) u.password = encodeURIComponent(p.password);
    return u.href.replace(/\/$/, '');
  } catch {
    return p.url;
  }
}

/** The proxy variables of LC-71 step 2; loopback stays direct, so the TES URI is reached without it. */
export function proxyEnv(settings: NucleusSettings): Record<string, string> {
  const p = settings.networkProxy;
  if (!p) return {};
  const url = proxyEnvUrl(p);
  const noProxy = ['localhost', '127.0.0.1', ...(p.noProxyAddresses ?? '').split(',')]
    .map((a) => a.trim())
    .filter((a, i, all) => a !== '' && all.indexOf(a) === i)
    .join(',');
  const env: Record<string, string> = {};
  for (const k of ['HTTP_PROXY', 'HTTPS_PROXY', 'ALL_PROXY']) env[k] = env[k.toLowerCase()] = url;
  env.NO_PROXY = env.no_proxy = noProxy;
  return env;
}

// process.env makes new strings at every read, so each component's environment (kept for its
// lifetime) held its own copy of every value: a value equal to the one last read under its name is
// that same string instead.
const lastRead = new Map<string, string>();
function oneCopy(name: string, value: string): string {
  const seen = lastRead.get(name);
  if (seen === value) return seen;
  lastRead.set(name, value);
  return value;
}

export function componentBaseEnv(input: ComponentEnvInput): Record<string, string> {
  // Built as a Map and made an object at once: an object that grows key by key past a dozen
  // properties is a hash table, ~3 KB for a 70-variable environment, against ~0.5 KB made at once,
  // and each component keeps its environment for its lifetime. Same keys, values and order.
  const env = new Map<string, string>();
  for (const [k, v] of Object.entries(input.base ?? process.env))
    if (v !== undefined) env.set(k, oneCopy(k, v));
  env.set('PATH', completePath(env.get('PATH')));
  env.set('SVCUID', input.authToken);
  env.set('AWS_CONTAINER_AUTHORIZATION_TOKEN', input.authToken);
  if (input.settings.rootCaPath) env.set('GG_ROOT_CA_PATH', input.settings.rootCaPath);
  for (const [k, v] of Object.entries(proxyEnv(input.settings))) env.set(k, v);
  env.set('AWS_REGION', input.settings.awsRegion);
  env.set('AWS_DEFAULT_REGION', input.settings.awsRegion);
  if (input.settings.thingName) env.set('AWS_IOT_THING_NAME', input.settings.thingName);
  env.set('GGC_VERSION', TENDRIL_VERSION);
  env.set('AWS_GG_NUCLEUS_DOMAIN_SOCKET_FILEPATH', input.socketPath);
  env.set('AWS_GG_NUCLEUS_DOMAIN_SOCKET_FILEPATH_FOR_COMPONENT', input.socketPathForComponent);
  for (const [k, v] of Object.entries(input.globalSetenv)) {
    if (v !== null && v !== undefined && typeof v !== 'object') env.set(k, String(v));
  }
  return Object.fromEntries(env);
}
