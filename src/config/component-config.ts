// Component configuration MERGE/RESET resolution [CF-23..CF-25], as a pure function over plain maps.
import {
  ConfigValueError,
  cloneJson,
  isPlainObject,
  normalizeJson,
  type JsonObject,
  type JsonValue,
} from './json.js';

/** A deployment's per-component configuration update [CF-23]. */
export interface ComponentConfigurationUpdate {
  merge?: JsonObject | null;
  /** JSON pointers; `""` resets the whole document. */
  reset?: readonly string[] | null;
}

export interface ResolveComponentConfigurationInput {
  /** The running configuration (for a new nucleus-type component, the existing nucleus configuration). */
  current?: JsonObject | null;
  /** modtime of the current node at a path (for newer-wins against MERGE); omit to let MERGE always win. */
  currentModtime?: (path: readonly string[]) => number | undefined;
  /** The recipe's DefaultConfiguration, applied at timestamp 1 (fills only missing keys). */
  defaults?: JsonObject | null;
  update?: ComponentConfigurationUpdate | null;
  /** The deployment's configuration timestamp [CF-24 step 4]. */
  timestamp: number;
}

export interface RejectedReset {
  pointer: string;
  reason: string;
}

export interface ResolvedComponentConfiguration {
  /** The configuration to write with REPLACE at `timestamp` [CF-24 step 5]. */
  configuration: JsonObject;
  /** RESET pointers that were skipped, with why (pointers into arrays) [CF-24 step 2]. */
  rejectedResets: RejectedReset[];
}

/** Parses a JSON pointer (RFC 6901) into keys; throws ConfigValueError naming `field` when malformed. */
export function parseJsonPointer(pointer: string, field: string): string[] {
  if (typeof pointer !== 'string')
    throw new ConfigValueError(field, 'a RESET entry must be a string JSON pointer');
  if (pointer === '') return [];
  if (!pointer.startsWith('/'))
    throw new ConfigValueError(field, `JSON pointer "${pointer}" must be "" or start with "/"`);
  return pointer
    .slice(1)
    .split('/')
    .map((seg) => {
      if (/~[^01]|~$/.test(seg))
        throw new ConfigValueError(field, `JSON pointer "${pointer}" has a bad "~" escape`);
      return seg.replace(/~1/g, '/').replace(/~0/g, '~');
    });
}

/** [CF-24] copy current -> RESET -> defaults at ts 1 -> MERGE at the deployment timestamp. Throws on bad input. */
export function resolveComponentConfiguration(
  input: ResolveComponentConfigurationInput,
): ResolvedComponentConfiguration {
  const update = input.update ?? {};
  if (input.update != null && !isPlainObject(input.update))
    throw new ConfigValueError('configurationUpdate', 'must be an object with merge and reset');
  if (update.merge != null && !isPlainObject(update.merge))
    throw new ConfigValueError('configurationUpdate.merge', 'must be a map');
  if (update.reset != null && !Array.isArray(update.reset))
    throw new ConfigValueError('configurationUpdate.reset', 'must be a list of JSON pointers');
  if (input.defaults != null && !isPlainObject(input.defaults))
    throw new ConfigValueError('defaultConfiguration', 'must be a map');
  if (!Number.isFinite(input.timestamp) || input.timestamp < 0)
    throw new ConfigValueError('timestamp', 'must be a non-negative epoch ms');
  const pointers = (update.reset ?? []).map((p, i) => ({
    p,
    keys: parseJsonPointer(p, `configurationUpdate.reset[${i}]`),
  }));
  const merge = update.merge ? (normalizeJson(update.merge, 'configurationUpdate.merge') as JsonObject) : {};
  const defaults = input.defaults
    ? (normalizeJson(input.defaults, 'defaultConfiguration') as JsonObject)
    : {};

  let doc: JsonObject = input.current ? cloneJson(input.current) : {};
  const rejectedResets: RejectedReset[] = [];
  for (const { p, keys } of pointers) {
    if (keys.length === 0) {
      doc = {};
      continue;
    }
    const why = resetAt(doc, keys);
    if (why) rejectedResets.push({ pointer: p, reason: why });
  }

  const fromDefaults = new Set<string>();
  fillDefaults(doc, defaults, [], fromDefaults);
  mergeAt(doc, merge, [], { ...input, fromDefaults });
  return { configuration: doc, rejectedResets };
}

function findKey(o: JsonObject, key: string): string | undefined {
  if (Object.hasOwn(o, key)) return key;
  const lk = key.toLowerCase();
  return Object.keys(o).find((k) => k.toLowerCase() === lk);
}

/** Removes the subtree at keys; returns a reason when the pointer goes into an array. */
function resetAt(doc: JsonObject, keys: string[]): string | undefined {
  let o: JsonValue = doc;
  for (let i = 0; i < keys.length; i++) {
    if (Array.isArray(o))
      return `"/${keys.slice(0, i).join('/')}" is a list: pointers into arrays cannot be reset`;
    if (!isPlainObject(o)) return undefined;
    const k = findKey(o, keys[i]);
    if (k === undefined) return undefined;
    if (i === keys.length - 1) {
      delete o[k];
      return undefined;
    }
    o = o[k];
  }
  return undefined;
}

function fillDefaults(doc: JsonObject, dflt: JsonObject, path: string[], from: Set<string>): void {
  for (const [k, v] of Object.entries(dflt)) {
    const have = findKey(doc, k);
    if (have === undefined) {
      doc[k] = cloneJson(v);
      from.add(JSON.stringify([...path, k].map((x) => x.toLowerCase())));
    } else if (isPlainObject(doc[have]) && isPlainObject(v))
      fillDefaults(doc[have] as JsonObject, v, [...path, have], from);
  }
}

interface MergeCtx {
  currentModtime?: (path: readonly string[]) => number | undefined;
  timestamp: number;
  fromDefaults: Set<string>;
}

function cameFromDefaults(path: string[], ctx: MergeCtx): boolean {
  for (let i = 1; i <= path.length; i++)
    if (ctx.fromDefaults.has(JSON.stringify(path.slice(0, i).map((x) => x.toLowerCase())))) return true;
  return false;
}

/** Level-by-level merge [CF-25]: lists wholesale, null allowed, leaf<->map changes allowed, newer-wins. */
function mergeAt(doc: JsonObject, merge: JsonObject, path: string[], ctx: MergeCtx): void {
  for (const [k, v] of Object.entries(merge)) {
    const have = findKey(doc, k);
    const key = have ?? k;
    const p = [...path, key];
    if (have !== undefined && isPlainObject(doc[have]) && isPlainObject(v)) {
      mergeAt(doc[have] as JsonObject, v, p, ctx);
      continue;
    }
    if (have !== undefined && !cameFromDefaults(p, ctx)) {
      const mt = ctx.currentModtime?.(p);
      if (mt !== undefined && mt > ctx.timestamp) continue; // changed locally after the deployment was created
    }
    doc[key] = cloneJson(v);
  }
}
