// The target `services` subtree of a deployment (DefaultDeploymentTask "resolve config" [DP-42]):
// one `services.<name>` per resolved component [RC-28] with its MERGE/RESET configuration [CF-24],
// `main`'s dependencies = the root components [RC-29], and the group bookkeeping under
// `services.DeploymentService` [CF-57, DP-70]. Pure over plain data.
import { resolveComponentConfiguration, type JsonObject, type JsonValue } from '../config/index.js';
import {
  mergeRunWith,
  previousVersionFor,
  recipeToServiceConfig,
  type ComponentRef,
  type DevicePlatform,
  type Json,
  type JsonObject as RecipeJsonObject,
  type RunWith,
} from '../recipe/index.js';
import type { DeploymentDocument } from './document-types.js';
import type { ResolvedComponent } from './resolve.js';
import { DeploymentError } from './result.js';

export const DEPLOYMENT_SERVICE = 'DeploymentService';
export const MAIN_SERVICE = 'main';
/** Services a deployment never removes or rewrites as components. */
export const DEFAULT_BUILTIN_SERVICES: readonly string[] = [MAIN_SERVICE, DEPLOYMENT_SERVICE];

export interface TargetServicesInput {
  doc: DeploymentDocument;
  /** `services` as it is now. */
  current: JsonObject;
  resolved: Readonly<Record<string, ResolvedComponent>>;
  /** Every group's roots after this deployment (name -> version). */
  groupRoots: Readonly<Record<string, Readonly<Record<string, string>>>>;
  platform: DevicePlatform;
  rootPath: string;
  thingName?: string;
  /** [CF-24 step 4] the configuration timestamp. */
  configurationTimestamp: number;
  /** modtime of `services.<name>.configuration.<path>` now, for newer-wins MERGE. */
  configurationModtime?: (component: string, path: readonly string[]) => number | undefined;
  builtinServices?: readonly string[];
}

export interface TargetServices {
  /** The services to write with the deployment merge tree (the builtins' whole definitions included). */
  services: JsonObject;
  /** Components the deployment removes. */
  removed: string[];
  warnings: string[];
}

const asMap = (v: JsonValue | undefined): JsonObject =>
  v !== null && typeof v === 'object' && !Array.isArray(v) ? v : {};

/** Throws DeploymentError (nothing written yet) when a recipe cannot become a service. */
export function computeTargetServices(input: TargetServicesInput): TargetServices {
  const { doc, current, resolved } = input;
  const builtins = input.builtinServices ?? DEFAULT_BUILTIN_SERVICES;
  const warnings: string[] = [];
  const services: JsonObject = {};

  // [DP-23] a configuration update applies to the deployment group's roots after it: for a local
  // deployment that includes roots added earlier and only reconfigured now (`--update-config`
  // without `--merge`), as the reference's local documents list the group's existing roots
  const groupRoots = input.groupRoots[doc.groupName] ?? {};
  const isRoot = (name: string) => doc.rootComponents[name] !== undefined || groupRoots[name] !== undefined;
  const configs: Record<string, JsonObject> = {};
  for (const [name, c] of Object.entries(resolved)) {
    const type = c.recipe.componentType;
    if (type === 'aws.greengrass.lambda' || type === 'aws.greengrass.plugin')
      throw new DeploymentError(
        `${name}@${c.version}: component type ${type} is not supported by Tendril`,
        ['UNSUPPORTED_COMPONENT_TYPE'],
        ['COMPONENT_RECIPE_ERROR'],
      );
    const existing = asMap(current[name]);
    try {
      const r = resolveComponentConfiguration({
        current: name in current ? asMap(existing.configuration) : undefined,
        currentModtime: input.configurationModtime && ((p) => input.configurationModtime?.(name, p)),
        defaults: c.recipe.defaultConfiguration as JsonObject | undefined,
        update: isRoot(name) ? doc.configurationUpdates[name] : undefined,
        timestamp: input.configurationTimestamp,
      });
      for (const rr of r.rejectedResets) warnings.push(`${name}: RESET ${rr.pointer} skipped: ${rr.reason}`);
      configs[name] = r.configuration;
    } catch (e) {
      throw new DeploymentError(
        `${name}: invalid configuration update: ${(e as Error).message}`,
        ['INVALID_COMPONENT_CONFIGURATION'],
        ['REQUEST_ERROR'],
        { cause: e },
      );
    }
  }

  for (const [name, c] of Object.entries(resolved)) {
    const dependencies: Record<string, ComponentRef> = {};
    for (const dep of Object.keys(c.recipe.componentDependencies)) {
      const d = resolved[dep];
      if (d)
        dependencies[dep] = {
          name: dep,
          version: d.version,
          configuration: configs[dep] as RecipeJsonObject,
        };
    }
    const r = recipeToServiceConfig(c.recipe, input.platform, {
      rootPath: input.rootPath,
      thingName: input.thingName,
      configuration: configs[name] as RecipeJsonObject,
      dependencies,
    });
    if (!r.ok)
      throw new DeploymentError(`${name}@${c.version}: ${r.message}`, [r.error], ['COMPONENT_RECIPE_ERROR']);
    warnings.push(...r.warnings.map((w) => `${name}: ${w}`));
    const existing = asMap(current[name]);
    const svc: JsonObject = { ...(r.config as unknown as JsonObject) };
    const prev = previousVersionFor(
      name in current
        ? {
            version: typeof existing.version === 'string' ? existing.version : undefined,
            previousVersion:
              typeof existing.previousVersion === 'string' ? existing.previousVersion : undefined,
          }
        : undefined,
      c.version,
    );
    if (prev !== undefined) svc.previousVersion = prev;
    const runWith = mergeRunWith(
      existing.runWith as RunWith | undefined,
      doc.rootComponents[name] !== undefined
        ? (doc.runWith[name] as Record<string, Json | undefined> | undefined)
        : undefined,
    );
    if (Object.keys(runWith).length > 0) svc.runWith = runWith as JsonObject;
    if (existing.setenv !== undefined) svc.setenv = existing.setenv;
    services[name] = svc;
  }

  const removed = Object.keys(current).filter(
    (n) => !(n in resolved) && !builtins.includes(n) && typeof asMap(current[n]).version === 'string',
  );

  // [RC-29] main depends on every root, and keeps its dependencies on builtins.
  const main = withoutRuntime(asMap(current[MAIN_SERVICE]));
  const roots = new Set<string>();
  for (const g of Object.values(input.groupRoots)) for (const n of Object.keys(g)) roots.add(n);
  const kept = (Array.isArray(main.dependencies) ? main.dependencies : []).filter(
    (d): d is string => typeof d === 'string' && builtins.includes(d.split(':')[0]),
  );
  main.dependencies = [...kept, ...[...roots].sort()];
  services[MAIN_SERVICE] = main;

  services[DEPLOYMENT_SERVICE] = bookkeeping(input, roots);
  return { services, removed, warnings };
}

