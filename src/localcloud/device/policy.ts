// The device MQTT policy: an allow-list of topic filters per action, where `${thing}` stands for the
// connected device's thing name (like the IoT policy variable iot:Connection.Thing.ThingName). By default a
// device may use only its own `$aws/things/<thing>/...` topics and those of its `<thing>-gci` shadow
// (cloud.md CL-77).

export interface DevicePolicy {
  /** Topic filters a device may publish to. */
  publish: string[];
  /** Topic filters a device may subscribe to (a subscription must lie within one of them). */
  subscribe: string[];
}

export const DEFAULT_DEVICE_POLICY: DevicePolicy = {
  publish: ['$aws/things/${thing}/#', '$aws/things/${thing}-gci/#'],
  subscribe: ['$aws/things/${thing}/#', '$aws/things/${thing}-gci/#'],
};

/** Checks a policy's filters; returns the first problem, naming the entry. */
export function devicePolicyProblem(p: DevicePolicy): string | undefined {
  for (const action of ['publish', 'subscribe'] as const) {
    if (!Array.isArray(p[action])) return `policy.${action} must be a list of topic filters`;
    for (const [i, f] of p[action].entries()) {
      const problem = filterProblem(f);
      if (problem) return `policy.${action}[${i}] ${problem}`;
    }
  }
  return undefined;
}

export function filterProblem(f: unknown): string | undefined {
  if (typeof f !== 'string' || f === '') return 'must be a non-empty string';
  const levels = f.split('/');
  for (const [i, l] of levels.entries()) {
    if (l.includes('#') && (l !== '#' || i !== levels.length - 1))
      return `'${f}': '#' must be a whole last level`;
    if (l.includes('+') && l !== '+') return `'${f}': '+' must be a whole level`;
  }
  return undefined;
}

function substitute(filter: string, thing: string): string {
  return filter.split('${thing}').join(thing);
}

/**
 * Whether `allowed` covers every topic that `requested` (a topic or a filter) can match. Wildcards in
 * `requested` are covered only by the same or a broader wildcard in `allowed`. Topics starting with `$`
 * are not matched by a leading wildcard (MQTT 3.1.1 section 4.7.2).
 */
export function filterCovers(allowed: string, requested: string): boolean {
  const a = allowed.split('/');
  const r = requested.split('/');
  if ((a[0] === '#' || a[0] === '+') && requested.startsWith('$')) return false;
  for (let i = 0; i < a.length; i++) {
    if (a[i] === '#') return true;
    if (i >= r.length) return false;
    if (r[i] === '#') return false;
    if (a[i] === '+') continue;
    if (r[i] !== a[i]) return false;
  }
  return a.length === r.length;
}

export function allows(policy: DevicePolicy, action: 'publish' | 'subscribe', thing: string, topic: string) {
  return policy[action].some((f) => filterCovers(substitute(f, thing), topic));
}
