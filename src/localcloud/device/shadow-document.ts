// Pure shadow document rules: merging an update into a shadow (null deletes a key), metadata timestamps,
// versions for optimistic locking, and the delta between desired and reported.
import type { ShadowRecord } from '../store/index.js';

type Obj = Record<string, unknown>;

export class ShadowError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

export interface ShadowUpdateResult {
  previous?: ShadowRecord;
  next: ShadowRecord;
  /** The sections this update wrote, as echoed on update/accepted [DP-83]. */
  written: { state: Obj; metadata: Obj };
}

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

function merge(into: Obj | undefined, patch: Obj): Obj | undefined {
  const out: Obj = { ...(into ?? {}) };
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else if (isObj(v)) {
      const merged = merge(isObj(out[k]) ? (out[k] as Obj) : undefined, v);
      if (merged === undefined) delete out[k];
      else out[k] = merged;
    } else out[k] = v;
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

function stamp(patch: Obj, timestamp: number): Obj {
  const out: Obj = {};
  for (const [k, v] of Object.entries(patch)) out[k] = isObj(v) ? stamp(v, timestamp) : { timestamp };
  return out;
}

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** Desired keys whose value differs from reported; undefined when there is none. */
export function deltaOf(state: ShadowRecord['state']): Obj | undefined {
  const walk = (desired: Obj, reported: unknown): Obj | undefined => {
    const out: Obj = {};
    const rep = isObj(reported) ? reported : {};
    for (const [k, v] of Object.entries(desired)) {
      if (isObj(v) && isObj(rep[k])) {
        const sub = walk(v, rep[k]);
        if (sub) out[k] = sub;
      } else if (!same(v, rep[k])) out[k] = v;
    }
    return Object.keys(out).length > 0 ? out : undefined;
  };
  return state.desired ? walk(state.desired, state.reported) : undefined;
}

/** Applies an update request `{state: {desired?, reported?}, version?}`; throws ShadowError on bad input. */
export function applyShadowUpdate(
  current: ShadowRecord | undefined,
  thing: string,
  name: string,
  req: Obj,
  nowMs: number,
): ShadowUpdateResult {
  if (!('state' in req)) throw new ShadowError(400, 'Missing required node: state');
  const state = req.state;
  if (!isObj(state)) throw new ShadowError(400, 'state must be an object');
  const written: { state: Obj; metadata: Obj } = { state: {}, metadata: {} };
  for (const section of Object.keys(state))
    if (section !== 'desired' && section !== 'reported')
      throw new ShadowError(400, `state.${section} is not allowed; only desired and reported`);
  for (const section of ['desired', 'reported'] as const) {
    const v = state[section];
    if (v !== undefined && v !== null && !isObj(v))
      throw new ShadowError(400, `state.${section} must be an object or null`);
  }
  if (req.version !== undefined) {
    if (!Number.isInteger(req.version)) throw new ShadowError(400, 'version must be an integer');
    if (current && req.version !== current.version) throw new ShadowError(409, 'Version conflict');
    if (!current) throw new ShadowError(409, 'Version conflict');
  }
  const timestamp = Math.floor(nowMs / 1000);
  const nextState: ShadowRecord['state'] = { ...(current?.state ?? {}) };
  const nextMeta: ShadowRecord['metadata'] = { ...(current?.metadata ?? {}) };
  for (const section of ['desired', 'reported'] as const) {
    if (!(section in state)) continue;
    const v = state[section];
    if (v === null) {
      delete nextState[section];
      delete nextMeta[section];
      written.state[section] = null;
      continue;
    }
    const patch = v as Obj;
    const merged = merge(nextState[section], patch);
    if (merged) nextState[section] = merged;
    else delete nextState[section];
    const meta = stamp(patch, timestamp);
    nextMeta[section] = merge(nextMeta[section], meta) ?? {};
    written.state[section] = patch;
    written.metadata[section] = meta;
  }
  return {
    previous: current,
    next: {
      thingName: thing,
      shadowName: name,
      state: nextState,
      metadata: nextMeta,
      version: (current?.version ?? 0) + 1,
      updatedMs: nowMs,
    },
    written,
  };
}
