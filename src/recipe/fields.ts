// Small helpers for reading a loosely typed recipe document: case-insensitive property lookup
// [RC-01], JSON-path rendering and problem collection. Used only inside src/recipe.
import type { Json, JsonObject, RecipeProblem } from './types.js';

/** The path used for problems that concern the whole document rather than one field. */
export const DOCUMENT_PATH = '(document)';

export function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Appends a property to a JSON path, quoting keys that are not plain identifiers. */
export function childPath(base: string, key: string): string {
  const plain = /^[A-Za-z_][A-Za-z0-9_]*$/.test(key);
  const part = plain ? key : `[${JSON.stringify(key)}]`;
  if (base === '') return plain ? key : part;
  return plain ? `${base}.${key}` : `${base}${part}`;
}

export function indexPath(base: string, i: number): string {
  return `${base}[${i}]`;
}

export class Problems {
  readonly list: RecipeProblem[] = [];
  add(path: string, reason: string): void {
    this.list.push({ path, reason });
  }
}

export function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a map';
  return `${typeof v} ${JSON.stringify(v)}`;
}

/**
 * A view of one map in the document whose property names are matched case-insensitively. A name
 * spelled twice with different case is a problem, because which one wins would be arbitrary.
 */
export class CaseInsensitiveMap {
  private readonly byLower = new Map<string, string>();

  constructor(
    readonly obj: JsonObject,
    readonly path: string,
    problems: Problems,
  ) {
    for (const key of Object.keys(obj)) {
      const lower = key.toLowerCase();
      const prev = this.byLower.get(lower);
      if (prev !== undefined) {
        problems.add(childPath(path, key), `duplicate property: also spelled "${prev}"`);
        continue;
      }
      this.byLower.set(lower, key);
    }
  }

  /** The value for a canonical (PascalCase) property name, or undefined when absent. */
  get(name: string): Json | undefined {
    const key = this.byLower.get(name.toLowerCase());
    return key === undefined ? undefined : this.obj[key];
  }

  has(name: string): boolean {
    return this.byLower.has(name.toLowerCase());
  }
}

/**
 * Reads a scalar as a string: YAML and JSON scalars (numbers, booleans) are accepted as text, as the
 * reference loader coerces them. Returns undefined and records a problem for containers.
 */
export function scalarText(v: Json | undefined, path: string, problems: Problems): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  problems.add(path, `must be a string, got ${describe(v)}`);
  return undefined;
}

/** Matches an enum value case-insensitively and returns the canonical spelling. */
export function enumValue<T extends string>(
  v: Json | undefined,
  allowed: readonly T[],
  fallback: T,
  path: string,
  problems: Problems,
): T {
  const text = scalarText(v, path, problems);
  if (text === undefined) return fallback;
  const hit = allowed.find((a) => a.toLowerCase() === text.toLowerCase());
  if (hit === undefined) {
    problems.add(path, `must be one of ${allowed.join(', ')}, got ${JSON.stringify(text)}`);
    return fallback;
  }
  return hit;
}
