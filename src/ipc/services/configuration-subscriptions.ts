// SubscribeToConfigurationUpdate [IPC-63, IPC-111]: one listener on the config tree's ordered change
// feed, dispatching leaf changes and removals under `services.<c>.configuration.<keyPath>` to the
// matching streams. Listening to the feed (not to node watchers) keeps a subscription working when
// its node is removed and created again, or changes between leaf and container [CF-08].
import { Topics, type ChangeKind, type ConfigNode, type Configuration } from '../../config/index.js';
import { resourceNotFoundError, serviceError } from '../errors.js';
import type { CallContext, JsonObject, ServerStream } from '../operations.js';
import { configurationPath, parseComponentName, parseKeyPath } from './configuration-requests.js';

interface Subscription {
  component: string;
  /** Lower-cased keyPath prefix. */
  prefix: string[];
  stream: ServerStream;
}

const lower = (s: string) => s.toLowerCase();

export class ConfigurationSubscriptions {
  /** Lower-cased component name -> its subscriptions. */
  private readonly byComponent = new Map<string, Set<Subscription>>();
  private count = 0;
  private unlisten: (() => void) | undefined;

  constructor(private readonly config: Configuration) {}

  get size(): number {
    return this.count;
  }

  close(): void {
    this.unlisten?.();
    this.unlisten = undefined;
  }

  subscribe(req: JsonObject, ctx: CallContext, stream: ServerStream): object {
    const component = parseComponentName(req.componentName, serviceError) ?? ctx.component; // [IPC-100]
    const keyPath = parseKeyPath(req.keyPath, true, serviceError);
    const at = [...configurationPath(component), ...keyPath];
    if (!this.config.findTopics(configurationPath(component)) || !this.config.find(at)) {
      const name = `${component} configuration${keyPath.length ? ` ${keyPath.join('.')}` : ''}`;
      throw resourceNotFoundError(`Key not found: ${name}`, 'KeyPath', name); // [IPC-111]
    }
    const sub: Subscription = { component, prefix: keyPath.map(lower), stream };
    const key = lower(component);
    const set = this.byComponent.get(key) ?? new Set<Subscription>();
    this.byComponent.set(key, set);
    set.add(sub);
    this.count++;
    this.unlisten ??= this.config.onChange((kind, node) => this.onChange(kind, node));
    stream.onClose(() => {
      if (!set.delete(sub)) return;
      this.count--;
      if (set.size === 0 && this.byComponent.get(key) === set) this.byComponent.delete(key);
      if (this.count === 0) this.close();
    });
    return {};
  }

  private onChange(kind: ChangeKind, node: ConfigNode): void {
    if (kind !== 'changed' && kind !== 'removed') return; // not initialize/timestamp/interior-added [IPC-111]
    const path = node.path();
    if (path.length < 3 || lower(path[0]) !== 'services' || lower(path[2]) !== 'configuration') return;
    const subs = this.byComponent.get(lower(path[1]));
    if (!subs) return;
    const changed = kind === 'removed' ? removedLeaves(node, path) : [path];
    for (const full of changed) {
      const rel = full.slice(3);
      const relLower = rel.map(lower);
      for (const sub of subs) {
        if (sub.prefix.length > relLower.length) continue;
        if (!sub.prefix.every((k, i) => k === relLower[i])) continue;
        sub.stream.send({ configurationUpdateEvent: { componentName: sub.component, keyPath: rel } });
      }
    }
  }
}

/** A removed container stands for each leaf it held (or itself when it held none). */
function removedLeaves(node: ConfigNode, path: string[]): string[][] {
  if (!(node instanceof Topics)) return [path];
  const out: string[][] = [];
  for (const c of node.children()) out.push(...removedLeaves(c, [...path, c.name]));
  return out.length > 0 ? out : [path];
}
