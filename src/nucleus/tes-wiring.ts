// The token exchange service in the nucleus (cloud.md section 4): started with the cloud connection,
// it serves every component on localhost [CL-57..CL-60] and signs the nucleus's own S3 requests
// [CL-62]. As in the Java nucleus, `aws.greengrass.TokenExchangeService` is a service the nucleus
// provides itself: a deployment that names it (as a root or a dependency) resolves it even when the
// cloud has no recipe for it (the local cloud has none), and the lifecycle manager never runs it.
import type { ConfigStore, JsonObject, JsonValue } from '../config/index.js';
import type { ComponentCandidate, ComponentSource } from '../deployment/index.js';
import { buildPolicyIndex, resourceMatches, type PolicyIndex } from '../ipc/index.js';
import type { NetworkProxy, TesCredentials, TesServer } from '../iot/index.js';
import { parseRecipe, type Recipe } from '../recipe/index.js';

export const TES_SERVICE_NAME = 'aws.greengrass.TokenExchangeService';
/** The version offered when the deployment's source has none (the public component's latest). */
export const TES_BUILTIN_VERSION = '2.0.3';
export const CREDENTIALS_URI_VARIABLE = 'AWS_CONTAINER_CREDENTIALS_FULL_URI';
const OPERATION = 'getCredentials';

type Iot = typeof import('../iot/index.js');

const isMap = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);

function ci(map: unknown, ...keys: string[]): JsonValue | undefined {
  let cur: unknown = map;
  for (const key of keys) {
    if (!isMap(cur)) return undefined;
    const k = Object.keys(cur).find((x) => x.toLowerCase() === key.toLowerCase());
    cur = k === undefined ? undefined : cur[k];
  }
  return cur as JsonValue | undefined;
}

const str = (v: JsonValue | undefined) => (v === undefined || v === null ? '' : String(v));

let builtinRecipe: Recipe | undefined;

/** The recipe of the built-in TES: no artifacts, no lifecycle (the nucleus runs the server itself). */
export function tesBuiltinRecipe(): Recipe {
  if (builtinRecipe) return builtinRecipe;
  const r = parseRecipe(
    JSON.stringify({
      RecipeFormatVersion: '2020-01-25',
      ComponentName: TES_SERVICE_NAME,
      ComponentVersion: TES_BUILTIN_VERSION,
      ComponentDescription: 'AWS credentials for components, served by the Tendril nucleus (cloud.md CL-57).',
      ComponentPublisher: 'Tendril',
      ComponentConfiguration: { DefaultConfiguration: {} },
      Manifests: [{ Platform: { os: '*' }, Lifecycle: {} }],
    }),
  );
  if (!r.ok) throw new Error(`the built-in ${TES_SERVICE_NAME} recipe does not parse`);
  builtinRecipe = r.recipe;
  return builtinRecipe;
}

/** `source`, with the built-in TES offered when the source knows no version of it. */
export function withTokenExchangeService(source: ComponentSource, log: (m: string) => void): ComponentSource {
  return {
    listVersions: async (name: string): Promise<ComponentCandidate[]> => {
      if (name !== TES_SERVICE_NAME) return source.listVersions(name);
      let found: ComponentCandidate[] = [];
      try {
        found = await source.listVersions(name);
      } catch (e) {
        log(
          `${TES_SERVICE_NAME}: the cloud has no version (${(e as Error).message}); using the built-in one`,
        );
      }
      return found.length > 0 ? found : [{ version: TES_BUILTIN_VERSION, recipe: tesBuiltinRecipe() }];
    },
  };
}

function accessControlOf(services: JsonObject): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, def] of Object.entries(services)) {
    const ac = ci(def, 'configuration', 'accessControl');
    if (ac !== undefined) out[name] = ac;
  }
  return out;
}

/**
 * [CL-59] getCredentials on aws.greengrass.TokenExchangeService: the components' accessControl
 * policies plus the service's built-in default, which allows every component (ipc.md IPC-96).
 */
export function tesAuthorized(index: PolicyIndex, component: string): boolean {
  const byPrincipal = index.services.get(TES_SERVICE_NAME);
  for (const principal of [component, '*'])
    for (const op of [OPERATION, '*'])
      for (const p of byPrincipal?.get(principal)?.get(op) ?? [])
        if (p.resources.some((r) => resourceMatches(r, '*'))) return true;
  return false;
}

export function tesPolicyIndex(services: JsonObject): PolicyIndex {
  return buildPolicyIndex({
    ...accessControlOf(services),
    '*': {
      [TES_SERVICE_NAME]: { [`${TES_SERVICE_NAME}:default`]: { operations: [OPERATION], resources: ['*'] } },
    },
  });
}

