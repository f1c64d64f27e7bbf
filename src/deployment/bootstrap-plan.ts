// Which components of a deployment run their bootstrap step, and in which order [CF-95, LC-35]; and
// which resolved component is the nucleus itself [DP-38, CF-97]. Pure over plain data.
import { createHash } from 'node:crypto';
import type { JsonObject, JsonValue } from '../config/index.js';
import { sameConfig } from '../lifecycle/index.js';
import type { ResolvedComponent } from './resolve.js';
import { DeploymentError } from './result.js';

/** Component names a Tendril self-update is deployed under: the reference's and Tendril's own. */
export const NUCLEUS_COMPONENT_NAMES: readonly string[] = ['aws.greengrass.Nucleus', 'tendril.Nucleus'];

const asMap = (v: JsonValue | undefined): JsonObject | undefined =>
  v !== null && typeof v === 'object' && !Array.isArray(v) ? v : undefined;

function getCI(map: JsonObject | undefined, key: string): JsonValue | undefined {
  if (!map) return undefined;
  const k = Object.keys(map).find((x) => x.toLowerCase() === key.toLowerCase());
  return k === undefined ? undefined : map[k];
}

/** `lifecycle.bootstrap` of a service (keys case-insensitive [LC-47]); undefined when absent. */
export function bootstrapStepOf(service: JsonValue | undefined): JsonValue | undefined {
  const step = getCI(asMap(getCI(asMap(service), 'lifecycle')), 'bootstrap');
  return step === null ? undefined : step;
}

function isNucleusType(service: JsonValue | undefined): boolean {
  const t = getCI(asMap(service), 'componentType');
  return typeof t === 'string' && t.toUpperCase() === 'NUCLEUS';
}

/**
 * [CF-95] A component runs its bootstrap step when it defines one and is new, or its version
 * changed, or its bootstrap step differs (keys compared case-insensitively). The nucleus's own
 * bootstrap never runs: the reference's rewrites the Java launch directory; Tendril updates itself.
 */
export function needsBootstrap(current: JsonValue | undefined, target: JsonValue | undefined): boolean {
  const step = bootstrapStepOf(target);
  if (step === undefined || isNucleusType(target)) return false;
  const before = asMap(current);
  if (!before) return true;
  if (getCI(before, 'version') !== getCI(asMap(target), 'version')) return true;
  return !sameConfig(bootstrapStepOf(before), step);
}

function dependencyNames(service: JsonValue | undefined): string[] {
  const deps = getCI(asMap(service), 'dependencies');
  if (!Array.isArray(deps)) return [];
  return deps.filter((d): d is string => typeof d === 'string').map((d) => d.split(':')[0]);
}

/**
 * The components of `target` whose bootstrap runs, dependencies first [CF-95 "ordered by
 * dependencies within that subset"], names sorted within a level.
 */
export function planBootstrap(current: JsonObject, target: JsonObject): string[] {
  const subset = Object.keys(target)
    .filter((n) => needsBootstrap(current[n], target[n]))
    .sort();
  const inSubset = new Set(subset);
  const order: string[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (name: string): void => {
    if (state.has(name)) return; // a cycle cannot reach here: resolution refuses it
    state.set(name, 'visiting');
    for (const dep of dependencyNames(target[name]).sort()) if (inSubset.has(dep)) visit(dep);
    state.set(name, 'done');
    order.push(name);
  };
  for (const name of subset) visit(name);
  return order;
}

/** Identifies one bootstrap execution: a re-run after a restart skips what is recorded done. */
export function bootstrapKey(name: string, service: JsonValue | undefined): string {
  const version = getCI(asMap(service), 'version');
  const step = createHash('sha256')
    .update(JSON.stringify(bootstrapStepOf(service) ?? null))
    .digest('hex')
    .slice(0, 16);
  return `${name}@${typeof version === 'string' ? version : ''}#${step}`;
}

/**
 * [DP-38] The resolved component of type nucleus, if any; more than one fails the deployment
 * (MULTIPLE_NUCLEUS_RESOLVED_ERROR).
 */
export function resolvedNucleus(
  resolved: Readonly<Record<string, ResolvedComponent>>,
): ResolvedComponent | undefined {
  const found = Object.values(resolved).filter(
    (c) => String(c.recipe.componentType ?? '').toLowerCase() === 'aws.greengrass.nucleus',
  );
  if (found.length > 1)
    throw new DeploymentError(
      `the deployment resolves more than one nucleus component: ${found.map((c) => `${c.name}@${c.version}`).join(', ')}`,
      ['MULTIPLE_NUCLEUS_RESOLVED_ERROR'],
      ['REQUEST_ERROR'],
    );
  return found[0];
}
