// Field validation for request members [CP-52]. Each check throws a ValidationException naming the field,
// before any state is touched.
import { validationError } from './http/errors.js';

type Obj = Record<string, unknown>;

export function isObject(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export interface StringRule {
  min?: number;
  max?: number;
  pattern?: RegExp;
  /** Human description of `pattern` for the error message. */
  patternText?: string;
}

export function checkString(v: unknown, name: string, rule: StringRule = {}): string {
  if (typeof v !== 'string') throw validationError(`${name} must be a string`, name);
  const min = rule.min ?? 1;
  if (v.length < min) throw validationError(`${name} must be at least ${min} characters long`, name);
  if (rule.max !== undefined && v.length > rule.max)
    throw validationError(`${name} must be at most ${rule.max} characters long`, name);
  if (rule.pattern && !rule.pattern.test(v))
    throw validationError(`${name} must match ${rule.patternText ?? rule.pattern.source}`, name);
  return v;
}

export function requiredString(obj: Obj, key: string, rule: StringRule = {}, name = key): string {
  if (obj[key] === undefined || obj[key] === null) throw validationError(`${name} is required`, name);
  return checkString(obj[key], name, rule);
}

export function optionalString(obj: Obj, key: string, rule: StringRule = {}, name = key): string | undefined {
  if (obj[key] === undefined || obj[key] === null) return undefined;
  return checkString(obj[key], name, rule);
}

export function optionalEnum<T extends string>(
  v: unknown,
  name: string,
  values: readonly T[],
): T | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string' || !(values as readonly string[]).includes(v))
    throw validationError(`${name} must be one of ${values.join(', ')}`, name);
  return v as T;
}

export function optionalInteger(v: unknown, name: string, min?: number, max?: number): number | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v))
    throw validationError(`${name} must be an integer`, name);
  if (min !== undefined && v < min) throw validationError(`${name} must be at least ${min}`, name);
  if (max !== undefined && v > max) throw validationError(`${name} must be at most ${max}`, name);
  return v;
}

export function optionalNumber(v: unknown, name: string, min?: number, max?: number): number | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw validationError(`${name} must be a number`, name);
  if (min !== undefined && v < min) throw validationError(`${name} must be at least ${min}`, name);
  if (max !== undefined && v > max) throw validationError(`${name} must be at most ${max}`, name);
  return v;
}

export function optionalBoolean(v: unknown, name: string): boolean | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'boolean') throw validationError(`${name} must be a boolean`, name);
  return v;
}

export function optionalObject(v: unknown, name: string): Obj | undefined {
  if (v === undefined || v === null) return undefined;
  if (!isObject(v)) throw validationError(`${name} must be an object`, name);
  return v;
}

export function optionalArray(v: unknown, name: string, min = 0, max?: number): unknown[] | undefined {
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v)) throw validationError(`${name} must be a list`, name);
  if (v.length < min) throw validationError(`${name} must have at least ${min} item(s)`, name);
  if (max !== undefined && v.length > max)
    throw validationError(`${name} must have at most ${max} items`, name);
  return v;
}

/** A map<string, string> member with key/value length bounds. */
export function optionalStringMap(
  v: unknown,
  name: string,
  keyRule: StringRule = {},
  valueRule: StringRule = {},
): Record<string, string> | undefined {
  const obj = optionalObject(v, name);
  if (!obj) return undefined;
  const out: Record<string, string> = {};
  for (const [k, val] of Object.entries(obj)) {
    checkString(k, `${name} key`, keyRule);
    out[k] = checkString(val, `${name}.${k}`, valueRule);
  }
  return out;
}

/** The clientToken idempotency member [CP-52]. */
export function optionalClientToken(body: Obj): string | undefined {
  return optionalString(body, 'clientToken', {
    max: 64,
    pattern: /^[a-zA-Z0-9-]+$/,
    patternText: '^[a-zA-Z0-9-]+$',
  });
}

/** Thing names, 1-128 characters [CP-52]. */
export function thingName(v: unknown, name: string): string {
  if (v === undefined || v === '') throw validationError(`${name} is required`, name);
  return checkString(v, name, { max: 128, pattern: /^[a-zA-Z0-9:_-]+$/, patternText: '^[a-zA-Z0-9:_-]+$' });
}

/** `maxResults` query parameter [CP-10]: an integer within 1-100. */
export function maxResultsParam(query: URLSearchParams): number | undefined {
  const raw = query.get('maxResults');
  if (raw === null) return undefined;
  const n = Number(raw);
  if (!/^-?\d+$/.test(raw) || !Number.isInteger(n))
    throw validationError('maxResults must be an integer', 'maxResults');
  if (n < 1 || n > 100) throw validationError('maxResults must be between 1 and 100', 'maxResults');
  return n;
}

export function enumParam<T extends string>(
  query: URLSearchParams,
  name: string,
  values: readonly T[],
): T | undefined {
  return optionalEnum(query.get(name) ?? undefined, name, values);
}
