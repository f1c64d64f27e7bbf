// Local pub/sub topic filters [IPC-103]: levels split on `/` with Java String.split semantics
// (trailing empty levels dropped); `+` is one level, `#` one or more remaining levels; wildcards only
// as whole levels. Empty nodes are pruned on removal [IPC-108].

export function topicLevels(topic: string): string[] {
  const levels = topic.split('/');
  while (levels.length > 0 && levels[levels.length - 1] === '') levels.pop();
  // Java: "".split("/") is [""]; only a string of separators splits to nothing.
  if (topic === '') return [''];
  return levels;
}

export const hasWildcardLevel = (filter: string) => topicLevels(filter).some((l) => l === '+' || l === '#');

/** Pure check of one filter against one topic, same rules as the trie. */
export function filterMatches(filter: string, topic: string): boolean {
  const f = topicLevels(filter);
  const t = topicLevels(topic);
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '#') return t.length > i;
    if (i >= t.length) return false;
    if (f[i] !== '+' && f[i] !== t[i]) return false;
  }
  return f.length === t.length;
}

/**
 * A trie level. Most levels have one child and most filters one subscriber, so a single child is
 * kept as a key and node and a single value as itself; a Map or Set appears only from the second
 * entry (a Map and a Set of one cost about 300 bytes together, against a few hundred per
 * subscription in all). Each field exists only while non-empty.
 */
interface Node<T> {
  key?: string;
  child?: Node<T>;
  children?: Map<string, Node<T>>;
  value?: T;
  values?: Set<T>;
}

function childOf<T>(n: Node<T>, level: string): Node<T> | undefined {
  return n.children ? n.children.get(level) : n.key === level ? n.child : undefined;
}

function addChild<T>(n: Node<T>, level: string): Node<T> {
  const next: Node<T> = {};
  if (n.children) n.children.set(level, next);
  else if (n.child) {
    n.children = new Map([
      [n.key!, n.child],
      [level, next],
    ]);
    n.key = n.child = undefined;
  } else {
    n.key = level;
    n.child = next;
  }
  return next;
}

function removeChild<T>(n: Node<T>, level: string): void {
  if (!n.children) {
    n.key = n.child = undefined;
    return;
  }
  n.children.delete(level);
  if (n.children.size === 1) {
    const [[key, child]] = n.children;
    n.key = key;
    n.child = child;
    n.children = undefined;
  }
}

function* childrenOf<T>(n: Node<T>): Iterable<Node<T>> {
  if (n.children) yield* n.children.values();
  else if (n.child) yield n.child;
}

function hasValue<T>(n: Node<T>, value: T): boolean {
  return n.values ? n.values.has(value) : n.value === value && value !== undefined;
}

function addValue<T>(n: Node<T>, value: T): boolean {
  if (hasValue(n, value)) return false;
  if (n.values) n.values.add(value);
  else if (n.value !== undefined) {
    n.values = new Set([n.value, value]);
    n.value = undefined;
  } else n.value = value;
  return true;
}

function removeValue<T>(n: Node<T>, value: T): boolean {
  if (!hasValue(n, value)) return false;
  if (!n.values) n.value = undefined;
  else {
    n.values.delete(value);
    if (n.values.size === 1) {
      [n.value] = n.values;
      n.values = undefined;
    }
  }
  return true;
}

function pushValues<T>(n: Node<T>, out: T[]): void {
  if (n.values) for (const v of n.values) out.push(v);
  else if (n.value !== undefined) out.push(n.value);
}

const isEmpty = <T>(n: Node<T>) => n.value === undefined && !n.values && !n.child && !n.children;

export class TopicTrie<T> {
  private readonly root: Node<T> = {};
  private count = 0;

  get size(): number {
    return this.count;
  }

  add(filter: string, value: T): void {
    let n = this.root;
    for (const level of topicLevels(filter)) n = childOf(n, level) ?? addChild(n, level);
    if (addValue(n, value)) this.count++;
  }

  remove(filter: string, value: T): void {
    const path: Node<T>[] = [];
    const levels = topicLevels(filter);
    let n: Node<T> | undefined = this.root;
    for (const level of levels) {
      const next: Node<T> | undefined = childOf(n, level);
      if (!next) return;
      path.push(n);
      n = next;
    }
    if (!removeValue(n, value)) return;
    this.count--;
    for (let i = path.length - 1; i >= 0; i--) {
      const child = childOf(path[i], levels[i])!;
      if (!isEmpty(child)) break;
      removeChild(path[i], levels[i]);
    }
  }

  /** Number of nodes below the root (for leak tests). */
  nodeCount(): number {
    const walk = (n: Node<T>): number => {
      let sum = 0;
      for (const c of childrenOf(n)) sum += 1 + walk(c);
      return sum;
    };
    return walk(this.root);
  }

  /** Every value whose filter matches `topic`, once per (filter, value) entry. */
  match(topic: string): T[] {
    const levels = topicLevels(topic);
    const out: T[] = [];
    collect(this.root, levels, 0, out);
    return out;
  }
}

function collect<T>(n: Node<T>, levels: string[], i: number, out: T[]): void {
  if (i === levels.length) {
    pushValues(n, out);
    return;
  }
  if (!n.children && !n.child) return;
  const exact = childOf(n, levels[i]);
  if (exact) collect(exact, levels, i + 1, out);
  const plus = levels[i] !== '+' ? childOf(n, '+') : undefined;
  if (plus) collect(plus, levels, i + 1, out);
  const hash = levels[i] !== '#' ? childOf(n, '#') : undefined;
  if (hash) pushValues(hash, out);
}
