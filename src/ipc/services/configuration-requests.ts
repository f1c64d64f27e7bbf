// Pure parts of the configuration IPC operations: request validation (each bad field named) and the
// newer-wins pre-check of UpdateConfiguration [IPC-61, IPC-62, IPC-109, IPC-110].
import { isPlainObject, Topic, Topics, type ConfigNode, type JsonObject } from '../../config/index.js';
import { invalidArgumentsError, serviceError } from '../errors.js';

/** `services.<component>.configuration` [CF-55]. */
export const configurationPath = (component: string): string[] => ['services', component, 'configuration'];

/** Field name of the IPC policy tree that UpdateConfiguration may not touch [IPC-95]. */
export const ACCESS_CONTROL = 'accessControl';

export interface UpdateConfigurationRequest {
  keyPath: string[];
  /** The request timestamp in epoch milliseconds (sent as epoch seconds, IPC-42). */
  timestampMs: number;
  valueToMerge: JsonObject;
}

type ErrorFactory = (message: string) => Error;

/** Validates a keyPath member: a list of non-empty strings; `required` makes absence an error. */
export function parseKeyPath(value: unknown, required: boolean, error: ErrorFactory): string[] {
  if (value === undefined || value === null) {
    if (required) throw error('keyPath is required (a list of strings, [] for the whole configuration)');
    return [];
  }
  if (!Array.isArray(value)) throw error('keyPath must be a list of strings');
  value.forEach((k, i) => {
    if (typeof k !== 'string' || k === '') throw error(`keyPath[${i}] must be a non-empty string`);
  });
  return value as string[];
}

/** Validates an optional componentName member. */
export function parseComponentName(value: unknown, error: ErrorFactory): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string' || value === '') throw error('componentName must be a non-empty string');
  return value;
}

/** GetConfiguration: ServiceError for malformed members (ResourceNotFound is for missing keys). */
export function parseGetConfiguration(req: Record<string, unknown>): {
  componentName?: string;
  keyPath: string[];
} {
  return {
    componentName: parseComponentName(req.componentName, serviceError),
    keyPath: parseKeyPath(req.keyPath, true, serviceError),
  };
}

/** UpdateConfiguration: InvalidArgumentsError naming the field [IPC-62, IPC-95, IPC-110]. */
export function parseUpdateConfiguration(req: Record<string, unknown>): UpdateConfigurationRequest {
  const keyPath = parseKeyPath(req.keyPath, false, invalidArgumentsError);
  const ts = req.timestamp;
  if (ts === undefined || ts === null) throw invalidArgumentsError('timestamp is required (epoch seconds)');
  if (typeof ts !== 'number' || !Number.isFinite(ts) || ts <= 0)
    throw invalidArgumentsError(
      `timestamp must be a positive number of epoch seconds, got ${JSON.stringify(ts)}`,
    );
  const valueToMerge = req.valueToMerge;
  if (valueToMerge === undefined || valueToMerge === null)
    throw invalidArgumentsError('valueToMerge is required (an object)');
  if (!isPlainObject(valueToMerge)) throw invalidArgumentsError('valueToMerge must be an object');
  const touchesAccessControl =
    keyPath.length > 0
      ? keyPath[0].toLowerCase() === ACCESS_CONTROL.toLowerCase()
      : Object.keys(valueToMerge).some((k) => k.toLowerCase() === ACCESS_CONTROL.toLowerCase());
  if (touchesAccessControl)
    throw invalidArgumentsError(`Config update is not allowed for following fields [${ACCESS_CONTROL}]`);
  // Epoch seconds with a fraction -> ms; rounding absorbs the float error of `ms / 1000 * 1000`.
  return { keyPath, timestampMs: Math.round(ts * 1000), valueToMerge };
}

/** Value of a GetConfiguration response: a container as its map, a leaf wrapped as `{key: value}` [IPC-109]. */
export function configurationValue(node: ConfigNode): JsonObject {
  if (node instanceof Topics) return node.toJson();
  return { [node.name]: (node as Topic).toJson() };
}

/**
 * The newer-wins pre-check of UpdateConfiguration [IPC-110, CF-03]: the key paths (relative to the
 * merge target) of stored leaves the merge would write, or nodes it would change between leaf and
 * container, whose modtime is newer than `timestampMs`. Empty = the merge can apply in full.
 */
export function staleKeys(target: Topics | undefined, value: JsonObject, timestampMs: number): string[][] {
  const out: string[][] = [];
  const walk = (node: Topics, map: JsonObject, at: string[]) => {
    for (const [k, v] of Object.entries(map)) {
      const child = node.child(k);
      if (!child) continue;
      const path = [...at, k];
      if (isPlainObject(v) && child instanceof Topics) walk(child, v, path);
      else if (child instanceof Topics) {
        if (newestIn(child) > timestampMs) out.push(path);
      } else if (child.modtime > timestampMs) out.push(path);
    }
  };
  if (target) walk(target, value, []);
  return out;
}

/** The newest modtime of a node and its descendants. */
function newestIn(node: ConfigNode): number {
  if (!(node instanceof Topics)) return node.modtime;
  return node.children().reduce((m, c) => Math.max(m, newestIn(c)), node.modtime);
}
