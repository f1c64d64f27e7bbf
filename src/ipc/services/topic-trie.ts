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

interface Node<T> {
  children: Map<string, Node<T>>;
  values: Set<T>;
}
const node = <T>(): Node<T> => ({ children: new Map(), values: new Set() });

export class TopicTrie<T> {
  private readonly root: Node<T> = node();
  private count = 0;

  get size(): number {
    return this.count;
  }

  add(filter: string, value: T): void {
    let n = this.root;
    for (const level of topicLevels(filter)) {
      let next = n.children.get(level);
      if (!next) n.children.set(level, (next = node()));
      n = next;
    }
    if (!n.values.has(value)) {
      n.values.add(value);
      this.count++;
    }
  }

  remove(filter: string, value: T): void {
    const path: [Node<T>, string][] = [];
    let n: Node<T> | undefined = this.root;
    for (const level of topicLevels(filter)) {
      const next: Node<T> | undefined = n.children.get(level);
      if (!next) return;
      path.push([n, level]);
      n = next;
    }
    if (!n.values.delete(value)) return;
    this.count--;
    for (let i = path.length - 1; i >= 0; i--) {
      const [parent, level] = path[i];
      const child = parent.children.get(level)!;
      if (child.values.size > 0 || child.children.size > 0) break;
      parent.children.delete(level);
    }
  }

  /** Number of nodes below the root (for leak tests). */
  nodeCount(): number {
    const walk = (n: Node<T>): number => [...n.children.values()].reduce((sum, c) => sum + 1 + walk(c), 0);
    return walk(this.root);
  }

  /** Every value whose filter matches `topic`, once per (filter, value) entry. */
  match(topic: string): T[] {
    const levels = topicLevels(topic);
    const out: T[] = [];
    const visit = (n: Node<T>, i: number) => {
      if (i === levels.length) {
        for (const v of n.values) out.push(v);
        return;
      }
      const exact = n.children.get(levels[i]);
      if (exact) visit(exact, i + 1);
      const plus = levels[i] !== '+' ? n.children.get('+') : undefined;
      if (plus) visit(plus, i + 1);
      const hash = levels[i] !== '#' ? n.children.get('#') : undefined;
      if (hash) for (const v of hash.values) out.push(v);
    };
    visit(this.root, 0);
    return out;
  }
}
