// The timestamped config tree [CF-01..CF-08]: interior nodes (Topics) with case-insensitive keys, leaves (Topic) with values.
import {
  ConfigValueError,
  cloneJson,
  jsonEqual,
  normalizeLeaf,
  type JsonObject,
  type JsonValue,
  type LeafValue,
} from './json.js';

/** [CF-05] */
export type WhatHappened =
  | 'changed'
  | 'initialized'
  | 'childChanged'
  | 'removed'
  | 'childRemoved'
  | 'timestampUpdated'
  | 'interiorAdded';

/** A subscriber. For child* events `node` is the descendant that changed. */
export type Watcher = (what: WhatHappened, node: ConfigNode) => void;

/** Rewrites (or refuses, by throwing) a proposed leaf value [CF-06]. */
export type Validator = (proposed: LeafValue, current: LeafValue) => LeafValue;

/** What the persistence layer sees, synchronously and in order, for every structural or value change. */
export type ChangeKind = 'changed' | 'removed' | 'timestampUpdated' | 'interiorAdded';

export interface TreeContext {
  /** Queue watcher calls on the single ordered publish queue [CF-04]. */
  publish(watchers: readonly Watcher[], what: WhatHappened, node: ConfigNode): void;
  /** Synchronous change feed (tlog writer). */
  recordChange(kind: ChangeKind, node: ConfigNode): void;
}

export interface WriteOptions {
  /** Apply even when older than the node's modtime (rollback). */
  force?: boolean;
  /** When the value is equal but the timestamp newer, raise modtime and fire timestampUpdated [CF-03]. */
  bumpTimestamp?: boolean;
}

export abstract class ConfigNode {
  /** Subscribers of this node; moved to a replacement node on leaf<->container changes [CF-08]. */
  watchers: Watcher[] = [];

  constructor(
    protected readonly ctx: TreeContext,
    /** The key as first written (original spelling). */
    readonly name: string,
    public parent: Topics | undefined,
    public modtime: number,
  ) {}

  abstract readonly kind: 'leaf' | 'interior';

  /** @internal the path a node had when it was removed, so watchers of `removed` can still name it. */
  detachedPath?: string[];

  /** Path of original-spelling keys from the root (root = []). */
  path(): string[] {
    const out: string[] = [this.name];
    let n: ConfigNode | undefined = this.parent;
    if (!n) return this.detachedPath ? [...this.detachedPath] : [];
    while (n.parent) {
      out.push(n.name);
      n = n.parent;
    }
    out.reverse();
    return n.detachedPath ? [...n.detachedPath, ...out] : out;
  }

  /** [CF-07] true when this node or an ancestor starts with `_`. */
  isMemoryOnly(): boolean {
    return this.path().some((k) => k.startsWith('_'));
  }

  /** Adds a watcher and calls it at once with `initialized` [CF-04]. Returns an unsubscribe function. */
  subscribe(w: Watcher): () => void {
    this.watchers.push(w);
    w('initialized', this);
    return () => {
      this.watchers = this.watchers.filter((x) => x !== w);
    };
  }

  /** Removes this node (and its subtree) if `timestamp` is not older than its modtime (or forced). */
  remove(timestamp: number, force = false): boolean {
    if (!this.parent) throw new ConfigValueError('(root)', 'the root cannot be removed');
    if (!force && timestamp < this.modtime) return false;
    const parent = this.parent;
    this.modtime = timestamp;
    this.ctx.recordChange('removed', this);
    parent.detach(this);
    this.notifyRemoved();
    for (let a: Topics | undefined = parent; a; a = a.parent)
      this.ctx.publish(a.watchers, 'childRemoved', this);
    return true;
  }

  /** @internal fires `removed` on this node and, for interiors, on every descendant. */
  notifyRemoved(): void {
    this.ctx.publish(this.watchers, 'removed', this);
  }

  /** Plain value: a LeafValue for leaves, a map for interiors. */
  abstract toJson(): JsonValue;
}

export class Topic extends ConfigNode {
  readonly kind = 'leaf' as const;
  private validators: Validator[] = [];

  constructor(
    ctx: TreeContext,
    name: string,
    parent: Topics | undefined,
    modtime: number,
    public value: LeafValue,
  ) {
    super(ctx, name, parent, modtime);
  }

  addValidator(v: Validator): () => void {
    this.validators.push(v);
    return () => {
      this.validators = this.validators.filter((x) => x !== v);
    };
  }

