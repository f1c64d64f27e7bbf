// Local deployment requests: the Greengrass CLI / IPC `CreateLocalDeployment` form (ipc.md IPC-68)
// and the reference nucleus's LocalOverrideRequest names (`componentsToMerge`, `componentsToRemove`,
// `componentNameToConfig`, `configurationUpdate`). They change the roots of one group incrementally.
import type { Json, JsonObject } from '../recipe/index.js';
import { describe, entryPath, fieldPath, isObject, type Problems } from './document-fields.js';
import type { DeploymentDocument } from './document-types.js';
import {
  FAILURE_HANDLING_POLICIES,
  LOCAL_DEPLOYMENT_GROUP_NAME,
  NUCLEUS_DEFAULT_VALIDATION_TIMEOUT_SECONDS,
  DEFAULT_COMPONENT_UPDATE_TIMEOUT_SECONDS,
  type ParseDeploymentOptions,
} from './document-options.js';

const RUN_WITH_KEYS = {
  posixUser: ['posixUser'],
  windowsUser: ['windowsUser'],
  limits: ['systemResourceLimits'],
};

export function parseLocalRequest(
  doc: JsonObject,
  p: Problems,
  opts: ParseDeploymentOptions,
): DeploymentDocument | undefined {
  const deploymentId = p.idWithFallback(doc, 'requestId', opts.deploymentId);
  const timestamp = p.number(doc, 'requestTimestamp', '');
  const groupName = p.string(doc, 'groupName', '') ?? LOCAL_DEPLOYMENT_GROUP_NAME;
  const configurationArn = p.string(doc, 'configurationArn', '');
  const recipeDirectoryPath = p.string(doc, 'recipeDirectoryPath', '');
  const artifactsDirectoryPath = p.string(doc, 'artifactsDirectoryPath', '');
  const failureHandlingPolicy = p.oneOf(doc, 'failureHandlingPolicy', '', FAILURE_HANDLING_POLICIES);
  if (doc.requiredCapabilities !== undefined && doc.requiredCapabilities !== null) {
    p.warn('requiredCapabilities', 'not part of a local deployment request: ignored');
  }

  const rootComponents: Record<string, string> = {};
  const addKey = p.pickSpelling(doc, ['rootComponentVersionsToAdd', 'componentsToMerge'], '');
  for (const [name, v] of entries(p, doc, addKey)) {
    const path = entryPath(addKey ?? '', name);
    if (!p.componentName(name, path)) continue;
    const version = p.versionValue(v, path);
    if (version !== undefined) rootComponents[name] = version;
  }

  const rootComponentsToRemove: string[] = [];
  const removeKey = p.pickSpelling(doc, ['rootComponentsToRemove', 'componentsToRemove'], '');
  const remove = removeKey === undefined ? undefined : doc[removeKey];
  if (Array.isArray(remove)) {
    remove.forEach((n, i) => {
      if (typeof n === 'string' && p.componentName(n, `${removeKey}[${i}]`)) rootComponentsToRemove.push(n);
      else if (typeof n !== 'string')
        p.add(`${removeKey}[${i}]`, `must be a component name, got ${describe(n)}`);
    });
  } else if (isObject(remove)) {
    // Greengrass Lite's sample writes a name -> version map; the names are what counts.
    rootComponentsToRemove.push(...Object.keys(remove));
  } else if (remove !== undefined && remove !== null) {
    p.add(removeKey ?? '', `must be a list of component names, got ${describe(remove)}`);
  }
  for (const name of rootComponentsToRemove) {
    if (Object.hasOwn(rootComponents, name)) {
      // Removal applies first, then the addition (e.g. replacing 0.1.0 by 1.0.0).
      p.warn(entryPath(removeKey ?? '', name), `also listed in ${addKey}: the added version wins`);
    }
  }

  const configurationUpdates: DeploymentDocument['configurationUpdates'] = {};
  const updKey = p.pickSpelling(doc, ['componentToConfiguration', 'configurationUpdate'], '');
  for (const [name, v] of entries(p, doc, updKey)) {
    const u = p.configurationUpdate(v, entryPath(updKey ?? '', name), ['MERGE', 'merge'], ['RESET', 'reset']);
    if (u !== undefined) configurationUpdates[name] = u;
  }
  for (const [name, v] of entries(p, doc, 'componentNameToConfig')) {
    const path = entryPath('componentNameToConfig', name);
    if (v === null) continue;
    if (!isObject(v)) p.add(path, `must be an object, got ${describe(v)}`);
    else if (configurationUpdates[name]?.merge !== undefined)
      p.add(path, `conflicts with ${updKey}: give only one`);
    else configurationUpdates[name] = { ...configurationUpdates[name], merge: v };
  }

  const runWith: DeploymentDocument['runWith'] = {};
  for (const [name, v] of entries(p, doc, 'componentToRunWithInfo')) {
    const rw = p.runWith(v, entryPath('componentToRunWithInfo', name), RUN_WITH_KEYS, 'keep');
    if (rw !== undefined) runWith[name] = rw;
  }

  if (deploymentId === undefined || p.errors.length > 0) return undefined;
  return {
    form: 'LOCAL',
    deploymentId,
    ...(configurationArn !== undefined && { configurationArn }),
    groupName,
    timestamp: Math.trunc(timestamp ?? opts.now ?? 0),
    requiredCapabilities: [],
    rootsMode: 'merge',
    rootComponents,
    rootComponentsToRemove,
    configurationUpdates,
    runWith,
    failureHandlingPolicy: failureHandlingPolicy ?? 'ROLLBACK',
    // [DP-22] local deployments skip notification and validate for 20 s.
    componentUpdatePolicy: {
      action: 'SKIP_NOTIFY_COMPONENTS',
      timeoutSeconds: DEFAULT_COMPONENT_UPDATE_TIMEOUT_SECONDS,
    },
    configurationValidationPolicy: { timeoutSeconds: NUCLEUS_DEFAULT_VALIDATION_TIMEOUT_SECONDS },
    ...(recipeDirectoryPath !== undefined && { recipeDirectoryPath }),
    ...(artifactsDirectoryPath !== undefined && { artifactsDirectoryPath }),
  };
}

/** The entries of the map at `doc[key]` (none when absent or null); a problem when not a map. */
function entries(p: Problems, doc: JsonObject, key: string | undefined): Array<[string, Json]> {
  if (key === undefined) return [];
  const m = doc[key];
  if (m === undefined || m === null) return [];
  if (!isObject(m)) {
    p.add(fieldPath('', key), `must be a map of component name to value, got ${describe(m)}`);
    return [];
  }
  return Object.entries(m);
}
