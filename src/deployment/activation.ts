// Activation (DefaultActivator [DP-52..DP-57]): write the target services subtree with the
// deployment merge tree, durably [CF-21]; the lifecycle layer reconciles to it (the nucleus wires
// config changes to LifecycleManager.apply); then wait until every affected component runs the new
// definition and is RUNNING or FINISHED, or one is BROKEN [DP-55], and removed ones are gone [DP-56].
import { deploymentMergeTree, type ConfigStore, type JsonObject } from '../config/index.js';
import {
  sameConfig,
  type ServiceDefinition,
  type StateChangeEvent,
  type SupervisorStatus,
} from '../lifecycle/index.js';

/** What deployment needs of the lifecycle layer (LifecycleManager satisfies it). */
export interface ComponentStates {
  get(name: string): { readonly definition: ServiceDefinition; status(): SupervisorStatus } | undefined;
  onStateChange(listener: (e: StateChangeEvent) => void): () => void;
}

export interface ServiceTarget {
  version?: unknown;
  lifecycle?: unknown;
}

export type ConvergeOutcome =
  | { ok: true }
  | { ok: false; reason: 'broken'; broken: string[] }
  | { ok: false; reason: 'timeout'; pending: string[] }
  | { ok: false; reason: 'aborted' };

export interface ConvergeOptions {
  timeoutMs: number;
  /** Services to ignore (BROKEN before the deployment, and their HARD dependers) [DP-59 step 3]. */
  ignore?: ReadonlySet<string>;
  signal?: AbortSignal;
  /** Re-check period besides state-change events (the reconciler applies asynchronously). */
  pollMs?: number;
  /**
   * How long every target must stay RUNNING/FINISHED, with no state change of any target, before
   * success is declared (default 500 ms): a component that starts and then crashes is caught.
   */
  settleMs?: number;
}

/** Writes `services` with the deployment merge tree; resolves once durable [DP-54, CF-21]. */
export async function writeTargetServices(
  store: ConfigStore,
  services: JsonObject,
  removed: readonly string[],
  o: { now: number; configurationTimestamp: number },
): Promise<void> {
  const tree = deploymentMergeTree({ now: o.now, configurationTimestamp: o.configurationTimestamp });
  store.config.updateMap({ services }, tree);
  // [DP-56] obsolete services leave the tree; the reconciler stops and uninstalls them.
  for (const name of removed) store.config.remove(['services', name], { timestamp: o.now });
  await store.sync();
}

/** Which services with a lifecycle the target holds (the ones to wait for). */
export function lifecycleTargets(
  services: JsonObject,
  skip: readonly string[],
): Record<string, ServiceTarget> {
  const out: Record<string, ServiceTarget> = {};
  for (const [name, v] of Object.entries(services)) {
    if (skip.includes(name) || v === null || typeof v !== 'object' || Array.isArray(v)) continue;
    if (!('lifecycle' in v)) continue;
    // the nucleus component is never run as a process [CF-97]
    if (typeof v.componentType === 'string' && v.componentType.toUpperCase() === 'NUCLEUS') continue;
    out[name] = { version: v.version, lifecycle: v.lifecycle };
  }
  return out;
}

type Check = { done: true; outcome: ConvergeOutcome } | { done: false; pending: string[] };

function check(
  states: ComponentStates,
  targets: Readonly<Record<string, ServiceTarget>>,
  removed: readonly string[],
  ignore: ReadonlySet<string>,
): Check {
  const pending: string[] = [];
  const broken: string[] = [];
  for (const [name, t] of Object.entries(targets)) {
    if (ignore.has(name)) continue;
    const sup = states.get(name);
    if (
      !sup ||
      !sameConfig(sup.definition.version, t.version) ||
      !sameConfig(sup.definition.lifecycle, t.lifecycle)
    ) {
      pending.push(name);
      continue;
    }
    const s = sup.status();
    const settled = s.idle && s.desired.length === 0;
    // BROKEN is left only on request: an idle BROKEN service is failed even if the reinstall
    // that broke it (a failing install) still lists RUNNING as desired [DP-55]
    if (s.idle && s.state === 'BROKEN') broken.push(name);
    else if (!(settled && (s.state === 'RUNNING' || s.state === 'FINISHED'))) pending.push(name);
  }
  for (const name of removed) {
    const s = states.get(name)?.status();
    if (s && !(s.idle && (s.state === 'UNINSTALLED' || s.state === 'NEW'))) pending.push(`${name} (removal)`);
  }
  if (broken.length > 0) return { done: true, outcome: { ok: false, reason: 'broken', broken } };
  if (pending.length === 0) return { done: true, outcome: { ok: true } };
  return { done: false, pending };
}

/** [DP-55] Waits for convergence; never longer than `timeoutMs`. */
export function waitForServices(
  states: ComponentStates,
  targets: Readonly<Record<string, ServiceTarget>>,
  removed: readonly string[],
  o: ConvergeOptions,
): Promise<ConvergeOutcome> {
  const ignore = o.ignore ?? new Set<string>();
  const settleMs = o.settleMs ?? 500;
  return new Promise((resolve) => {
    let last: string[] = [];
    let stableSince: number | undefined;
    const finish = (outcome: ConvergeOutcome): void => {
      unsubscribe();
      clearInterval(poll);
      clearTimeout(timer);
      o.signal?.removeEventListener('abort', onAbort);
      resolve(outcome);
    };
    const evaluate = (): void => {
      const c = check(states, targets, removed, ignore);
      if (c.done && !c.outcome.ok) return finish(c.outcome);
      if (!c.done) {
        last = c.pending;
        stableSince = undefined;
        return;
      }
      const now = Date.now();
      stableSince ??= now;
      if (now - stableSince >= settleMs) finish(c.outcome);
      else last = ['(settling)'];
    };
    const onAbort = (): void => finish({ ok: false, reason: 'aborted' });
    const unsubscribe = states.onStateChange((e) => {
      if (e.component in targets || removed.includes(e.component)) stableSince = undefined;
      queueMicrotask(evaluate);
    });
    const poll = setInterval(evaluate, o.pollMs ?? 100);
    const timer = setTimeout(() => finish({ ok: false, reason: 'timeout', pending: last }), o.timeoutMs);
    o.signal?.addEventListener('abort', onAbort, { once: true });
    evaluate();
  });
}

/** Services BROKEN now, and (transitively) their HARD dependers among `services` [DP-59 step 3]. */
export function brokenAndHardDependers(states: ComponentStates, services: JsonObject): Set<string> {
  const out = new Set<string>();
  for (const name of Object.keys(services)) if (states.get(name)?.status().state === 'BROKEN') out.add(name);
  for (let grew = true; grew;) {
    grew = false;
    for (const [name, v] of Object.entries(services)) {
      if (out.has(name) || v === null || typeof v !== 'object' || Array.isArray(v)) continue;
      const deps = Array.isArray(v.dependencies) ? v.dependencies : [];
      const hard = deps.some((d) => {
        if (typeof d !== 'string') return false;
        const [dep, type] = d.split(':');
        return out.has(dep) && (type === undefined || type.toUpperCase() === 'HARD');
      });
      if (hard) {
        out.add(name);
        grew = true;
      }
    }
  }
  return out;
}
