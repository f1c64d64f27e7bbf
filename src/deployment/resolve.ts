// Component version resolution (deployment.md section 3, DefaultDeploymentTask "resolve"): every
// group's roots plus their transitive dependencies, one version each, as a pure function over
// candidate recipes. An async driver fetches candidates from a ComponentSource as names appear.
import semver from 'semver';
import { satisfiesRequirement, selectManifest, type DevicePlatform, type Recipe } from '../recipe/index.js';

export interface ComponentCandidate {
  version: string;
  recipe: Recipe;
}

/** Where candidate versions come from: the local component store, or the cloud later. */
export interface ComponentSource {
  /** Every known version of `name` with its recipe; an empty list when the component is unknown. */
  listVersions(name: string): Promise<ComponentCandidate[]>;
}

export interface ResolveInput {
  /** Group name -> root component name -> version requirement (exact versions for deployments). */
  groups: Readonly<Record<string, Readonly<Record<string, string>>>>;
  /** Versions currently installed (running), preferred when they satisfy every requirement. */
  installed: Readonly<Record<string, string>>;
  platform: DevicePlatform;
}

export interface Requirement {
  range: string;
  /** Who made it: `com.example.App@1.0.0` or `group thinggroup/A root`. */
  from: string;
}

export interface ResolvedComponent {
  name: string;
  version: string;
  recipe: Recipe;
  requirements: Requirement[];
  /** Names of the groups listing it as a root; empty for a pure dependency. */
  rootOf: string[];
}

export type ResolveErrorCode =
  | 'COMPONENT_NOT_FOUND'
  | 'NO_MATCHING_PLATFORM'
  | 'VERSION_CONFLICT'
  | 'CIRCULAR_DEPENDENCY'
  | 'NOT_CONVERGED';

export interface ResolveError {
  code: ResolveErrorCode;
  /** The component at fault (the first of the cycle for CIRCULAR_DEPENDENCY). */
  component: string;
  message: string;
}

export type ResolveStep =
  | { status: 'resolved'; components: Record<string, ResolvedComponent> }
  | { status: 'failed'; error: ResolveError }
  /** Candidates of these names are needed before resolution can go on. */
  | { status: 'need'; names: string[] };

const MAX_ROUNDS = 100;

/**
 * One pass of resolution with the candidates known so far (`catalog` returns undefined for a name it
 * has not loaded). Greedy to a fixpoint: each required component takes the installed version when
 * it satisfies every requirement, else the greatest satisfying version whose recipe has a manifest
 * for the platform; a choice changes only when a requirement rules it out.
 */
export function resolveComponentVersions(
  input: ResolveInput,
  catalog: (name: string) => readonly ComponentCandidate[] | undefined,
): ResolveStep {
  const chosen = new Map<string, ComponentCandidate>();
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const reqs = collectRequirements(input, chosen);
    const need: string[] = [];
    let changed = false;
    for (const [name, rs] of reqs.requirements) {
      const candidates = catalog(name);
      if (candidates === undefined) {
        need.push(name);
        continue;
      }
      const current = chosen.get(name);
      if (current && rs.every((r) => satisfiesRequirement(current.version, r.range))) continue;
      const pick = choose(name, candidates, rs, input);
      if ('code' in pick) return { status: 'failed', error: pick };
      chosen.set(name, pick);
      changed = true;
    }
    if (need.length > 0) return { status: 'need', names: need };
    for (const name of [...chosen.keys()]) {
      if (!reqs.requirements.has(name)) {
        chosen.delete(name);
        changed = true;
      }
    }
    if (!changed) {
      const cycle = findCycle(chosen);
      if (cycle) {
        return {
          status: 'failed',
          error: {
            code: 'CIRCULAR_DEPENDENCY',
            component: cycle[0],
            message: `dependency cycle: ${cycle.join(' -> ')}`,
          },
        };
      }
      const components: Record<string, ResolvedComponent> = {};
      for (const [name, c] of chosen) {
        components[name] = {
          name,
          version: c.version,
          recipe: c.recipe,
          requirements: reqs.requirements.get(name) ?? [],
          rootOf: reqs.rootOf.get(name) ?? [],
        };
      }
      return { status: 'resolved', components };
    }
  }
  return {
    status: 'failed',
    error: {
      code: 'NOT_CONVERGED',
      component: '',
      message: `version resolution did not settle in ${MAX_ROUNDS} rounds`,
    },
  };
}

