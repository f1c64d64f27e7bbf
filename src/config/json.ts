// Value model of the config tree and a lossless JSON codec: integers beyond 2^53 survive as bigint [CF-13].

/** Any JSON value; integers outside the safe range are carried as bigint. */
export type JsonValue = string | number | bigint | boolean | null | JsonValue[] | JsonObject;
export interface JsonObject {
  [key: string]: JsonValue;
}
/** What a leaf may hold [CF-01]: scalars, null, or a list (whose items may be anything JSON). */
export type LeafValue = string | number | bigint | boolean | null | JsonValue[];

export class ConfigValueError extends Error {
  constructor(
    readonly field: string,
    readonly reason: string,
  ) {
    super(`${field || '(root)'}: ${reason}`);
    this.name = 'ConfigValueError';
  }
}

export function isPlainObject(v: unknown): v is JsonObject {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/** Checks that `v` is JSON-representable and returns it with safe bigints turned into numbers. */
export function normalizeJson(v: unknown, field: string): JsonValue {
  switch (typeof v) {
    case 'string':
    case 'boolean':
      return v;
    case 'number':
      if (!Number.isFinite(v)) throw new ConfigValueError(field, `number ${v} is not finite`);
      return v;
    case 'bigint':
      return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
    case 'object': {
      if (v === null) return null;
      if (Array.isArray(v)) return v.map((x, i) => normalizeJson(x, `${field}[${i}]`));
      if (!isPlainObject(v))
        throw new ConfigValueError(field, `unsupported object type ${v.constructor?.name ?? '?'}`);
      const out: JsonObject = {};
      for (const [k, x] of Object.entries(v)) out[k] = normalizeJson(x, field ? `${field}.${k}` : k);
      return out;
    }
    default:
      throw new ConfigValueError(field, `unsupported value type ${typeof v}`);
  }
}

/** Like normalizeJson but refuses a map, which must become an interior node instead. */
export function normalizeLeaf(v: unknown, field: string): LeafValue {
  if (isPlainObject(v)) throw new ConfigValueError(field, 'a map is not a leaf value (use a merge)');
  return normalizeJson(v, field) as LeafValue;
}

export function jsonEqual(a: JsonValue | undefined, b: JsonValue | undefined): boolean {
  if (a === b) return true;
  if (typeof a === 'bigint' || typeof b === 'bigint') return typeof a === typeof b && a === b;
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const bb = b as JsonValue[];
    return a.length === bb.length && a.every((x, i) => jsonEqual(x, bb[i]));
  }
  const ao = a as JsonObject;
  const bo = b as JsonObject;
  const ak = Object.keys(ao);
  if (ak.length !== Object.keys(bo).length) return false;
  return ak.every((k) => Object.hasOwn(bo, k) && jsonEqual(ao[k], bo[k]));
}

export function cloneJson<T extends JsonValue>(v: T): T {
  if (v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) return v.map((x) => cloneJson(x)) as T;
  const out: JsonObject = {};
  for (const [k, x] of Object.entries(v)) out[k] = cloneJson(x);
  return out as T;
}

/** JSON text of a value; bigints are written as plain integer literals. */
export function stringifyJson(v: JsonValue): string {
  if (!containsBigint(v)) return JSON.stringify(v);
  return writeJson(v);
}

function containsBigint(v: JsonValue): boolean {
  if (typeof v === 'bigint') return true;
  if (v === null || typeof v !== 'object') return false;
  if (Array.isArray(v)) return v.some(containsBigint);
  return Object.values(v).some(containsBigint);
}

function writeJson(v: JsonValue): string {
  if (typeof v === 'bigint') return v.toString();
  if (v === null || typeof v !== 'object') return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(writeJson).join(',')}]`;
  return `{${Object.entries(v)
    .map(([k, x]) => `${JSON.stringify(k)}:${writeJson(x)}`)
    .join(',')}}`;
}

const LONG_INTEGER = /[-\d]\d{15,}/;

/** Parses JSON text; integers that do not fit a double exactly come back as bigint. Throws SyntaxError. */
export function parseJsonLossless(text: string): JsonValue {
  if (!LONG_INTEGER.test(text)) return JSON.parse(text) as JsonValue;
  return new LosslessParser(text).parseDocument();
}

class LosslessParser {
  private i = 0;
  constructor(private readonly s: string) {}

  parseDocument(): JsonValue {
    const v = this.value();
    this.ws();
    if (this.i !== this.s.length) this.fail('unexpected trailing characters');
    return v;
  }

  private fail(msg: string): never {
    throw new SyntaxError(`${msg} at position ${this.i}`);
  }

  private ws(): void {
    while (this.i < this.s.length) {
      const c = this.s.charCodeAt(this.i);
      if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) this.i++;
      else break;
    }
  }

  private value(): JsonValue {
    this.ws();
    const c = this.s[this.i];
    if (c === '{') return this.object();
    if (c === '[') return this.array();
    if (c === '"') return this.string();
    if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) return this.number();
    for (const [word, val] of [
      ['true', true],
      ['false', false],
      ['null', null],
    ] as const) {
      if (this.s.startsWith(word, this.i)) {
        this.i += word.length;
        return val;
      }
    }
    return this.fail('unexpected character');
  }

  private object(): JsonObject {
    const out: JsonObject = {};
    this.i++;
    this.ws();
    if (this.s[this.i] === '}') {
      this.i++;
      return out;
    }
    for (;;) {
      this.ws();
      if (this.s[this.i] !== '"') this.fail('expected a string key');
      const k = this.string();
      this.ws();
      if (this.s[this.i] !== ':') this.fail('expected ":"');
      this.i++;
      out[k] = this.value();
      this.ws();
      const c = this.s[this.i++];
      if (c === '}') return out;
      if (c !== ',') this.fail('expected "," or "}"');
    }
  }

  private array(): JsonValue[] {
    const out: JsonValue[] = [];
    this.i++;
    this.ws();
    if (this.s[this.i] === ']') {
      this.i++;
      return out;
    }
    for (;;) {
      out.push(this.value());
      this.ws();
      const c = this.s[this.i++];
      if (c === ']') return out;
      if (c !== ',') this.fail('expected "," or "]"');
    }
  }

  private string(): string {
    const start = this.i;
    this.i++;
    for (;;) {
      const c = this.s[this.i];
      if (c === undefined) this.fail('unterminated string');
      if (c === '\\') this.i += 2;
      else if (c === '"') break;
      else this.i++;
    }
    this.i++;
    return JSON.parse(this.s.slice(start, this.i)) as string;
  }

  private number(): number | bigint {
    const m = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(this.s.slice(this.i, this.i + 400));
    if (!m) return this.fail('malformed number');
    this.i += m[0].length;
    if (m[2] === undefined && m[3] === undefined) {
      const n = Number(m[0]);
      return Number.isSafeInteger(n) ? n : BigInt(m[0]);
    }
    return Number(m[0]);
  }
}
