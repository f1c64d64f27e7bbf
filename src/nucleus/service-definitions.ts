// Config tree -> the plain service definitions the lifecycle manager runs. Pure.
import type { JsonObject } from '../config/index.js';
import type { ServiceDefinition, ServiceDefinitions } from '../lifecycle/index.js';
import { runnableServices, type NucleusSettings } from './nucleus-config.js';

function isMap(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function getCI(map: JsonObject, key: string): unknown {
  const k = Object.keys(map).find((x) => x.toLowerCase() === key.toLowerCase());
  return k === undefined ? undefined : map[k];
}

function depName(entry: unknown): string {
  return String(entry).split(':')[0].trim();
}

/**
 * Services to run: when `main` lists dependencies, the services reachable from it (as the Java
 * nucleus starts them, CF-85 step 5); otherwise every service with a lifecycle. Dependencies on
 * services the nucleus provides itself (the nucleus, bookkeeping services) are dropped, since they
 * are always "running".
 */
export function serviceDefinitions(services: JsonObject, settings: NucleusSettings): ServiceDefinitions {
  const runnable = runnableServices(services, settings.nucleusName);
  const main = isMap(services.main) ? services.main : undefined;
  const mainDeps = main ? getCI(main, 'dependencies') : undefined;
  let names = Object.keys(runnable);
  if (Array.isArray(mainDeps) && mainDeps.length > 0) {
    const reach = new Set<string>();
    const visit = (name: string) => {
      if (reach.has(name) || !(name in runnable)) return;
      reach.add(name);
      const deps = getCI(runnable[name], 'dependencies');
      if (Array.isArray(deps)) deps.forEach((d) => visit(depName(d)));
    };
    if ('main' in runnable) visit('main');
    mainDeps.forEach((d) => visit(depName(d)));
    names = names.filter((n) => reach.has(n));
  }
  const defs: Record<string, ServiceDefinition> = {};
  for (const name of names) {
    const raw = runnable[name];
    const deps = getCI(raw, 'dependencies');
    const runWith = isMap(getCI(raw, 'runWith')) ? { ...(getCI(raw, 'runWith') as JsonObject) } : {};
    const defaultLimits = settings.runWithDefault.systemResourceLimits;
    if (defaultLimits && !isMap(getCI(runWith, 'systemResourceLimits')))
      runWith.systemResourceLimits = defaultLimits;
    defs[name] = {
      version: getCI(raw, 'version') === undefined ? undefined : String(getCI(raw, 'version')),
      componentType:
        getCI(raw, 'componentType') === undefined ? undefined : String(getCI(raw, 'componentType')),
      lifecycle: isMap(getCI(raw, 'lifecycle')) ? (getCI(raw, 'lifecycle') as JsonObject) : undefined,
      dependencies: Array.isArray(deps) ? deps.filter((d) => names.includes(depName(d))) : undefined,
      runWith: Object.keys(runWith).length ? runWith : undefined,
      setenv: isMap(getCI(raw, 'setenv')) ? (getCI(raw, 'setenv') as JsonObject) : undefined,
      configuration: getCI(raw, 'configuration'),
    };
  }
  return defs;
}
