// Request validation of the Greengrass CLI operations (ipc.md IPC-68..IPC-75): pure functions over
// the request JSON that either return the typed request or throw InvalidArgumentsError naming the
// field, so that a bad request changes nothing.
import { invalidArgumentsError } from '../errors.js';
import type { JsonObject } from '../operations.js';

export type FailureHandlingPolicy = 'ROLLBACK' | 'DO_NOTHING';
const FAILURE_HANDLING_POLICIES: readonly string[] = ['ROLLBACK', 'DO_NOTHING'];

export interface RunWithInfo {
  posixUser?: string;
  windowsUser?: string;
  systemResourceLimits?: { memory?: number; cpus?: number };
}

/** A CreateLocalDeployment request after validation [IPC-68]. */
export interface LocalDeploymentRequest {
  groupName?: string;
  rootComponentVersionsToAdd: Record<string, string>;
  rootComponentsToRemove: string[];
  /** Per component `{MERGE?: object, RESET?: string[]}` (the Greengrass CLI's form). */
  componentToConfiguration: Record<string, JsonObject>;
  componentToRunWithInfo: Record<string, RunWithInfo>;
  recipeDirectoryPath?: string;
  artifactsDirectoryPath?: string;
  failureHandlingPolicy?: FailureHandlingPolicy;
}

const isMap = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);
const describe = (v: unknown): string =>
  v === null
    ? 'null'
    : Array.isArray(v)
      ? 'a list'
      : typeof v === 'object'
        ? 'an object'
        : `${typeof v} ${JSON.stringify(v)}`;
const present = (v: unknown) => v !== undefined && v !== null;

/** A required non-empty string member, else InvalidArgumentsError naming it. */
export function requiredString(req: JsonObject, field: string): string {
  const v = req[field];
  if (!present(v)) throw invalidArgumentsError(`${field} is required`);
  if (typeof v !== 'string') throw invalidArgumentsError(`${field} must be a string, got ${describe(v)}`);
  if (v.trim() === '') throw invalidArgumentsError(`${field} must not be empty`);
  return v;
}

function optionalString(req: JsonObject, field: string): string | undefined {
  const v = req[field];
  if (!present(v)) return undefined;
  if (typeof v !== 'string') throw invalidArgumentsError(`${field} must be a string, got ${describe(v)}`);
  if (v.trim() === '') throw invalidArgumentsError(`${field} must not be empty when given`);
  return v;
}

function optionalMap(req: JsonObject, field: string): JsonObject {
  const v = req[field];
  if (!present(v)) return {};
  if (!isMap(v))
    throw invalidArgumentsError(`${field} must be a map of component name to value, got ${describe(v)}`);
  for (const name of Object.keys(v))
    if (name.trim() === '') throw invalidArgumentsError(`${field} has an empty component name`);
  return v;
}

const entry = (field: string, name: string) => `${field}[${JSON.stringify(name)}]`;

function runWithInfo(v: unknown, path: string): RunWithInfo {
  if (!isMap(v)) throw invalidArgumentsError(`${path} must be an object, got ${describe(v)}`);
  const out: RunWithInfo = {};
  for (const key of ['posixUser', 'windowsUser'] as const) {
    const s = v[key];
    if (!present(s)) continue;
    if (typeof s !== 'string' || s.trim() === '')
      throw invalidArgumentsError(`${path}.${key} must be a non-empty string, got ${describe(s)}`);
    out[key] = s;
  }
  const limits = v.systemResourceLimits;
  if (present(limits)) {
    if (!isMap(limits))
      throw invalidArgumentsError(`${path}.systemResourceLimits must be an object, got ${describe(limits)}`);
    out.systemResourceLimits = {};
    for (const key of ['memory', 'cpus'] as const) {
      const n = limits[key];
      if (!present(n)) continue;
      if (typeof n !== 'number' || !Number.isFinite(n) || n <= 0)
        throw invalidArgumentsError(
          `${path}.systemResourceLimits.${key} must be a positive number, got ${describe(n)}`,
        );
      out.systemResourceLimits[key] = n;
    }
  }
  return out;
}

