// HARD and SOFT dependencies between services, as pure functions (spec/lifecycle.md section 9):
// parsing, topological order with cycle detection, start-up readiness and cascade restarts.

import type { LifecycleState } from './types.js';

export type DependencyKind = 'HARD' | 'SOFT';

export interface ServiceDependency {
  name: string;
  type: DependencyKind;
}

/** A bad dependency entry or graph; `field` names the config node at fault. */
export class DependencyError extends Error {
  constructor(
    readonly field: string,
    readonly reason: string,
  ) {
    super(`${field}: ${reason}`);
    this.name = 'DependencyError';
  }
}

/** A dependency cycle; `cycle` starts and ends with the same service. */
export class DependencyCycleError extends Error {
  constructor(readonly cycle: readonly string[]) {
    super(`dependency cycle: ${cycle.join(' -> ')}`);
    this.name = 'DependencyCycleError';
  }
}

/** `name`, `name:HARD` or `name:SOFT`; the type is prefix-matched case-insensitively, default HARD [LC-54]. */
export function parseDependency(entry: unknown, field: string): ServiceDependency {
  if (typeof entry !== 'string') throw new DependencyError(field, `must be a string, got ${typeof entry}`);
  const parts = entry.split(':');
  const name = parts[0].trim();
  if (name === '') throw new DependencyError(field, `empty component name in '${entry}'`);
  if (parts.length > 2) throw new DependencyError(field, `expected 'name[:HARD|SOFT]', got '${entry}'`);
  if (parts.length === 1) return { name, type: 'HARD' };
  const t = parts[1].trim().toUpperCase();
  if (t !== '' && 'HARD'.startsWith(t)) return { name, type: 'HARD' };
  if (t !== '' && 'SOFT'.startsWith(t)) return { name, type: 'SOFT' };
  throw new DependencyError(field, `unknown dependency type '${parts[1]}' (expected HARD or SOFT)`);
}

/**
 * A service's `dependencies` node: a list of entries (config trees may also hold them as a map of
 * index -> entry, or as one comma-separated string). Duplicate names keep the last type.
 */
export function parseDependencies(value: unknown, field: string): ServiceDependency[] {
  if (value === undefined || value === null) return [];
  let entries: unknown[];
  if (Array.isArray(value)) entries = value;
  else if (typeof value === 'string')
    entries = value
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== '');
  else throw new DependencyError(field, `must be a list of 'name[:HARD|SOFT]', got ${typeof value}`);
  const byName = new Map<string, ServiceDependency>();
  entries.forEach((e, i) => {
    const dep = parseDependency(e, `${field}[${i}]`);
    byName.set(dep.name, dep);
  });
  return [...byName.values()];
}

/**
 * Topological order (dependencies before dependers) over `graph` [LC-56]. Dependencies not present
 * as keys are ignored here (the manager refuses them earlier). Ties keep the insertion order of
 * `graph`. A cycle throws DependencyCycleError naming it.
 */
export function dependencyOrder(graph: ReadonlyMap<string, readonly ServiceDependency[]>): string[] {
  const order: string[] = [];
  const placed = new Set<string>();
  let remaining = [...graph.keys()];
  while (remaining.length > 0) {
    const ready = remaining.filter((n) =>
      (graph.get(n) ?? []).every((d) => placed.has(d.name) || !graph.has(d.name)),
    );
    if (ready.length === 0) throw new DependencyCycleError(findCycle(graph, remaining));
    for (const n of ready) {
      order.push(n);
      placed.add(n);
    }
    remaining = remaining.filter((n) => !placed.has(n));
  }
  return order;
}

/** A cycle among `candidates` (each has an unplaced dependency), as [a, b, ..., a]. */
function findCycle(graph: ReadonlyMap<string, readonly ServiceDependency[]>, candidates: string[]): string[] {
  const pending = new Set(candidates);
  const path: string[] = [];
  const onPath = new Map<string, number>();
  let node = candidates[0];
  while (!onPath.has(node)) {
    onPath.set(node, path.length);
    path.push(node);
    const next = (graph.get(node) ?? []).find((d) => pending.has(d.name));
    if (!next) break; // cannot happen for a true remainder, kept for safety
    node = next.name;
  }
  const start = onPath.get(node) ?? 0;
  return [...path.slice(start), node];
}

/** Services that depend on `name`, with the type of that dependency. */
export function dependersOf(
  graph: ReadonlyMap<string, readonly ServiceDependency[]>,
  name: string,
): ServiceDependency[] {
  const out: ServiceDependency[] = [];
  for (const [depender, deps] of graph) {
    const d = deps.find((x) => x.name === name);
    if (d) out.push({ name: depender, type: d.type });
  }
  return out;
}

/** `dependersOf` for every service at once: one pass over the graph instead of one per lookup. */
export function dependersIndex(
  graph: ReadonlyMap<string, readonly ServiceDependency[]>,
): Map<string, ServiceDependency[]> {
  const out = new Map<string, ServiceDependency[]>();
  for (const [depender, deps] of graph) {
    for (const d of deps) {
      const list = out.get(d.name);
      // a service named twice keeps its first entry, as dependersOf finds it
      if (list?.[list.length - 1]?.name === depender) continue;
      if (list) list.push({ name: depender, type: d.type });
      else out.set(d.name, [{ name: depender, type: d.type }]);
    }
  }
  return out;
}

export interface DependencyStatus {
  state: LifecycleState;
  stoppingFromStartupError: boolean;
}

/** [LC-55] SOFT is always ready; HARD when RUNNING, FINISHED, or STOPPING without a startup error. */
export function isDependencyReady(dep: DependencyStatus | undefined, type: DependencyKind): boolean {
  if (type === 'SOFT') return true;
  if (!dep) return false;
  if (dep.state === 'RUNNING' || dep.state === 'FINISHED') return true;
  return dep.state === 'STOPPING' && !dep.stoppingFromStartupError;
}

/** Whether every dependency is ready, so INSTALLED may go to STARTING [LC-55]. */
export function areDependenciesReady(
  deps: readonly ServiceDependency[],
  statusOf: (name: string) => DependencyStatus | undefined,
): boolean {
  return deps.every((d) => isDependencyReady(statusOf(d.name), d.type));
}

/** [LC-57] A depender that is STARTING or RUNNING restarts when a dependency becomes not ready. */
export function shouldCascadeRestart(
  dependerState: LifecycleState,
  dependency: DependencyStatus,
  type: DependencyKind,
): boolean {
  if (dependerState !== 'STARTING' && dependerState !== 'RUNNING') return false;
  return !isDependencyReady(dependency, type);
}

/**
 * [LC-58] After a dependency list edit: restart when a dependency was added, or when a changed type
 * leaves a dependency not ready.
 */
export function dependencyEditNeedsRestart(
  before: readonly ServiceDependency[],
  after: readonly ServiceDependency[],
  statusOf: (name: string) => DependencyStatus | undefined,
): boolean {
  for (const d of after) {
    const old = before.find((b) => b.name === d.name);
    if (!old) return true;
    if (old.type !== d.type && !isDependencyReady(statusOf(d.name), d.type)) return true;
  }
  return false;
}
