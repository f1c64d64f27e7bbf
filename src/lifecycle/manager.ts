// Holds the supervisors of a set of service definitions: validates the set (dependencies, cycles),
// starts in dependency order with HARD gating, cascades restarts, applies definition changes and
// stops dependers before their dependencies (spec/lifecycle.md section 9 and 10). Inputs are plain
// data; the nucleus wires the config tree to `apply`.

import type { ConfigChangeReaction, ServiceDefinition } from './config-change.js';
import {
  areDependenciesReady,
  DependencyError,
  dependencyEditNeedsRestart,
  dependencyOrder,
  dependersIndex,
  parseDependencies,
  shouldCascadeRestart,
  type DependencyStatus,
  type ServiceDependency,
} from './dependency.js';
import { systemTimers } from './supervisor-steps.js';
import { ComponentSupervisor, type StateChangeEvent, type SupervisorOptions } from './supervisor.js';

export interface ManagerOptions extends Omit<SupervisorOptions, 'workDir' | 'env' | 'dependenciesReady'> {
  /** `<root>/work/<name>` [LC-48]. */
  workDir: (component: string) => string;
  /** The environment before the service's own setenv layers [LC-71]. */
  env?: (component: string) => Record<string, string>;
  /** Budget for stopAll before processes are killed, default 30 s [LC-85]. */
  stopTimeoutMs?: number;
}

export type ServiceDefinitions = Readonly<Record<string, ServiceDefinition>>;

export interface ApplyResult {
  order: string[];
  added: string[];
  removed: string[];
  /** Reaction per existing service whose definition changed (dependency edits report 'restart'). */
  changed: Record<string, ConfigChangeReaction>;
}

/** Validates a definition set: dependency syntax, unknown dependencies and cycles. Throws; changes nothing. */
export function validateServiceDefinitions(defs: ServiceDefinitions): {
  graph: Map<string, ServiceDependency[]>;
  order: string[];
} {
  const graph = new Map<string, ServiceDependency[]>();
  for (const [name, def] of Object.entries(defs)) {
    const field = `services.${name}.dependencies`;
    const deps = parseDependencies(def.dependencies, field);
    deps.forEach((d) => {
      if (!(d.name in defs))
        throw new DependencyError(field, `depends on '${d.name}', which is not a service`);
    });
    graph.set(name, deps);
  }
  return { graph, order: dependencyOrder(graph) };
}

export class LifecycleManager {
  private readonly sups = new Map<string, ComponentSupervisor>();
  private graph = new Map<string, ServiceDependency[]>();
  /** `dependersOf(graph, name)` by name, computed with the graph: state changes look it up. */
  private dependers = new Map<string, ServiceDependency[]>();
  private orderList: string[] = [];
  private readonly listeners = new Set<(e: StateChangeEvent) => void>();

  constructor(private readonly o: ManagerOptions) {}

  /** Dependencies before dependers [LC-56]. */
  get order(): readonly string[] {
    return this.orderList;
  }

  get(name: string): ComponentSupervisor | undefined {
    return this.sups.get(name);
  }

