// Recipe variables in accessControl policy resources (ipc.md IPC-99, recipes.md RC-30, RC-31, RC-33).
// Only the system namespaces allowed in component configuration are resolved: `{iot:thingName}`,
// `{kernel:rootPath}`, `{work:path}`, `{artifacts:path}`, `{artifacts:decompressedPath}`; never
// `{configuration:...}`. Cross-component placeholders and unknown values are left verbatim with a
// warning (RC-34), like the deployment-time resolver. Resolution is done with src/recipe's own
// interpolation, one placeholder at a time, so both sides compute identical paths.
//
// Decision: Tendril resolves these when it builds the policy index (the thing name is an input),
// whether or not the deployment already interpolated the configuration; an already resolved string
// has no placeholder left, so the two agree. Substituted text is escaped for the resource matcher
// (`*` -> `${*}`, `?` -> `${?}`, `${` -> `${$}{`), so a value is matched literally, never as a glob.
import { interpolate } from '../recipe/index.js';

/** What a policy resource may refer to; absent values leave their placeholders unchanged. */
export interface PolicyVariables {
  /** `system.thingName`, for `{iot:thingName}`. */
  thingName?: string;
  /** Absolute root path, for `{kernel:rootPath}`, `{work:path}` and `{artifacts:*}`. */
  rootPath?: string;
  /** Component name -> deployed version, for `{artifacts:path}` / `{artifacts:decompressedPath}`. */
  componentVersions?: Readonly<Record<string, string>>;
}

// The two placeholder forms of RC-30, matched in one pass so substituted text is never rescanned.
const PLACEHOLDER = /\{([.\w-]+):(?:([.\w-]+):)?([^:}]*)\}/g;

/** Escapes text so the STANDARD and MQTT resource matchers take it literally [IPC-98]. */
export function escapeResourceLiteral(text: string): string {
  return text.replace(/\$\{|[*?]/g, (m) => (m === '*' ? '${*}' : m === '?' ? '${?}' : '${$}{'));
}

/** Resolves the recipe variables of one policy resource owned by `component`. */
export function interpolatePolicyResource(
  resource: string,
  component: string,
  vars: PolicyVariables,
): { value: string; warnings: string[] } {
  const warnings: string[] = [];
  const value = resource.replace(PLACEHOLDER, (whole, a: string, b: string | undefined) => {
    const leave = (why: string) => {
      warnings.push(
        `${component}: policy resource ${JSON.stringify(resource)}: ${whole} ${why}; left unchanged`,
      );
      return whole;
    };
    if (b !== undefined) return leave('refers to another component, which policies cannot resolve');
    const namespace = a;
    if (namespace === 'configuration')
      return leave('uses the configuration namespace, not allowed in configuration values [RC-33]');
    if (namespace === 'iot' && vars.thingName === undefined) return leave('needs the thing name, not known');
    if (['kernel', 'work', 'artifacts'].includes(namespace) && vars.rootPath === undefined)
      return leave('needs the root path, not known');
    const version = vars.componentVersions?.[component];
    if (namespace === 'artifacts' && version === undefined)
      return leave(`needs the version of ${component}, not known`);
    const r = interpolate(whole, {
      rootPath: vars.rootPath ?? '',
      thingName: vars.thingName,
      self: { name: component, version: version ?? '' },
      namespaces: 'system',
    });
    if (r.warnings.length > 0 || r.value === whole) {
      for (const w of r.warnings)
        warnings.push(`${component}: policy resource ${JSON.stringify(resource)}: ${w}`);
      return whole;
    }
    return escapeResourceLiteral(r.value);
  });
  return { value, warnings };
}
