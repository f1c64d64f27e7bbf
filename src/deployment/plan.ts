// The deployment plan (DESIGN: "plan purely, execute at the edges"): the current services map diffed
// against the target one into typed steps, in an order that respects dependencies. Classification of
// a changed service follows lifecycle.md LC-60..LC-64: version, install step or user -> reinstall;
// other lifecycle steps, setenv or dependencies -> restart; limits alone -> relimit; configuration
// alone -> update-config.
import { isDeepStrictEqual } from 'node:util';
import type { JsonObject, RunWith } from '../recipe/index.js';

export interface PlannedService {
  version: string;
  componentType?: string;
  /** `name`, `name:HARD` or `name:SOFT`. */
  dependencies?: string[];
  lifecycle?: JsonObject;
  configuration?: JsonObject;
  runWith?: RunWith;
  setenv?: JsonObject;
}

export type ServicesMap = Readonly<Record<string, PlannedService>>;

export type DeploymentStep =
  | { kind: 'stop-remove'; component: string; version: string }
  | { kind: 'install'; component: string; service: PlannedService }
  | { kind: 'reinstall'; component: string; fromVersion: string; service: PlannedService; reasons: string[] }
  | { kind: 'restart'; component: string; service: PlannedService; reasons: string[] }
  | { kind: 'update-config'; component: string; configuration: JsonObject }
  | { kind: 'relimit'; component: string; systemResourceLimits: JsonObject | undefined };

export type PlanResult = { ok: true; steps: DeploymentStep[] } | { ok: false; error: string };

export function planDeployment(current: ServicesMap, target: ServicesMap): PlanResult {
  const removalOrder = topoOrder(current);
  const targetOrder = topoOrder(target);
  if (!targetOrder.ok) return { ok: false, error: targetOrder.error };
  const steps: DeploymentStep[] = [];
  // Removals: dependents before what they depend on (reverse of the current start order).
  const removeOrder = removalOrder.ok ? [...removalOrder.order].reverse() : Object.keys(current).sort();
  for (const name of removeOrder) {
    if (!Object.hasOwn(target, name))
      steps.push({ kind: 'stop-remove', component: name, version: current[name].version });
  }
  for (const name of targetOrder.order) {
    const after = target[name];
    const before = Object.hasOwn(current, name) ? current[name] : undefined;
    if (before === undefined) {
      steps.push({ kind: 'install', component: name, service: after });
      continue;
    }
    steps.push(...changeSteps(name, before, after));
  }
  return { ok: true, steps };
}

function changeSteps(name: string, before: PlannedService, after: PlannedService): DeploymentStep[] {
  const reinstall: string[] = [];
  if (before.version !== after.version) reinstall.push('version');
  if (!same(step(before, 'install'), step(after, 'install'))) reinstall.push('lifecycle.install');
  if (!same(before.runWith?.posixUser, after.runWith?.posixUser)) reinstall.push('runWith.posixUser');
  if (!same(before.runWith?.windowsUser, after.runWith?.windowsUser)) reinstall.push('runWith.windowsUser');
  if (reinstall.length > 0) {
    return [
      { kind: 'reinstall', component: name, fromVersion: before.version, service: after, reasons: reinstall },
    ];
  }
  const restart: string[] = [];
  const keys = new Set([...Object.keys(before.lifecycle ?? {}), ...Object.keys(after.lifecycle ?? {})]);
  for (const k of [...keys].sort()) {
    // [LC-62] a shutdown change alone needs no restart; install is judged above.
    if (['install', 'shutdown'].includes(k.toLowerCase())) continue;
    if (!same(before.lifecycle?.[k], after.lifecycle?.[k])) restart.push(`lifecycle.${k}`);
  }
  if (!same(before.setenv, after.setenv)) restart.push('setenv');
  if (!same(normDeps(before.dependencies), normDeps(after.dependencies))) restart.push('dependencies');
  if (restart.length > 0) return [{ kind: 'restart', component: name, service: after, reasons: restart }];
  const out: DeploymentStep[] = [];
  if (!same(before.configuration ?? {}, after.configuration ?? {})) {
    out.push({ kind: 'update-config', component: name, configuration: after.configuration ?? {} });
  }
  if (!same(before.runWith?.systemResourceLimits, after.runWith?.systemResourceLimits)) {
    out.push({ kind: 'relimit', component: name, systemResourceLimits: after.runWith?.systemResourceLimits });
  }
  return out;
}

function step(s: PlannedService, key: string): unknown {
  const k = Object.keys(s.lifecycle ?? {}).find((x) => x.toLowerCase() === key);
  return k === undefined ? undefined : s.lifecycle?.[k];
}

function same(a: unknown, b: unknown): boolean {
  return isDeepStrictEqual(a ?? null, b ?? null);
}

function normDeps(deps: readonly string[] | undefined): string[] {
  return (deps ?? []).map((d) => (d.includes(':') ? fixCase(d) : `${d}:HARD`)).sort();
}

/** `name:hard` -> `name:HARD` (the name keeps its case). */
function fixCase(d: string): string {
  const i = d.lastIndexOf(':');
  return `${d.slice(0, i)}:${d.slice(i + 1).toUpperCase()}`;
}

function depName(d: string): string {
  const i = d.lastIndexOf(':');
  return i < 0 ? d : d.slice(0, i);
}

/** Dependencies-first order of the services (names sorted within a level); a cycle is an error. */
function topoOrder(services: ServicesMap): { ok: true; order: string[] } | { ok: false; error: string } {
  const order: string[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const stack: string[] = [];
  const visit = (name: string): string | undefined => {
    if (state.get(name) === 'done') return undefined;
    if (state.get(name) === 'visiting') {
      return `dependency cycle: ${[...stack.slice(stack.indexOf(name)), name].join(' -> ')}`;
    }
    state.set(name, 'visiting');
    stack.push(name);
    for (const dep of [...(services[name].dependencies ?? [])].map(depName).sort()) {
      if (!Object.hasOwn(services, dep)) continue;
      const err = visit(dep);
      if (err) return err;
    }
    stack.pop();
    state.set(name, 'done');
    order.push(name);
    return undefined;
  };
  for (const name of Object.keys(services).sort()) {
    const err = visit(name);
    if (err) return { ok: false, error: err };
  }
  return { ok: true, order };
}