  onStateChange(listener: (e: StateChangeEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Converges to `defs`: new services are started in dependency order, changed ones reinstall,
   * restart or re-limit [LC-58, LC-60..LC-64], missing ones are stopped and uninstalled. A bad set
   * (syntax, unknown dependency, cycle) throws before anything changes.
   */
  apply(defs: ServiceDefinitions): ApplyResult {
    const { graph, order } = validateServiceDefinitions(defs);
    const oldGraph = this.graph;
    const oldOrder = this.orderList;
    const removed = [...this.sups.keys()].filter((n) => !(n in defs));
    this.graph = graph;
    this.dependers = dependersIndex(graph);
    this.orderList = order;
    const result: ApplyResult = { order, added: [], removed, changed: {} };
    for (const name of order) {
      const existing = this.sups.get(name);
      if (!existing) {
        this.sups.set(name, this.createSupervisor(name, defs[name]));
        result.added.push(name);
        continue;
      }
      let reaction = existing.changeDefinition(defs[name]);
      const before = oldGraph.get(name) ?? [];
      if (dependencyEditNeedsRestart(before, graph.get(name) ?? [], (n) => this.statusOf(n))) {
        existing.requestRestart();
        if (reaction === 'none' || reaction === 'relimit') reaction = 'restart';
      }
      if (reaction !== 'none') result.changed[name] = reaction;
      existing.poke();
    }
    for (const name of result.added) this.sups.get(name)?.requestStart();
    void this.removeServices(removed, oldGraph, oldOrder);
    return result;
  }

  /** Stops every service, dependers before their dependencies [LC-59]; kills what is left after the budget [LC-85]. */
  async stopAll(): Promise<void> {
    const done = new Map<string, Promise<void>>();
    for (const name of [...this.orderList].reverse()) {
      const sup = this.sups.get(name);
      if (!sup) continue;
      const dependers = (this.dependers.get(name) ?? [])
        .filter((d) => d.type === 'HARD')
        .map((d) => done.get(d.name) ?? Promise.resolve());
      done.set(
        name,
        Promise.all(dependers).then(() => sup.stop()),
      );
    }
    const timers = this.o.timers ?? systemTimers;
    let handle: unknown;
    const budget = new Promise<'timeout'>((resolve) => {
      handle = timers.setTimeout(() => resolve('timeout'), this.o.stopTimeoutMs ?? 30_000);
    });
    const outcome = await Promise.race([Promise.all(done.values()), budget]);
    timers.clearTimeout(handle);
    if (outcome === 'timeout') await Promise.all([...this.sups.values()].map((s) => s.close()));
  }

  /** stopAll, then end every supervisor loop. */
  async close(): Promise<void> {
    await this.stopAll();
    await Promise.all([...this.sups.values()].map((s) => s.close()));
    this.sups.clear();
  }

  private createSupervisor(name: string, def: ServiceDefinition): ComponentSupervisor {
    const sup = new ComponentSupervisor(name, def, {
      ...this.o,
      workDir: this.o.workDir(name),
      env: this.o.env?.(name),
      dependenciesReady: () => areDependenciesReady(this.graph.get(name) ?? [], (n) => this.statusOf(n)),
    });
    sup.onStateChange((e) => this.onChange(e));
    sup.startLoop();
    return sup;
  }

  private statusOf(name: string): DependencyStatus | undefined {
    const s = this.sups.get(name)?.status();
    return s && { state: s.state, stoppingFromStartupError: s.stoppingFromStartupError };
  }

  /** Cascade restarts [LC-57] and wakes dependers waiting for readiness [LC-55]. */
  private onChange(e: StateChangeEvent): void {
    const dep = this.statusOf(e.component);
    for (const d of this.dependers.get(e.component) ?? []) {
      const sup = this.sups.get(d.name);
      if (!sup || !dep) continue;
      if (shouldCascadeRestart(sup.state, dep, d.type)) sup.requestRestart();
      sup.poke();
    }
    for (const l of [...this.listeners]) {
      try {
        l(e);
      } catch {
        // a listener's failure is not the lifecycle's
      }
    }
  }

  private async removeServices(
    names: string[],
    oldGraph: Map<string, ServiceDependency[]>,
    oldOrder: readonly string[],
  ): Promise<void> {
    const done = new Map<string, Promise<void>>();
    const oldDependers = dependersIndex(oldGraph);
    for (const name of [...oldOrder].reverse()) {
      if (!names.includes(name)) continue;
      const sup = this.sups.get(name);
      if (!sup) continue;
      const dependers = (oldDependers.get(name) ?? []).map((d) => done.get(d.name) ?? Promise.resolve());
      done.set(
        name,
        Promise.all(dependers).then(async () => {
          sup.requestUninstall();
          await sup.waitFor((s) => s.state === 'UNINSTALLED' && s.idle);
          await sup.close();
          if (this.sups.get(name) === sup) this.sups.delete(name);
        }),
      );
    }
    await Promise.all(done.values());
  }
}
