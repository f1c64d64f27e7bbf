// Typed reads from a loosely typed deployment document, collecting every problem with its path.
// Used only by the document parsers of this folder.
import type { Json, JsonObject } from '../recipe/index.js';
import { componentVersionProblem } from '../recipe/index.js';
import type {
  ConfigurationUpdate,
  DocumentProblem,
  RunWithUpdate,
  SystemResourceLimits,
} from './document-types.js';

export const DOCUMENT = '(document)';

export function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** `base.key` (or `key` at the top). */
export function fieldPath(base: string, key: string): string {
  return base === '' ? key : `${base}.${key}`;
}

/** `base["name"]`: map entries are always quoted, since component names contain dots. */
export function entryPath(base: string, name: string): string {
  return `${base}[${JSON.stringify(name)}]`;
}

export function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'an object';
  return `${typeof v} ${JSON.stringify(v)}`;
}

export class Problems {
  readonly errors: DocumentProblem[] = [];
  readonly warnings: DocumentProblem[] = [];
  add(path: string, reason: string): void {
    this.errors.push({ path, reason });
  }
  warn(path: string, reason: string): void {
    this.warnings.push({ path, reason });
  }

  /** A string, or undefined when absent/null; a problem when it has another type or is required. */
  string(obj: JsonObject, key: string, base: string, required = false): string | undefined {
    const v = obj[key];
    const path = fieldPath(base, key);
    if (v === undefined || v === null) {
      if (required) this.add(path, 'required');
      return undefined;
    }
    if (typeof v !== 'string') {
      this.add(path, `must be a string, got ${describe(v)}`);
      return undefined;
    }
    if (required && v.trim() === '') {
      this.add(path, 'must not be empty');
      return undefined;
    }
    return v;
  }

  /** The document's id, else the transport's `fallback`; `required` when neither exists. */
  idWithFallback(obj: JsonObject, key: string, fallback: string | undefined): string | undefined {
    const own = obj[key];
    if ((own === undefined || own === null) && fallback === undefined) {
      this.add(key, 'required');
      return undefined;
    }
    return this.string(obj, key, '', own !== undefined && own !== null) ?? fallback;
  }

  /** A finite number >= 0; digit strings are accepted as the reference's JSON mapper coerces them. */
  number(obj: JsonObject, key: string, base: string): number | undefined {
    const v = obj[key];
    const path = fieldPath(base, key);
    if (v === undefined || v === null) return undefined;
    let n: number | undefined;
    if (typeof v === 'number') n = v;
    else if (typeof v === 'string' && /^\s*[0-9]+(\.[0-9]+)?\s*$/.test(v)) n = Number(v);
    if (n === undefined || !Number.isFinite(n)) {
      this.add(path, `must be a number, got ${describe(v)}`);
      return undefined;
    }
    if (n < 0) {
      this.add(path, `must not be negative, got ${n}`);
      return undefined;
    }
    return n;
  }

  object(obj: JsonObject, key: string, base: string, required = false): JsonObject | undefined {
    const v = obj[key];
    const path = fieldPath(base, key);
    if (v === undefined || v === null) {
      if (required) this.add(path, 'required');
      return undefined;
    }
    if (!isObject(v)) {
      this.add(path, `must be an object, got ${describe(v)}`);
      return undefined;
    }
    return v;
  }

  oneOf<T extends string>(obj: JsonObject, key: string, base: string, allowed: readonly T[]): T | undefined {
    const v = this.string(obj, key, base);
    if (v === undefined) return undefined;
    if (!(allowed as readonly string[]).includes(v)) {
      this.add(fieldPath(base, key), `must be one of ${allowed.join(', ')}, got ${JSON.stringify(v)}`);
      return undefined;
    }
    return v as T;
  }

  stringList(obj: JsonObject, key: string, base: string): string[] | undefined {
    const v = obj[key];
    const path = fieldPath(base, key);
    if (v === undefined || v === null) return undefined;
    if (!Array.isArray(v)) {
      this.add(path, `must be a list of strings, got ${describe(v)}`);
      return undefined;
    }
    const out: string[] = [];
    v.forEach((item, i) => {
      if (typeof item === 'string') out.push(item);
      else this.add(`${path}[${i}]`, `must be a string, got ${describe(item)}`);
    });
    return out;
  }