function withoutRuntime(svc: JsonObject): JsonObject {
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(svc)) if (k !== 'runtime' && k !== '_private') out[k] = v;
  return out;
}

/** [CF-57, DP-70] GroupToRootComponents, GroupToLastDeployment and ComponentToGroups. */
function bookkeeping(input: TargetServicesInput, roots: Set<string>): JsonObject {
  const { doc } = input;
  const ds = withoutRuntime(asMap(input.current[DEPLOYMENT_SERVICE]));
  const g2r: JsonObject = {};
  for (const [group, comps] of Object.entries(input.groupRoots)) {
    if (Object.keys(comps).length === 0) continue;
    const entry: JsonObject = {};
    const old = asMap(asMap(ds.GroupToRootComponents)[group]);
    for (const [name, version] of Object.entries(comps)) {
      entry[name] =
        group === doc.groupName
          ? {
              version,
              groupConfigName: doc.groupName,
              groupConfigArn: doc.configurationArn ?? doc.deploymentId,
            }
          : (old[name] ?? { version });
    }
    g2r[group] = entry;
  }
  ds.GroupToRootComponents = g2r;
  const last = asMap(ds.GroupToLastDeployment);
  ds.GroupToLastDeployment = {
    ...last,
    [doc.groupName]: { timestamp: doc.timestamp, configArn: doc.configurationArn ?? doc.deploymentId },
  };
  const c2g: JsonObject = {};
  for (const name of roots) {
    const groups: JsonObject = {};
    for (const [group, comps] of Object.entries(input.groupRoots))
      if (name in comps)
        groups[group] = group === doc.groupName ? (doc.configurationArn ?? doc.deploymentId) : group;
    c2g[name] = groups;
  }
  ds.ComponentToGroups = c2g;
  return ds;
}

/** Every group's roots recorded in `services.DeploymentService.GroupToRootComponents` (name -> version). */
export function currentGroupRoots(current: JsonObject): Record<string, Record<string, string>> {
  const out: Record<string, Record<string, string>> = {};
  const g2r = asMap(asMap(current[DEPLOYMENT_SERVICE]).GroupToRootComponents);
  for (const [group, comps] of Object.entries(g2r)) {
    const roots: Record<string, string> = {};
    for (const [name, v] of Object.entries(asMap(comps))) {
      const version = asMap(v).version;
      if (typeof version === 'string') roots[name] = version;
    }
    out[group] = roots;
  }
  return out;
}
