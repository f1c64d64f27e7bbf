// The in-memory configuration: root node, injected clock, publish queue [CF-04] and path-based access.
import {
  ConfigValueError,
  isPlainObject,
  normalizeLeaf,
  type JsonObject,
  type JsonValue,
  type LeafValue,
} from './json.js';
import {
  Topic,
  Topics,
  writeLeaf,
  type ChangeKind,
  type ConfigNode,
  type TreeContext,
  type Watcher,
  type WhatHappened,
  type WriteOptions,
} from './node.js';
import { applyUpdateMap, type UpdateBehaviourTree, type UpdateMapOptions } from './behaviour.js';

export type Clock = () => number;

/** Default-value timestamp, the "dawn of time" [CF-02]. */
export const DEFAULT_TIMESTAMP = 1;

export interface ConfigurationOptions {
  clock?: Clock;
  /** Called when a watcher throws; the queue carries on. Default: rethrow asynchronously is avoided, errors are counted. */
  onWatcherError?: (err: unknown, what: WhatHappened, node: ConfigNode) => void;
}

export interface SetOptions extends WriteOptions {
  /** Defaults to the clock's now. */
  timestamp?: number;
}

export type ChangeListener = (kind: ChangeKind, node: ConfigNode) => void;

interface Delivery {
  w: Watcher;
  what: WhatHappened;
  node: ConfigNode;
}

export class Configuration {
  readonly root: Topics;
  readonly clock: Clock;
  /** Number of watcher calls that threw. */
  watcherErrors = 0;
  private readonly queue: Delivery[] = [];
  private draining = false;
  private idleWaiters: (() => void)[] = [];
  private listeners: ChangeListener[] = [];
  private readonly onWatcherError?: ConfigurationOptions['onWatcherError'];

  constructor(opts: ConfigurationOptions = {}) {
    this.clock = opts.clock ?? Date.now;
    this.onWatcherError = opts.onWatcherError;
    const ctx: TreeContext = {
      publish: (ws, what, node) => {
        for (const w of ws) this.queue.push({ w, what, node });
        if (ws.length) this.scheduleDrain();
      },
      recordChange: (kind, node) => {
        for (const l of this.listeners) l(kind, node);
      },
    };
    this.root = new Topics(ctx, '', undefined, DEFAULT_TIMESTAMP);
  }

  now(): number {
    return this.clock();
  }

  /** Synchronous, ordered feed of every change (used by the tlog writer). Returns an unsubscribe function. */
  onChange(l: ChangeListener): () => void {
    this.listeners.push(l);
    return () => {
      this.listeners = this.listeners.filter((x) => x !== l);
    };
  }

  /** Resolves once the publish queue is empty (all watchers of changes made so far have run). */
  whenIdle(): Promise<void> {
    if (!this.draining && this.queue.length === 0) return Promise.resolve();
    return new Promise((r) => this.idleWaiters.push(r));
  }

  private scheduleDrain(): void {
    if (this.draining) return;
    this.draining = true;
    queueMicrotask(() => this.drain());
  }

  private drain(): void {
    for (let d = this.queue.shift(); d; d = this.queue.shift()) {
      try {
        d.w(d.what, d.node);
      } catch (err) {
        this.watcherErrors++;
        this.onWatcherError?.(err, d.what, d.node);
      }
    }
    this.draining = false;
    const ws = this.idleWaiters;
    this.idleWaiters = [];
    for (const r of ws) r();
  }

  /** The node at `path` (case-insensitive), or undefined. */
  find(path: readonly string[]): ConfigNode | undefined {
    let n: ConfigNode = this.root;
    for (const k of path) {
      if (n.kind !== 'interior') return undefined;
      const c = (n as Topics).child(k);
      if (!c) return undefined;
      n = c;
    }
    return n;
  }

  findLeaf(path: readonly string[]): Topic | undefined {
    const n = this.find(path);
    return n instanceof Topic ? n : undefined;
  }

  findTopics(path: readonly string[]): Topics | undefined {
    const n = this.find(path);
    return n instanceof Topics ? n : undefined;
  }

  /** Plain value at `path`: a leaf's value or an interior's map; undefined when absent. */
  get(path: readonly string[]): JsonValue | undefined {
    return this.find(path)?.toJson();
  }

  /** Map of the whole tree (or of the interior at `path`). */
  toMap(path: readonly string[] = []): JsonObject {
    const n = this.findTopics(path);
    return n ? n.toJson() : {};
  }