/** Resolves with candidates fetched from `source` (each name fetched once). */
export async function resolveFromSource(
  input: ResolveInput,
  source: ComponentSource,
): Promise<{ ok: true; components: Record<string, ResolvedComponent> } | { ok: false; error: ResolveError }> {
  const loaded = new Map<string, ComponentCandidate[]>();
  for (;;) {
    const step = resolveComponentVersions(input, (n) => loaded.get(n));
    if (step.status === 'resolved') return { ok: true, components: step.components };
    if (step.status === 'failed') return { ok: false, error: step.error };
    for (const name of step.names) loaded.set(name, await source.listVersions(name));
  }
}

function collectRequirements(
  input: ResolveInput,
  chosen: ReadonlyMap<string, ComponentCandidate>,
): { requirements: Map<string, Requirement[]>; rootOf: Map<string, string[]> } {
  const requirements = new Map<string, Requirement[]>();
  const rootOf = new Map<string, string[]>();
  const queue: string[] = [];
  const add = (name: string, r: Requirement): void => {
    const list = requirements.get(name);
    if (list) list.push(r);
    else {
      requirements.set(name, [r]);
      queue.push(name);
    }
  };
  for (const group of Object.keys(input.groups).sort()) {
    for (const [name, range] of Object.entries(input.groups[group])) {
      add(name, { range, from: `group ${group} root` });
      rootOf.set(name, [...(rootOf.get(name) ?? []), group]);
    }
  }
  for (let i = 0; i < queue.length; i++) {
    const c = chosen.get(queue[i]);
    if (!c) continue;
    for (const [dep, d] of Object.entries(c.recipe.componentDependencies)) {
      add(dep, { range: d.versionRequirement, from: `${queue[i]}@${c.version}` });
    }
  }
  return { requirements, rootOf };
}

function choose(
  name: string,
  candidates: readonly ComponentCandidate[],
  reqs: readonly Requirement[],
  input: ResolveInput,
): ComponentCandidate | ResolveError {
  const wanted = reqs.map((r) => `${JSON.stringify(r.range)} (from ${r.from})`).join(' and ');
  if (candidates.length === 0) {
    return {
      code: 'COMPONENT_NOT_FOUND',
      component: name,
      message: `${name}: no version is available; required ${wanted}`,
    };
  }
  const usable = candidates.filter((c) => selectManifest(c.recipe, input.platform).ok);
  const seen = sortedVersions(candidates).join(', ');
  if (usable.length === 0) {
    const attrs = Object.entries(input.platform)
      .map(([k, v]) => `${k}=${v}`)
      .join(', ');
    return {
      code: 'NO_MATCHING_PLATFORM',
      component: name,
      message: `${name}: no version has a manifest for the platform ${attrs} (versions: ${seen})`,
    };
  }
  const fitting = usable.filter((c) => reqs.every((r) => satisfiesRequirement(c.version, r.range)));
  if (fitting.length === 0) {
    return {
      code: 'VERSION_CONFLICT',
      component: name,
      message: `${name}: no version satisfies ${wanted}; available for this platform: ${sortedVersions(usable).join(', ')}`,
    };
  }
  const installed = input.installed[name];
  const keep = fitting.find((c) => c.version === installed);
  if (keep) return keep;
  return [...fitting].sort((a, b) => semver.rcompare(a.version, b.version))[0];
}

function sortedVersions(cs: readonly ComponentCandidate[]): string[] {
  return cs.map((c) => c.version).sort(semver.compare);
}

/** The first dependency cycle among the chosen components, as `[a, b, a]`, or undefined. */
function findCycle(chosen: ReadonlyMap<string, ComponentCandidate>): string[] | undefined {
  const state = new Map<string, 'visiting' | 'done'>();
  const stack: string[] = [];
  const visit = (name: string): string[] | undefined => {
    if (state.get(name) === 'done') return undefined;
    if (state.get(name) === 'visiting') return [...stack.slice(stack.indexOf(name)), name];
    state.set(name, 'visiting');
    stack.push(name);
    for (const dep of Object.keys(chosen.get(name)?.recipe.componentDependencies ?? {})) {
      if (!chosen.has(dep)) continue;
      const c = visit(dep);
      if (c) return c;
    }
    stack.pop();
    state.set(name, 'done');
    return undefined;
  };
  for (const name of [...chosen.keys()].sort()) {
    const c = visit(name);
    if (c) return c;
  }
  return undefined;
}