/** Validates a CreateLocalDeployment request [IPC-68]; unknown members are ignored [IPC-40]. */
export function parseCreateLocalDeployment(req: JsonObject): LocalDeploymentRequest {
  const groupName = optionalString(req, 'groupName');
  const rootComponentVersionsToAdd: Record<string, string> = {};
  for (const [name, version] of Object.entries(optionalMap(req, 'rootComponentVersionsToAdd'))) {
    if (typeof version !== 'string' || version.trim() === '')
      throw invalidArgumentsError(
        `${entry('rootComponentVersionsToAdd', name)} must be a version string, got ${describe(version)}`,
      );
    rootComponentVersionsToAdd[name] = version;
  }
  const rootComponentsToRemove: string[] = [];
  const remove = req.rootComponentsToRemove;
  if (present(remove)) {
    if (!Array.isArray(remove))
      throw invalidArgumentsError(
        `rootComponentsToRemove must be a list of component names, got ${describe(remove)}`,
      );
    remove.forEach((n, i) => {
      if (typeof n !== 'string' || n.trim() === '')
        throw invalidArgumentsError(
          `rootComponentsToRemove[${i}] must be a component name, got ${describe(n)}`,
        );
      rootComponentsToRemove.push(n);
    });
  }
  const componentToConfiguration: Record<string, JsonObject> = {};
  for (const [name, update] of Object.entries(optionalMap(req, 'componentToConfiguration'))) {
    const path = entry('componentToConfiguration', name);
    if (!isMap(update))
      throw invalidArgumentsError(`${path} must be an object {MERGE?, RESET?}, got ${describe(update)}`);
    for (const [key, value] of Object.entries(update)) {
      const k = key.toUpperCase();
      if (k === 'MERGE' && present(value) && !isMap(value))
        throw invalidArgumentsError(`${path}.${key} must be an object, got ${describe(value)}`);
      if (
        k === 'RESET' &&
        present(value) &&
        !(Array.isArray(value) && value.every((p) => typeof p === 'string'))
      )
        throw invalidArgumentsError(`${path}.${key} must be a list of JSON pointers, got ${describe(value)}`);
      if (k !== 'MERGE' && k !== 'RESET')
        throw invalidArgumentsError(`${path}.${key} is not a configuration update member (MERGE or RESET)`);
    }
    componentToConfiguration[name] = update;
  }
  const componentToRunWithInfo: Record<string, RunWithInfo> = {};
  for (const [name, info] of Object.entries(optionalMap(req, 'componentToRunWithInfo')))
    componentToRunWithInfo[name] = runWithInfo(info, entry('componentToRunWithInfo', name));
  const recipeDirectoryPath = optionalString(req, 'recipeDirectoryPath');
  const artifactsDirectoryPath = optionalString(req, 'artifactsDirectoryPath');
  const policy = req.failureHandlingPolicy;
  if (present(policy) && (typeof policy !== 'string' || !FAILURE_HANDLING_POLICIES.includes(policy)))
    throw invalidArgumentsError(
      `failureHandlingPolicy must be one of ${FAILURE_HANDLING_POLICIES.join(', ')}, got ${describe(policy)}`,
    );
  if (
    Object.keys(rootComponentVersionsToAdd).length === 0 &&
    rootComponentsToRemove.length === 0 &&
    Object.keys(componentToConfiguration).length === 0 &&
    Object.keys(componentToRunWithInfo).length === 0
  )
    throw invalidArgumentsError(
      'rootComponentVersionsToAdd: the request changes nothing (give components to add or remove, or configuration to update)',
    );
  return {
    ...(groupName !== undefined && { groupName }),
    rootComponentVersionsToAdd,
    rootComponentsToRemove,
    componentToConfiguration,
    componentToRunWithInfo,
    ...(recipeDirectoryPath !== undefined && { recipeDirectoryPath }),
    ...(artifactsDirectoryPath !== undefined && { artifactsDirectoryPath }),
    ...(present(policy) && { failureHandlingPolicy: policy as FailureHandlingPolicy }),
  };
}
