// Recipe variable interpolation [RC-30..RC-35]. Unresolvable placeholders are left verbatim and
// reported as warnings; the library has no logger, the caller logs them.
import { isObject } from './fields.js';
import { artifactsDir, unarchivedDir, workDir } from './store-paths.js';
import type { Json, JsonObject } from './types.js';

/** What a placeholder can refer to about one component. */
export interface ComponentRef {
  name: string;
  version: string;
  /** The component's resolved configuration (for `{configuration:/ptr}`). */
  configuration?: JsonObject;
}

export interface InterpolationContext {
  /** Absolute root path, `{kernel:rootPath}`. */
  rootPath: string;
  /** `system.thingName`, `{iot:thingName}`. */
  thingName?: string;
  /** The component being interpolated. */
  self: ComponentRef;
  /** Its **direct** dependencies, by name; cross-component placeholders resolve only these [RC-31]. */
  dependencies?: Record<string, ComponentRef>;
  /**
   * `all` (lifecycle [RC-32]) or `system` (component configuration [RC-33]: artifacts, work,
   * kernel and iot, never configuration).
   */
  namespaces: 'all' | 'system';
}

export interface Interpolated<T> {
  value: T;
  warnings: string[];
}

// {namespace:key} and {component:namespace:key} [RC-30]; one alternation so each placeholder is
// matched once, and substituted text is never scanned again.
const PLACEHOLDER = /\{([.\w-]+):(?:([.\w-]+):)?([^:}]*)\}/g;
const SYSTEM_NAMESPACES = new Set(['artifacts', 'work', 'kernel', 'iot']);

/** Interpolates one string. */
export function interpolate(text: string, ctx: InterpolationContext): Interpolated<string> {
  const warnings: string[] = [];
  const value = text.replace(PLACEHOLDER, (whole, a: string, b: string | undefined, key: string) => {
    let target: ComponentRef | undefined = ctx.self;
    let namespace = a;
    if (b !== undefined) {
      namespace = b;
      target = ctx.dependencies && Object.hasOwn(ctx.dependencies, a) ? ctx.dependencies[a] : undefined;
      if (target === undefined) {
        warnings.push(`${whole}: ${a} is not a direct dependency of ${ctx.self.name}; left unchanged`);
        return whole;
      }
    }
    if (ctx.namespaces === 'system' && !SYSTEM_NAMESPACES.has(namespace)) {
      warnings.push(
        `${whole}: namespace "${namespace}" is not interpolated in component configuration; left unchanged`,
      );
      return whole;
    }
    const resolved = resolve(namespace, key, target, ctx);
    if (resolved === undefined) {
      warnings.push(`${whole}: ${describeMissing(namespace, key)}; left unchanged`);
      return whole;
    }
    return resolved;
  });
  return { value, warnings };
}

/** Interpolates every string value of a JSON tree (keys are left alone). */
export function interpolateTree<T extends Json>(tree: T, ctx: InterpolationContext): Interpolated<T> {
  const warnings: string[] = [];
  const walk = (node: Json): Json => {
    if (typeof node === 'string') {
      const r = interpolate(node, ctx);
      warnings.push(...r.warnings);
      return r.value;
    }
    if (Array.isArray(node)) return node.map(walk);
    if (isObject(node)) {
      const out: JsonObject = {};
      for (const [k, v] of Object.entries(node)) out[k] = walk(v);
      return out;
    }
    return node;
  };
  return { value: walk(tree) as T, warnings };
}

function resolve(
  namespace: string,
  key: string,
  c: ComponentRef,
  ctx: InterpolationContext,
): string | undefined {
  switch (namespace) {
    case 'artifacts':
      if (key === 'path') return artifactsDir(ctx.rootPath, c.name, c.version);
      if (key === 'decompressedPath') return unarchivedDir(ctx.rootPath, c.name, c.version);
      return undefined;
    case 'work':
      return key === 'path' ? workDir(ctx.rootPath, c.name) : undefined;
    case 'kernel':
      return key === 'rootPath' ? ctx.rootPath : undefined;
    case 'iot':
      return key === 'thingName' ? ctx.thingName : undefined;
    case 'configuration': {
      const found = jsonPointer(c.configuration ?? {}, key);
      return found.found ? configurationText(found.value) : undefined;
    }
    default:
      return undefined;
  }
}

function describeMissing(namespace: string, key: string): string {
  if (namespace === 'configuration') return `no configuration value at pointer ${JSON.stringify(key)}`;
  if (namespace === 'iot' && key === 'thingName') return 'the thing name is not known';
  if (!['artifacts', 'work', 'kernel', 'iot'].includes(namespace)) return `unknown namespace "${namespace}"`;
  return `unknown key "${key}" in namespace "${namespace}"`;
}

/** RFC 6901 lookup. `""` is the whole document; list members by decimal index. */
export function jsonPointer(doc: Json, pointer: string): { found: true; value: Json } | { found: false } {
  if (pointer === '') return { found: true, value: doc };
  if (!pointer.startsWith('/')) return { found: false };
  let node: Json = doc;
  for (const raw of pointer.slice(1).split('/')) {
    const token = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (Array.isArray(node)) {
      if (!/^(0|[1-9][0-9]*)$/.test(token) || Number(token) >= node.length) return { found: false };
      node = node[Number(token)];
    } else if (isObject(node) && Object.hasOwn(node, token)) {
      node = node[token];
    } else return { found: false };
  }
  return { found: true, value: node };
}

/** A configuration value as placeholder text: scalars as text, containers as sorted compact JSON. */
export function configurationText(v: Json): string {
  if (v === null) return 'null';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return JSON.stringify(sortKeys(v));
}

function sortKeys(v: Json): Json {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (isObject(v)) {
    const out: JsonObject = {};
    for (const k of Object.keys(v).sort()) out[k] = sortKeys(v[k]);
    return out;
  }
  return v;
}