  /** Newer-wins write [CF-03]. Returns true when the value changed. Throws ConfigValueError on a bad value. */
  withNewerValue(timestamp: number, proposed: unknown, opts: WriteOptions = {}): boolean {
    checkTimestamp(timestamp, this);
    let v = normalizeLeaf(proposed, this.path().join('.'));
    if (!opts.force && timestamp < this.modtime) return false;
    for (const val of this.validators) v = normalizeLeaf(val(v, this.value), this.path().join('.'));
    if (jsonEqual(v, this.value)) {
      if (opts.bumpTimestamp && timestamp > this.modtime) {
        this.modtime = timestamp;
        this.ctx.recordChange('timestampUpdated', this);
        this.ctx.publish(this.watchers, 'timestampUpdated', this);
      }
      return false;
    }
    this.value = v;
    this.modtime = timestamp;
    this.fireChanged();
    return true;
  }

  /** Raises modtime without touching the value (tlog `timestampUpdated` replay). */
  raiseModtime(timestamp: number): void {
    if (timestamp > this.modtime) this.modtime = timestamp;
  }

  fireChanged(): void {
    this.ctx.recordChange('changed', this);
    this.ctx.publish(this.watchers, 'changed', this);
    for (let a = this.parent; a; a = a.parent) this.ctx.publish(a.watchers, 'childChanged', this);
  }

  toJson(): LeafValue {
    return cloneJson(this.value);
  }
}

export class Topics extends ConfigNode {
  readonly kind = 'interior' as const;
  private readonly kids = new Map<string, ConfigNode>();

  /** Child by case-insensitive key [CF-01]. */
  child(name: string): ConfigNode | undefined {
    return this.kids.get(name.toLowerCase());
  }

  children(): ConfigNode[] {
    return [...this.kids.values()];
  }

  get size(): number {
    return this.kids.size;
  }

  /** @internal */
  detach(child: ConfigNode): void {
    if (this.kids.get(child.name.toLowerCase()) === child) this.kids.delete(child.name.toLowerCase());
    child.detachedPath = child.path();
    child.parent = undefined;
  }

  /** A new leaf child (default value null); records nothing until a value is written. */
  createLeaf(name: string, timestamp: number): Topic {
    checkKey(name, this);
    const t = new Topic(this.ctx, name, this, timestamp, null);
    this.kids.set(name.toLowerCase(), t);
    return t;
  }

  createInterior(name: string, timestamp: number): Topics {
    checkKey(name, this);
    const t = new Topics(this.ctx, name, this, timestamp);
    this.kids.set(name.toLowerCase(), t);
    this.ctx.recordChange('interiorAdded', t);
    for (let a: Topics | undefined = t.parent; a; a = a.parent)
      this.ctx.publish(a.watchers, 'interiorAdded', t);
    return t;
  }

  /**
   * Replaces a child by a node of the other kind [CF-08]: the old node is removed (recorded as such) and its
   * watchers move to the new one.
   */
  replaceKind(old: ConfigNode, timestamp: number): ConfigNode {
    const watchers = old.watchers;
    this.kids.delete(old.name.toLowerCase());
    old.modtime = timestamp;
    this.ctx.recordChange('removed', old);
    old.detachedPath = old.path();
    old.parent = undefined;
    const fresh =
      old.kind === 'leaf' ? this.createInterior(old.name, timestamp) : this.createLeaf(old.name, timestamp);
    fresh.watchers = watchers;
    old.watchers = [];
    if (fresh.kind === 'interior') this.ctx.publish(watchers, 'interiorAdded', fresh);
    return fresh;
  }

  override notifyRemoved(): void {
    for (const k of this.kids.values()) k.notifyRemoved();
    super.notifyRemoved();
  }

  toJson(): JsonObject {
    const out: JsonObject = {};
    for (const k of this.kids.values()) out[k.name] = k.toJson();
    return out;
  }
}

/** Writes a leaf child of `parent` with newer-wins, creating or converting it as needed. */
export function writeLeaf(
  parent: Topics,
  name: string,
  value: unknown,
  ts: number,
  opts: WriteOptions,
): boolean {
  normalizeLeaf(value, [...parent.path(), name].join('.'));
  const c = parent.child(name);
  if (c instanceof Topic) return c.withNewerValue(ts, value, opts);
  if (c && !opts.force && ts < c.modtime) return false;
  const leaf = (c ? parent.replaceKind(c, ts) : parent.createLeaf(name, ts)) as Topic;
  if (!leaf.withNewerValue(ts, value, { ...opts, force: true })) leaf.fireChanged();
  return true;
}

function checkKey(name: string, parent: Topics): void {
  if (typeof name !== 'string' || name.length === 0)
    throw new ConfigValueError(parent.path().join('.'), 'a key must be a non-empty string');
}

function checkTimestamp(ts: number, node: ConfigNode): void {
  if (typeof ts !== 'number' || !Number.isFinite(ts) || ts < 0)
    throw new ConfigValueError(
      node.path().join('.'),
      `timestamp ${String(ts)} is not a non-negative epoch ms`,
    );
}
