// How a change of a service's definition affects the running component, as a pure classification of
// (old definition, new definition) [LC-60..LC-64].

import { getCaseInsensitive } from './steps.js';

export type ConfigChangeReaction = 'reinstall' | 'restart' | 'relimit' | 'none';

/** The plain data of `services.<name>` the lifecycle layer reads. */
export interface ServiceDefinition {
  version?: string;
  componentType?: string;
  lifecycle?: Record<string, unknown>;
  /** `name[:HARD|SOFT]` entries [LC-54]. */
  dependencies?: unknown;
  runWith?: Record<string, unknown>;
  setenv?: Record<string, unknown>;
  configuration?: unknown;
}

function isMap(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Deep equality of plain config data; map keys compare case-insensitively [LC-47]. */
export function sameConfig(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return a.every((x, i) => sameConfig(x, b[i]));
  }
  if (isMap(a) && isMap(b)) {
    const ka = Object.keys(a).map((k) => k.toLowerCase());
    const kb = Object.keys(b).map((k) => k.toLowerCase());
    if (ka.length !== kb.length || !ka.every((k) => kb.includes(k))) return false;
    return Object.keys(a).every((k) => sameConfig(a[k], getCaseInsensitive(b, k)));
  }
  const emptyA = a === undefined || a === null || (isMap(a) && Object.keys(a).length === 0);
  const emptyB = b === undefined || b === null || (isMap(b) && Object.keys(b).length === 0);
  return emptyA && emptyB;
}

function withoutKeys(v: unknown, keys: readonly string[]): Record<string, unknown> {
  if (!isMap(v)) return {};
  const lower = keys.map((k) => k.toLowerCase());
  return Object.fromEntries(Object.entries(v).filter(([k]) => !lower.includes(k.toLowerCase())));
}

function field(v: unknown, key: string): unknown {
  return isMap(v) ? getCaseInsensitive(v, key) : undefined;
}

/**
 * [LC-60] version, lifecycle.install or runWith (but systemResourceLimits) -> reinstall;
 * [LC-61] any other lifecycle key (shutdown excepted, LC-62) or setenv -> restart;
 * [LC-63] runWith.systemResourceLimits -> relimit; [LC-64] configuration alone -> none.
 * Dependency edits are judged separately (LC-58, `dependencyEditNeedsRestart`).
 */
export function classifyConfigChange(
  before: ServiceDefinition,
  after: ServiceDefinition,
): ConfigChangeReaction {
  if (!sameConfig(before.version, after.version)) return 'reinstall';
  if (!sameConfig(field(before.lifecycle, 'install'), field(after.lifecycle, 'install'))) return 'reinstall';
  const limits = ['systemResourceLimits'];
  if (!sameConfig(withoutKeys(before.runWith, limits), withoutKeys(after.runWith, limits)))
    return 'reinstall';
  const ignored = ['install', 'shutdown'];
  if (!sameConfig(withoutKeys(before.lifecycle, ignored), withoutKeys(after.lifecycle, ignored)))
    return 'restart';
  if (!sameConfig(before.setenv, after.setenv)) return 'restart';
  if (
    !sameConfig(field(before.runWith, 'systemResourceLimits'), field(after.runWith, 'systemResourceLimits'))
  )
    return 'relimit';
  return 'none';
}
