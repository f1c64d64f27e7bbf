// accessControl policy evaluation (ipc.md section 5) as pure functions over plain data: the nucleus
// passes each component's `configuration.accessControl` value; nothing here reads the config tree.
import { interpolatePolicyResource, type PolicyVariables } from './authorization-interpolation.js';
import { MQTTPROXY_SERVICE, OPERATIONS } from './model.js';
import type { AuthorizationCheck } from './types.js';

/** One permission: (principal, operation) may act on these resource patterns. */
interface Permission {
  policyId: string;
  resources: string[];
}

/** service id -> principal -> operation (or `*`) -> permissions. */
export interface PolicyIndex {
  readonly services: ReadonlyMap<string, ReadonlyMap<string, ReadonlyMap<string, readonly Permission[]>>>;
  /** Non-fatal problems found while parsing, each naming the component, policy and reason. */
  readonly warnings: readonly string[];
}

/** Case-insensitive property read [IPC-92]. */
function prop(obj: Record<string, unknown>, name: string): unknown {
  const lower = name.toLowerCase();
  for (const [k, v] of Object.entries(obj)) if (k.toLowerCase() === lower) return v;
  return undefined;
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  !!v && typeof v === 'object' && !Array.isArray(v);
const stringList = (v: unknown): string[] =>
  Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : typeof v === 'string' ? [v] : [];

/**
 * Builds the policy index from `{ componentName: accessControlValue }` [IPC-91..93]. The value may be
 * an object or a JSON string. The principal of each policy is the component that owns it. Recipe
 * variables in resources (`{iot:thingName}`, ...) are resolved from `variables` [IPC-99, RC-33].
 */
export function buildPolicyIndex(
  accessControlByComponent: Record<string, unknown>,
  variables: PolicyVariables = {},
): PolicyIndex {
  const warnings: string[] = [];
  const services = new Map<string, Map<string, Map<string, Permission[]>>>();
  const voided = new Set<string>();
  for (const [component, raw] of Object.entries(accessControlByComponent)) {
    let accessControl = raw;
    if (typeof raw === 'string') {
      try {
        accessControl = JSON.parse(raw);
      } catch (err) {
        warnings.push(`${component}: accessControl is not valid JSON: ${(err as Error).message}`);
        continue;
      }
    }
    if (accessControl === undefined || accessControl === null) continue;
    if (!isObject(accessControl)) {
      warnings.push(`${component}: accessControl must be an object`);
      continue;
    }
    for (const [service, policies] of Object.entries(accessControl)) {
      if (!isObject(policies)) {
        warnings.push(`${component}: accessControl.${service} must be an object of policies`);
        continue;
      }
      for (const [policyId, policy] of Object.entries(policies)) {
        if (policyId.trim() === '') {
          warnings.push(`${component}: empty policy id under ${service} voids all policies of that service`);
          voided.add(service);
          continue;
        }
        if (!isObject(policy)) {
          warnings.push(`${component}: policy ${policyId} must be an object`);
          continue;
        }
        const operations = stringList(prop(policy, 'operations'));
        if (operations.length === 0) {
          warnings.push(`${component}: policy ${policyId} has no operations and is skipped`);
          continue;
        }
        const resources = stringList(prop(policy, 'resources')).map((r) => {
          const resolved = interpolatePolicyResource(r, component, variables);
          warnings.push(...resolved.warnings);
          return resolved.value;
        });
        const usable = resources.filter((r) => {
          if (hasBareQuestionMark(r)) {
            warnings.push(
              `${component}: policy ${policyId} resource ${JSON.stringify(r)} contains a bare '?' and is dropped`,
            );
            return false;
          }
          return true;
        });
        for (const op of operations) {
          if (op !== '*' && OPERATIONS.get(op)?.authService !== service) {
            warnings.push(
              `${component}: policy ${policyId} names operation ${op}, not an operation of ${service}`,
            );
          }
          const byPrincipal = services.get(service) ?? new Map<string, Map<string, Permission[]>>();
          services.set(service, byPrincipal);
          const byOp = byPrincipal.get(component) ?? new Map<string, Permission[]>();
          byPrincipal.set(component, byOp);
          const list = byOp.get(op) ?? [];
          byOp.set(op, list);
          list.push({ policyId, resources: usable });
        }
      }
    }
  }
  for (const s of voided) services.delete(s);
  return { services, warnings };
}

/** The decision of [IPC-97]: the operation must belong to the service, then any matching permission allows. */
export function isAuthorized(index: PolicyIndex, check: AuthorizationCheck): boolean {
  if (OPERATIONS.get(check.operation)?.authService !== check.service) return false;
  const byPrincipal = index.services.get(check.service);
  if (!byPrincipal) return false;
  const mqttStyle = check.service === MQTTPROXY_SERVICE;
  for (const [principal, op] of [
    [check.principal, check.operation],
    [check.principal, '*'],
    ['*', check.operation],
    ['*', '*'],
  ]) {
    for (const p of byPrincipal.get(principal)?.get(op) ?? []) {
      if (p.resources.some((pattern) => resourceMatches(pattern, check.resource, mqttStyle))) return true;
    }
  }
  return false;
}

/** An Authorize function over a fixed index; rebuild it when any accessControl changes [IPC-94]. */
export function policyAuthorizer(index: PolicyIndex): (check: AuthorizationCheck) => boolean {
  return (check) => isAuthorized(index, check);
}

function hasBareQuestionMark(pattern: string): boolean {
  return pattern.replace(/\$\{[*?$]\}/g, '').includes('?');
}

const cache = new Map<string, RegExp>();
const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

/**
 * Resource matching [IPC-98]. STANDARD: `*` matches any run of characters including `/`; `+` and
 * `#` are literal. MQTT_STYLE adds `+` as one whole level and a trailing `#` level as the rest of
 * the levels (`a/#` also matches `a`). `${*}`, `${?}`, `${$}` are literal `*`, `?`, `$`.
 */
export function resourceMatches(pattern: string, resource: string, mqttStyle = false): boolean {
  const key = `${mqttStyle ? 'm' : 's'}:${pattern}`;
  let re = cache.get(key);
  if (!re) {
    re = new RegExp(`^${mqttStyle ? mqttRegex(pattern) : globRegex(pattern)}$`, 's');
    if (cache.size > 10_000) cache.clear();
    cache.set(key, re);
  }
  return re.test(resource);
}

function globRegex(pattern: string): string {
  let out = '';
  for (let i = 0; i < pattern.length; i++) {
    const esc = /^\$\{([*?$])\}/.exec(pattern.slice(i));
    if (esc) {
      out += escapeRe(esc[1]);
      i += 3;
    } else if (pattern[i] === '*') out += '.*';
    else out += escapeRe(pattern[i]);
  }
  return out;
}

function mqttRegex(pattern: string): string {
  const levels = pattern.split('/');
  let out = '';
  levels.forEach((level, i) => {
    const last = i === levels.length - 1;
    if (level === '#' && last) {
      out += i === 0 ? '.*' : '(?:/.*)?';
      return;
    }
    if (i > 0) out += '/';
    out += level === '+' ? '[^/]*' : globRegex(level);
  });
  return out;
}
