// Recipe -> `services.<name>` configuration [RC-28], plus the pure runWith and previousVersion rules.
import { isObject } from './fields.js';
import { interpolateTree, type ComponentRef } from './interpolate.js';
import { selectLifecycle } from './lifecycle-selection.js';
import { selectManifest } from './platform.js';
import type {
  ComponentType,
  DevicePlatform,
  Json,
  JsonObject,
  Recipe,
  RunWith,
  ServiceConfig,
} from './types.js';

const SERVICE_COMPONENT_TYPES: Record<ComponentType, ServiceConfig['componentType']> = {
  'aws.greengrass.generic': 'GENERIC',
  'aws.greengrass.lambda': 'LAMBDA',
  'aws.greengrass.plugin': 'PLUGIN',
  'aws.greengrass.nucleus': 'NUCLEUS',
};

export function serviceComponentType(t: ComponentType): ServiceConfig['componentType'] {
  return SERVICE_COMPONENT_TYPES[t];
}

/** `name:HARD` / `name:SOFT` for each recipe dependency, in recipe order. */
export function serviceDependencies(recipe: Recipe): string[] {
  return Object.entries(recipe.componentDependencies).map(([n, d]) => `${n}:${d.dependencyType}`);
}

export interface ServiceConfigOptions {
  rootPath: string;
  thingName?: string;
  /**
   * The component's resolved configuration (after MERGE/RESET, config.md); defaults to the recipe's
   * DefaultConfiguration. `{configuration:/ptr}` in the lifecycle reads this [RC-31].
   */
  configuration?: JsonObject;
  /** Resolved direct dependencies, for `{Dep:namespace:key}` placeholders. */
  dependencies?: Record<string, ComponentRef>;
  /** Nucleus `interpolateComponentConfiguration` (default false) [RC-33]. */
  interpolateComponentConfiguration?: boolean;
}

export type ServiceConfigResult =
  | { ok: true; config: ServiceConfig; manifestIndex: number; warnings: string[] }
  | { ok: false; error: 'RECIPE_MISSING_MANIFEST' | 'NO_MATCHING_PLATFORM'; message: string };

/**
 * Builds `services.<name>` for a recipe on a device: select the manifest [RC-22], its lifecycle
 * [RC-25, RC-26], interpolate it [RC-32] and, when enabled, the configuration's system variables
 * [RC-33]. `previousVersion` and `runWith` depend on the existing tree: see previousVersionFor and
 * mergeRunWith.
 */
export function recipeToServiceConfig(
  recipe: Recipe,
  device: DevicePlatform,
  opts: ServiceConfigOptions,
): ServiceConfigResult {
  const sel = selectManifest(recipe, device);
  if (!sel.ok) return sel;
  const { lifecycle: selected, warnings } = selectLifecycle(recipe, sel.manifest);
  const configuration = opts.configuration ?? recipe.defaultConfiguration ?? {};
  const self: ComponentRef = { name: recipe.componentName, version: recipe.componentVersion, configuration };
  const base = { rootPath: opts.rootPath, thingName: opts.thingName, self, dependencies: opts.dependencies };
  const lifecycle = interpolateTree(selected, { ...base, namespaces: 'all' });
  warnings.push(...lifecycle.warnings);
  let finalConfiguration = configuration;
  if (opts.interpolateComponentConfiguration) {
    const conf = interpolateTree(configuration, { ...base, namespaces: 'system' });
    warnings.push(...conf.warnings);
    finalConfiguration = conf.value;
  }
  return {
    ok: true,
    manifestIndex: sel.index,
    warnings,
    config: {
      componentType: serviceComponentType(recipe.componentType),
      version: recipe.componentVersion,
      dependencies: serviceDependencies(recipe),
      lifecycle: lifecycle.value,
      configuration: finalConfiguration,
    },
  };
}

/**
 * `previousVersion` after deploying `newVersion` [RC-28]: the old version when it changes, else the
 * existing previousVersion (undefined when there is none).
 */
export function previousVersionFor(
  existing: { version?: string; previousVersion?: string } | undefined,
  newVersion: string,
): string | undefined {
  if (existing?.version !== undefined && existing.version !== newVersion) return existing.version;
  return existing?.previousVersion;
}

const RUN_WITH_KEYS = {
  posixuser: 'posixUser',
  windowsuser: 'windowsUser',
  systemresourcelimits: 'systemResourceLimits',
} as const;

/**
 * Merges a deployment's RunWith (PascalCase or camelCase keys) into the existing
 * `services.<name>.runWith` [RC-28]: a key absent from the update is kept, an empty string (or null)
 * removes it, any other value replaces it. Other update keys are ignored. Returns a new object.
 */
export function mergeRunWith(
  existing: RunWith | undefined,
  update: Record<string, Json | undefined> | undefined,
): RunWith {
  const out: RunWith = { ...(existing ?? {}) };
  for (const [rawKey, value] of Object.entries(update ?? {})) {
    const key = RUN_WITH_KEYS[rawKey.toLowerCase() as keyof typeof RUN_WITH_KEYS];
    if (key === undefined || value === undefined) continue;
    if (value === null || value === '') {
      delete out[key];
    } else if (key === 'systemResourceLimits') {
      if (isObject(value)) out.systemResourceLimits = value;
    } else if (typeof value === 'string') {
      out[key] = value;
    }
  }
  return out;
}
