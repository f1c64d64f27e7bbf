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

/** A trie level; its map and its set exist only while non-empty. */
interface Node<T> {
  children?: Map<string, Node<T>>;
  values?: Set<T>;
}

export class TopicTrie<T> {
  private readonly root: Node<T> = {};
  private count = 0;

  get size(): number {
    return this.count;
  }

  add(filter: string, value: T): void {
    let n = this.root;
    for (const level of topicLevels(filter)) {
      const children: Map<string, Node<T>> = (n.children ??= new Map());
      let next = children.get(level);
      if (!next) children.set(level, (next = {}));
      n = next;
    }
    const values = (n.values ??= new Set());
    if (!values.has(value)) {
      values.add(value);
      this.count++;
    }
  }

  remove(filter: string, value: T): void {
    const path: Node<T>[] = [];
    const levels = topicLevels(filter);
    let n: Node<T> | undefined = this.root;
    for (const level of levels) {
      const next: Node<T> | undefined = n.children?.get(level);
      if (!next) return;
      path.push(n);
      n = next;
    }
    if (!n.values?.delete(value)) return;
    this.count--;
    if (n.values.size === 0) n.values = undefined;
    for (let i = path.length - 1; i >= 0; i--) {
      const parent = path[i];
      const child = parent.children!.get(levels[i])!;
      if (child.values || child.children) break;
      parent.children!.delete(levels[i]);
      if (parent.children!.size === 0) parent.children = undefined;
    }
  }

  /** Number of nodes below the root (for leak tests). */
  nodeCount(): number {
    const walk = (n: Node<T>): number => {
      let sum = 0;
      if (n.children) for (const c of n.children.values()) sum += 1 + walk(c);
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
    if (n.values) for (const v of n.values) out.push(v);
    return;
  }
  const children = n.children;
  if (!children) return;
  const exact = children.get(levels[i]);
  if (exact) collect(exact, levels, i + 1, out);
  const plus = levels[i] !== '+' ? children.get('+') : undefined;
  if (plus) collect(plus, levels, i + 1, out);
  const hash = levels[i] !== '#' ? children.get('#') : undefined;
  if (hash?.values) for (const v of hash.values) out.push(v);
}