  boolean(obj: JsonObject, key: string, base: string): boolean | undefined {
    const v = obj[key];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'boolean') {
      this.add(fieldPath(base, key), `must be true or false, got ${describe(v)}`);
      return undefined;
    }
    return v;
  }

  /** A component version: required, and a valid semantic version [RC-05]. */
  version(obj: JsonObject, key: string, base: string): string | undefined {
    return this.versionValue(obj[key], fieldPath(base, key));
  }

  versionValue(v: Json | undefined, path: string): string | undefined {
    if (v === undefined || v === null) {
      this.add(path, 'required');
      return undefined;
    }
    if (typeof v !== 'string') {
      this.add(path, `must be a version string, got ${describe(v)}`);
      return undefined;
    }
    const why = componentVersionProblem(v);
    if (why !== undefined) {
      this.add(path, why);
      return undefined;
    }
    return v;
  }

  /** A component name used as a map key or list entry. */
  componentName(name: string, path: string): boolean {
    if (name.trim() === '') {
      this.add(path, 'component name must not be empty');
      return false;
    }
    return true;
  }

  /**
   * `{merge|MERGE: object, reset|RESET: [pointer...]}` [CF-23, DP-14, DP-20]. `mergeKeys` and
   * `resetKeys` list the accepted spellings of the form being read.
   */
  configurationUpdate(
    v: Json | undefined,
    path: string,
    mergeKeys: readonly string[],
    resetKeys: readonly string[],
  ): ConfigurationUpdate | undefined {
    if (v === undefined || v === null) return undefined;
    if (!isObject(v)) {
      this.add(path, `must be an object, got ${describe(v)}`);
      return undefined;
    }
    const out: ConfigurationUpdate = {};
    const mergeKey = this.pickSpelling(v, mergeKeys, path);
    if (mergeKey !== undefined) {
      const m = v[mergeKey];
      if (typeof m === 'string') {
        this.add(
          fieldPath(path, mergeKey),
          'must be a JSON object; a serialized JSON string is the control-plane CreateDeployment form, ' +
            'which the cloud parses before building the device document',
        );
      } else if (m !== null && m !== undefined) {
        if (isObject(m)) out.merge = m;
        else this.add(fieldPath(path, mergeKey), `must be an object, got ${describe(m)}`);
      }
    }
    const resetKey = this.pickSpelling(v, resetKeys, path);
    if (resetKey !== undefined) {
      const list = this.stringList(v, resetKey, path);
      if (list !== undefined) {
        list.forEach((p, i) => {
          if (p !== '' && !p.startsWith('/')) {
            this.add(
              `${fieldPath(path, resetKey)}[${i}]`,
              `must be a JSON pointer ("" or starting with "/"), got ${JSON.stringify(p)}`,
            );
          }
        });
        out.reset = list;
      }
    }
    return out;
  }

  /** `{posixUser, windowsUser, systemResourceLimits{memory, cpus}}` in the given spellings [DP-15]. */
  runWith(
    v: Json | undefined,
    path: string,
    keys: { posixUser: readonly string[]; windowsUser: readonly string[]; limits: readonly string[] },
    missingMeans: 'keep' | 'remove',
  ): RunWithUpdate | undefined {
    if (v === undefined || v === null) return missingMeans === 'remove' ? removeAll() : undefined;
    if (!isObject(v)) {
      this.add(path, `must be an object, got ${describe(v)}`);
      return undefined;
    }
    const out: RunWithUpdate = {};
    for (const field of ['posixUser', 'windowsUser'] as const) {
      const key = this.pickSpelling(v, keys[field], path);
      if (key === undefined) {
        if (missingMeans === 'remove') out[field] = null;
        continue;
      }
      const s = v[key];
      if (s === null) out[field] = null;
      else if (typeof s === 'string') out[field] = s === '' ? null : s;
      else this.add(fieldPath(path, key), `must be a string, got ${describe(s)}`);
    }
    const limitsKey = this.pickSpelling(v, keys.limits, path);
    if (limitsKey === undefined) {
      if (missingMeans === 'remove') out.systemResourceLimits = null;
    } else {
      const l = v[limitsKey];
      if (l === null) out.systemResourceLimits = null;
      else if (!isObject(l)) this.add(fieldPath(path, limitsKey), `must be an object, got ${describe(l)}`);
      else out.systemResourceLimits = this.limits(l, fieldPath(path, limitsKey));
    }
    return out;
  }

  private limits(l: JsonObject, path: string): SystemResourceLimits {
    const out: SystemResourceLimits = {};
    const memory = this.number(l, 'memory', path);
    if (memory !== undefined) {
      if (!Number.isInteger(memory))
        this.add(fieldPath(path, 'memory'), `must be a whole number of KiB, got ${memory}`);
      else out.memory = memory;
    }
    const cpus = this.number(l, 'cpus', path);
    if (cpus !== undefined) {
      if (cpus === 0) this.add(fieldPath(path, 'cpus'), 'must be greater than 0');
      else out.cpus = cpus;
    }
    return out;
  }

  /** The one key of `spellings` present in `obj`; two present is a problem (which wins is arbitrary). */
  pickSpelling(obj: JsonObject, spellings: readonly string[], path: string): string | undefined {
    const present = spellings.filter((k) => obj[k] !== undefined);
    if (present.length > 1) {
      this.add(fieldPath(path, present[1]), `conflicts with "${present[0]}": give only one of them`);
    }
    return present[0];
  }
}

function removeAll(): RunWithUpdate {
  return { posixUser: null, windowsUser: null, systemResourceLimits: null };
}

/** `thinggroup/<name>` or `thing/<name>` from an ARN's resource part, else undefined [DP-23]. */
export function groupFromArn(arn: string | undefined): string | undefined {
  if (arn === undefined) return undefined;
  const m = /(?:^|:)(thinggroup|thing)\/([^:/]+)(?::[^:]*)?$/.exec(arn);
  return m ? `${m[1]}/${m[2]}` : undefined;
}