export interface TokenExchangeInput {
  iot: Iot;
  store: ConfigStore;
  nucleusName: string;
  /** The component an SVCUID belongs to. */
  authenticate(token: string): string | undefined;
  proxy?: NetworkProxy;
  log: (msg: string) => void;
}

export interface TokenExchange {
  credentials: TesCredentials;
  readonly server: TesServer;
  stop(): Promise<void>;
}

const RETRY_RANGE = [10, 42900] as const;

/**
 * Starts the server before any component does, then records its port as `configuration.activePort`
 * [CL-57] and its URI in the root setenv [CL-58], where every component's environment picks it up.
 * A later change of `configuration.port` moves the server.
 */
export async function startTokenExchange(input: TokenExchangeInput): Promise<TokenExchange> {
  const { store, iot, log } = input;
  const tesConf = () => ci(store.config.toMap(['services']), TES_SERVICE_NAME, 'configuration');
  const retrySeconds = () => {
    const out = { ...iot.DEFAULT_CREDENTIAL_RETRY };
    for (const k of ['clientError', 'serverError', 'unknownError'] as const) {
      const raw = ci(tesConf(), 'credentialRetryInSec', k);
      if (raw === undefined || raw === null || raw === '') continue;
      const n = Number(raw);
      if (Number.isFinite(n) && n >= RETRY_RANGE[0] && n <= RETRY_RANGE[1]) out[k] = n;
      else
        log(`TES: credentialRetryInSec.${k} ${JSON.stringify(raw)} is not within 10-42900; using ${out[k]}`);
    }
    return out;
  };
  const credentials = new iot.TesCredentials({
    settings: () => {
      const system = store.config.toMap(['system']);
      const conf = ci(store.config.toMap(['services']), input.nucleusName, 'configuration');
      return {
        endpoint: str(ci(conf, 'iotCredEndpoint')),
        roleAlias: str(ci(conf, 'iotRoleAlias')),
        thingName: str(ci(system, 'thingName')),
        certificatePath: str(ci(system, 'certificateFilePath')),
        privateKeyPath: str(ci(system, 'privateKeyPath')),
        rootCaPath: str(ci(system, 'rootCaPath')),
      };
    },
    retrySeconds,
    proxy: input.proxy,
    log,
  });
  const configuredPort = (): number => {
    const raw = ci(tesConf(), 'port');
    const n = Number(raw ?? 0);
    if (Number.isInteger(n) && n >= 0 && n <= 65535) return n;
    log(`TES: configuration.port ${JSON.stringify(raw)} is not a port number; using a free port`);
    return 0;
  };
  let policies: { services: JsonObject; index: PolicyIndex } | undefined;
  const start = (port: number) =>
    iot.TesServer.start({
      port,
      credentials,
      authenticate: input.authenticate,
      authorize: (component) => {
        const services = store.config.toMap(['services']);
        if (!policies || JSON.stringify(policies.services) !== JSON.stringify(accessControlOf(services)))
          policies = { services: accessControlOf(services) as JsonObject, index: tesPolicyIndex(services) };
        return tesAuthorized(policies.index, component);
      },
      log,
    });
  const publish = (server: TesServer) => {
    store.config.set(['services', TES_SERVICE_NAME, 'configuration', 'activePort'], server.port);
    store.config.set(['setenv', CREDENTIALS_URI_VARIABLE], server.uri);
    log(`TES: serving credentials at ${server.uri}`);
  };
  let server = await start(configuredPort());
  publish(server);
  // A new `port` (a deployment's configuration update) moves the server there; components started
  // from then on get the new URI.
  let moving = Promise.resolve();
  let stopped = false;
  const move = async () => {
    const port = configuredPort();
    if (stopped || port === 0 || port === server.port) return;
    try {
      const next = await start(port);
      await server.close();
      server = next;
      publish(server);
    } catch (e) {
      log(`TES: cannot move to port ${port} (${(e as Error).message}); still on ${server.port}`);
    }
  };
  const off = store.config.onChange((_kind, node) => {
    const path = node.path().map((k) => k.toLowerCase());
    if (path.join('/') !== `services/${TES_SERVICE_NAME.toLowerCase()}/configuration/port`) return;
    setImmediate(() => {
      if (!stopped) moving = moving.then(move);
    });
  });
  return {
    credentials,
    get server() {
      return server;
    },
    stop: async () => {
      stopped = true;
      off();
      await moving;
      await server.close();
      credentials.close();
    },
  };
}

/** Without a cloud connection there is no TES: a URI left from an earlier boot is dropped. */
export function forgetTokenExchange(store: ConfigStore): void {
  if (store.config.get(['setenv', CREDENTIALS_URI_VARIABLE]) !== undefined)
    store.config.remove(['setenv', CREDENTIALS_URI_VARIABLE]);
}
