// Update behaviour trees [CF-20..CF-22]: how a map is merged into the config tree, node by node.
import { ConfigValueError, isPlainObject, normalizeJson, type JsonObject } from './json.js';
import { Topic, Topics, writeLeaf } from './node.js';

export type UpdateBehaviour = 'MERGE' | 'REPLACE';

export interface UpdateBehaviourTree {
  /** MERGE keeps existing children absent from the map; REPLACE removes them. */
  behaviour: UpdateBehaviour;
  /** Timestamp stamped on values written under this node; inherited from the parent when absent. */
  timestamp?: number;
  /** Per-key behaviour (case-insensitive); `*` matches any key not listed. */
  children?: Record<string, UpdateBehaviourTree>;
}

export interface UpdateMapOptions {
  /** Apply regardless of newer timestamps in the tree (rollback) [CF-22]. */
  force?: boolean;
}

interface Resolved {
  behaviour: UpdateBehaviour;
  timestamp: number;
  children?: Record<string, UpdateBehaviourTree>;
}

/** Behaviour of `key` under `tree`: exact key, else `*`, else inherited [CF-20]. */
export function childBehaviour(tree: Resolved, key: string): Resolved {
  const kids = tree.children;
  let hit: UpdateBehaviourTree | undefined;
  if (kids) {
    const lk = key.toLowerCase();
    for (const [k, v] of Object.entries(kids))
      if (k !== '*' && k.toLowerCase() === lk) {
        hit = v;
        break;
      }
    hit ??= kids['*'];
  }
  if (!hit) return { behaviour: tree.behaviour, timestamp: tree.timestamp };
  return { behaviour: hit.behaviour, timestamp: hit.timestamp ?? tree.timestamp, children: hit.children };
}

/** Merges `map` into `target` (see Configuration.updateMap). Validates the whole map before changing anything. */
export function applyUpdateMap(
  target: Topics,
  map: JsonObject,
  tree: UpdateBehaviourTree,
  opts: UpdateMapOptions,
): void {
  if (!isPlainObject(map)) throw new ConfigValueError(target.path().join('.'), 'the update must be a map');
  if (tree.timestamp === undefined)
    throw new ConfigValueError(
      'behaviourTree.timestamp',
      'the root of an update behaviour tree needs a timestamp',
    );
  checkTree(tree, 'behaviourTree');
  const clean = normalizeJson(map, target.path().join('.')) as JsonObject;
  mergeInto(
    target,
    clean,
    { behaviour: tree.behaviour, timestamp: tree.timestamp, children: tree.children },
    opts,
  );
}

function checkTree(tree: UpdateBehaviourTree, field: string): void {
  if (tree.behaviour !== 'MERGE' && tree.behaviour !== 'REPLACE')
    throw new ConfigValueError(
      `${field}.behaviour`,
      `must be MERGE or REPLACE, got ${String(tree.behaviour)}`,
    );
  if (tree.timestamp !== undefined && (!Number.isFinite(tree.timestamp) || tree.timestamp < 0))
    throw new ConfigValueError(`${field}.timestamp`, 'must be a non-negative epoch ms');
  for (const [k, c] of Object.entries(tree.children ?? {})) checkTree(c, `${field}.${k}`);
}

function mergeInto(target: Topics, map: JsonObject, tree: Resolved, opts: UpdateMapOptions): void {
  const force = opts.force ?? false;
  for (const [k, v] of Object.entries(map)) {
    const ct = childBehaviour(tree, k);
    if (isPlainObject(v)) {
      let child = target.child(k);
      if (child instanceof Topic) {
        if (!force && ct.timestamp < child.modtime) continue;
        child = target.replaceKind(child, ct.timestamp);
      }
      child ??= target.createInterior(k, ct.timestamp);
      mergeInto(child as Topics, v, ct, opts);
    } else {
      writeLeaf(target, k, v, ct.timestamp, { force, bumpTimestamp: true });
    }
  }
  if (tree.behaviour !== 'REPLACE') return;
  const present = new Set(Object.keys(map).map((k) => k.toLowerCase()));
  for (const child of target.children()) {
    if (present.has(child.name.toLowerCase())) continue;
    if (childBehaviour(tree, child.name).behaviour === 'REPLACE') child.remove(tree.timestamp, force);
  }
}

export interface DeploymentMergeTreeOptions {
  /** Processing time: stamps service definitions. */
  now: number;
  /** Timestamp for `services.*.configuration` [CF-24] (creation or processing time). */
  configurationTimestamp: number;
  /** Builtin services absent from the new config keep MERGE so they are not replaced away (NUC PR #1824). */
  builtinServicesNotInNewConfig?: readonly string[];
}

/** [CF-21] The deployment merge behaviour. */
export function deploymentMergeTree(o: DeploymentMergeTreeOptions): UpdateBehaviourTree {
  return serviceTree(o.now, o.configurationTimestamp, o.builtinServicesNotInNewConfig ?? []);
}

/** [CF-22] The rollback behaviour: configuration at `now`, builtins always MERGE; apply with `force`. */
export function rollbackMergeTree(o: {
  now: number;
  builtinServices?: readonly string[];
}): UpdateBehaviourTree {
  return serviceTree(o.now, o.now, o.builtinServices ?? []);
}

function serviceTree(now: number, configTs: number, mergeServices: readonly string[]): UpdateBehaviourTree {
  const services: Record<string, UpdateBehaviourTree> = {
    '*': {
      behaviour: 'REPLACE',
      timestamp: now,
      children: {
        runtime: { behaviour: 'MERGE' },
        _private: { behaviour: 'MERGE' },
        configuration: { behaviour: 'REPLACE', timestamp: configTs },
      },
    },
    _AUTHENTICATION_TOKENS: { behaviour: 'MERGE' },
  };
  for (const s of mergeServices) services[s] = { behaviour: 'MERGE' };
  return {
    behaviour: 'MERGE',
    timestamp: now,
    children: { services: { behaviour: 'MERGE', timestamp: now, children: services } },
  };
}