  /**
   * Walks to the interior at `path`, creating interiors stamped `timestamp`. A leaf on the way is replaced
   * by an interior only when the write is not older than it [CF-08]; otherwise returns undefined.
   */
  ensureTopics(path: readonly string[], timestamp: number, force = false): Topics | undefined {
    let t: Topics = this.root;
    for (const k of path) {
      const c = t.child(k);
      if (!c) t = t.createInterior(k, timestamp);
      else if (c instanceof Topics) t = c;
      else if (force || timestamp >= c.modtime) t = t.replaceKind(c, timestamp) as Topics;
      else return undefined;
    }
    return t;
  }

  /** The interior at `path`, created (at now) when missing. Throws if a newer leaf is in the way. */
  lookupTopics(path: readonly string[]): Topics {
    const t = this.ensureTopics(path, this.now());
    if (!t) throw new ConfigValueError(path.join('.'), 'a newer leaf is in the way of this container');
    return t;
  }

  /** The leaf at `path`, created with value null when missing. */
  lookupLeaf(path: readonly string[], timestamp = this.now()): Topic {
    checkPath(path);
    const existing = this.find(path);
    if (existing instanceof Topic) return existing;
    const parent = this.ensureTopics(path.slice(0, -1), timestamp);
    if (!parent || existing)
      throw new ConfigValueError(path.join('.'), 'a container is in the way of this leaf');
    const leaf = parent.createLeaf(path[path.length - 1], timestamp);
    leaf.fireChanged();
    return leaf;
  }

  /**
   * Newer-wins write of a leaf value [CF-03]. Returns true when something changed. A container at `path` (or a
   * leaf on the way) is replaced when the write is not older [CF-08]. Throws ConfigValueError on bad input,
   * before changing anything.
   */
  set(path: readonly string[], value: unknown, opts: SetOptions = {}): boolean {
    checkPath(path);
    if (isPlainObject(value))
      throw new ConfigValueError(path.join('.'), 'a map is not a leaf value (use updateMap or merge)');
    normalizeLeaf(value, path.join('.'));
    const ts = opts.timestamp ?? this.now();
    const name = path[path.length - 1];
    const parent = this.ensureTopics(path.slice(0, -1), ts, opts.force);
    if (!parent) return false;
    return writeLeaf(parent, name, value, ts, opts);
  }

  /** Sets `path` to `value` at timestamp 1 unless a value is already there [CF-02]. */
  setDefault(path: readonly string[], value: LeafValue): Topic {
    const existing = this.find(path);
    if (existing instanceof Topic) return existing;
    this.set(path, value, { timestamp: DEFAULT_TIMESTAMP });
    const leaf = this.findLeaf(path);
    if (!leaf) throw new ConfigValueError(path.join('.'), 'a container is in the way of this default');
    return leaf;
  }

  /** Removes the node at `path` when the removal is not older than it. Returns true when removed. */
  remove(path: readonly string[], opts: SetOptions = {}): boolean {
    checkPath(path);
    const n = this.find(path);
    if (!n) return false;
    return n.remove(opts.timestamp ?? this.now(), opts.force);
  }

  /** Merges `map` into the interior at `at` under an update behaviour tree [CF-20]. */
  updateMap(
    map: JsonObject,
    tree: UpdateBehaviourTree,
    opts: UpdateMapOptions & { at?: readonly string[] } = {},
  ): void {
    const target = this.ensureTopics(opts.at ?? [], tree.timestamp ?? this.now(), opts.force);
    if (!target)
      throw new ConfigValueError((opts.at ?? []).join('.'), 'a newer leaf is in the way of this merge');
    applyUpdateMap(target, map, tree, opts);
  }

  /** MERGE of `map` at `at` with one timestamp (default now). */
  merge(map: JsonObject, opts: { at?: readonly string[]; timestamp?: number } = {}): void {
    this.updateMap(map, { behaviour: 'MERGE', timestamp: opts.timestamp ?? this.now() }, { at: opts.at });
  }
}

function checkPath(path: readonly string[]): void {
  if (!Array.isArray(path) || path.length === 0)
    throw new ConfigValueError('(path)', 'a path must not be empty');
  for (const [i, k] of path.entries())
    if (typeof k !== 'string' || k.length === 0)
      throw new ConfigValueError(`(path)[${i}]`, 'each key must be a non-empty string');
}
