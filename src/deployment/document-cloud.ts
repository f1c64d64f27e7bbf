// The cloud camelCase deployment configuration [DP-05..DP-23]: the document of IoT Jobs and of the
// shadow `fleetConfig`. Field names are case-sensitive; unknown fields are ignored [DP-05].
import type { JsonObject } from '../recipe/index.js';
import { entryPath, fieldPath, groupFromArn, isObject, describe, type Problems } from './document-fields.js';
import type { DeploymentDocument } from './document-types.js';
import type { ParseDeploymentOptions } from './document-options.js';
import {
  COMPONENT_UPDATE_ACTIONS,
  DEFAULT_COMPONENT_UPDATE_TIMEOUT_SECONDS,
  DEFAULT_VALIDATION_TIMEOUT_SECONDS,
  FAILURE_HANDLING_POLICIES,
  NUCLEUS_DEFAULT_VALIDATION_TIMEOUT_SECONDS,
} from './document-options.js';

const RUN_WITH_KEYS = {
  posixUser: ['posixUser'],
  windowsUser: ['windowsUser'],
  limits: ['systemResourceLimits'],
};

export function parseCloudDocument(
  doc: JsonObject,
  p: Problems,
  opts: ParseDeploymentOptions,
): DeploymentDocument | undefined {
  const deploymentId = p.idWithFallback(doc, 'deploymentId', opts.deploymentId);
  const configurationArn = p.string(doc, 'configurationArn', '');
  p.string(doc, 'deploymentName', '');
  p.string(doc, 'schemaDate', '');
  const parentTargetArn = p.string(doc, 'parentTargetArn', '');
  const onBehalfOf = p.string(doc, 'onBehalfOf', '');
  const timestamp = p.number(doc, 'creationTimestamp', '');
  const requiredCapabilities = p.stringList(doc, 'requiredCapabilities', '') ?? [];

  const rootComponents: Record<string, string> = {};
  const configurationUpdates: DeploymentDocument['configurationUpdates'] = {};
  const runWith: DeploymentDocument['runWith'] = {};
  const components = p.object(doc, 'components', '', true);
  for (const [name, entry] of Object.entries(components ?? {})) {
    const path = entryPath('components', name);
    if (!p.componentName(name, path)) continue;
    if (!isObject(entry)) {
      p.add(path, `must be an object, got ${describe(entry)}`);
      continue;
    }
    const version = p.version(entry, 'version', path);
    if (version !== undefined) rootComponents[name] = version;
    p.boolean(entry, 'rootComponent', path);
    const update = p.configurationUpdate(
      entry.configurationUpdate,
      fieldPath(path, 'configurationUpdate'),
      ['merge', 'MERGE'],
      ['reset', 'RESET'],
    );
    if (update !== undefined) configurationUpdates[name] = update;
    // [DP-23] runWith is always set: a missing one reverts the component to the default user.
    const rw = p.runWith(entry.runWith, fieldPath(path, 'runWith'), RUN_WITH_KEYS, 'remove');
    if (rw !== undefined) runWith[name] = rw;
  }

  const failureHandlingPolicy = p.oneOf(doc, 'failureHandlingPolicy', '', FAILURE_HANDLING_POLICIES);
  let action: DeploymentDocument['componentUpdatePolicy']['action'] = 'NOTIFY_COMPONENTS';
  let updateTimeout = DEFAULT_COMPONENT_UPDATE_TIMEOUT_SECONDS;
  const cup = p.object(doc, 'componentUpdatePolicy', '');
  if (cup === undefined) p.warn('componentUpdatePolicy', 'absent: the defaults apply [DP-21]');
  else {
    action = p.oneOf(cup, 'action', 'componentUpdatePolicy', COMPONENT_UPDATE_ACTIONS) ?? action;
    updateTimeout = p.number(cup, 'timeout', 'componentUpdatePolicy') ?? updateTimeout;
  }
  // [DP-22] present without timeout: 60 s; absent: the nucleus default of 20 s.
  let validationTimeout = NUCLEUS_DEFAULT_VALIDATION_TIMEOUT_SECONDS;
  const cvp = p.object(doc, 'configurationValidationPolicy', '');
  if (cvp !== undefined) {
    validationTimeout =
      p.number(cvp, 'timeout', 'configurationValidationPolicy') ?? DEFAULT_VALIDATION_TIMEOUT_SECONDS;
  }

  const groupName = groupFromArn(configurationArn) ?? opts.groupName ?? configurationArn;
  if (groupName === undefined) {
    p.add('configurationArn', 'required to name the deployment group (thinggroup/<name> or thing/<name>)');
  }
  if (deploymentId === undefined || groupName === undefined || p.errors.length > 0) return undefined;
  return {
    form: 'CLOUD',
    deploymentId,
    ...(configurationArn !== undefined && { configurationArn }),
    groupName,
    ...(parentTargetArn !== undefined && {
      parentGroupName: groupFromArn(parentTargetArn) ?? parentTargetArn,
    }),
    ...(onBehalfOf !== undefined && { onBehalfOf: groupFromArn(onBehalfOf) ?? onBehalfOf }),
    timestamp: Math.trunc(timestamp ?? opts.now ?? 0),
    requiredCapabilities,
    rootsMode: 'replace',
    rootComponents,
    rootComponentsToRemove: [],
    configurationUpdates,
    runWith,
    failureHandlingPolicy: failureHandlingPolicy ?? 'ROLLBACK',
    componentUpdatePolicy: { action, timeoutSeconds: updateTimeout },
    configurationValidationPolicy: { timeoutSeconds: validationTimeout },
  };
}
