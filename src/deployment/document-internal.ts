// The nucleus-internal PascalCase deployment document [DP-30], the form of the reference
// integration fixtures: `DeploymentId`, `Packages[]`, `ConfigurationUpdate {MERGE, RESET}`, ...
import type { JsonObject } from '../recipe/index.js';
import { describe, fieldPath, groupFromArn, isObject, type Problems } from './document-fields.js';
import type { DeploymentDocument } from './document-types.js';
import {
  COMPONENT_UPDATE_ACTIONS,
  DEFAULT_COMPONENT_UPDATE_TIMEOUT_SECONDS,
  FAILURE_HANDLING_POLICIES,
  NUCLEUS_DEFAULT_VALIDATION_TIMEOUT_SECONDS,
  type ParseDeploymentOptions,
} from './document-options.js';

const RUN_WITH_KEYS = {
  posixUser: ['PosixUser', 'posixUser'],
  windowsUser: ['WindowsUser', 'windowsUser'],
  // The reference fixture SampleJobDocumentWithUser_1 spells this one in camelCase.
  limits: ['SystemResourceLimits', 'systemResourceLimits'],
};

export function parseInternalDocument(
  doc: JsonObject,
  p: Problems,
  opts: ParseDeploymentOptions,
): DeploymentDocument | undefined {
  const deploymentId = p.idWithFallback(doc, 'DeploymentId', opts.deploymentId);
  const configurationArn = p.string(doc, 'ConfigurationArn', '');
  const explicitGroup = p.string(doc, 'GroupName', '');
  const onBehalfOf = p.string(doc, 'OnBehalfOf', '');
  const parentGroupName = p.string(doc, 'ParentGroupName', '');
  const timestamp = p.number(doc, 'Timestamp', '');
  const requiredCapabilities = p.stringList(doc, 'RequiredCapabilities', '') ?? [];

  const rootComponents: Record<string, string> = {};
  const configurationUpdates: DeploymentDocument['configurationUpdates'] = {};
  const runWith: DeploymentDocument['runWith'] = {};
  const packages = doc.Packages;
  if (packages === undefined || packages === null) p.add('Packages', 'required');
  else if (!Array.isArray(packages)) p.add('Packages', `must be a list, got ${describe(packages)}`);
  else {
    packages.forEach((pkg, i) => {
      const path = `Packages[${i}]`;
      if (!isObject(pkg)) {
        p.add(path, `must be an object, got ${describe(pkg)}`);
        return;
      }
      const name = p.string(pkg, 'Name', path, true);
      const version = p.version(pkg, 'ResolvedVersion', path);
      const root = p.boolean(pkg, 'RootComponent', path) ?? false;
      if (name === undefined) return;
      if (Object.hasOwn(rootComponents, name)) {
        p.add(fieldPath(path, 'Name'), `${JSON.stringify(name)} is listed more than once`);
        return;
      }
      if (!root) {
        p.warn(path, `${name} is not a root component: ignored (resolution decides dependencies)`);
        return;
      }
      if (version !== undefined) rootComponents[name] = version;
      let update = p.configurationUpdate(
        pkg.ConfigurationUpdate,
        fieldPath(path, 'ConfigurationUpdate'),
        ['MERGE'],
        ['RESET'],
      );
      if (pkg.Configuration !== undefined && pkg.Configuration !== null) {
        // The older per-package `Configuration` map: applied as a MERGE.
        if (!isObject(pkg.Configuration)) {
          p.add(fieldPath(path, 'Configuration'), `must be an object, got ${describe(pkg.Configuration)}`);
        } else if (update?.merge !== undefined) {
          p.add(fieldPath(path, 'Configuration'), 'conflicts with ConfigurationUpdate.MERGE: give only one');
        } else {
          update = { ...update, merge: pkg.Configuration };
          p.warn(fieldPath(path, 'Configuration'), 'legacy per-package configuration: applied as a MERGE');
        }
      }
      if (update !== undefined) configurationUpdates[name] = update;
      const rw = p.runWith(pkg.RunWith, fieldPath(path, 'RunWith'), RUN_WITH_KEYS, 'remove');
      if (rw !== undefined) runWith[name] = rw;
    });
  }

  const failureHandlingPolicy = p.oneOf(doc, 'FailureHandlingPolicy', '', FAILURE_HANDLING_POLICIES);
  const cup = p.object(doc, 'ComponentUpdatePolicy', '');
  const action =
    (cup && p.oneOf(cup, 'ComponentUpdatePolicyAction', 'ComponentUpdatePolicy', COMPONENT_UPDATE_ACTIONS)) ??
    'NOTIFY_COMPONENTS';
  const updateTimeout =
    (cup && p.number(cup, 'Timeout', 'ComponentUpdatePolicy')) ?? DEFAULT_COMPONENT_UPDATE_TIMEOUT_SECONDS;
  const cvp = p.object(doc, 'ConfigurationValidationPolicy', '');
  const validationTimeout =
    (cvp && p.number(cvp, 'TimeoutInSeconds', 'ConfigurationValidationPolicy')) ??
    NUCLEUS_DEFAULT_VALIDATION_TIMEOUT_SECONDS;

  // The reference fixtures use the configuration ARN as the DeploymentId.
  const groupName =
    explicitGroup ??
    groupFromArn(configurationArn) ??
    groupFromArn(deploymentId) ??
    opts.groupName ??
    configurationArn;
  if (groupName === undefined) {
    p.add(
      'GroupName',
      'required when neither ConfigurationArn nor DeploymentId names a thing or thing group',
    );
  }
  if (deploymentId === undefined || groupName === undefined || p.errors.length > 0) return undefined;
  return {
    form: 'INTERNAL',
    deploymentId,
    ...(configurationArn !== undefined && { configurationArn }),
    groupName,
    ...(parentGroupName !== undefined && { parentGroupName }),
    ...(onBehalfOf !== undefined && { onBehalfOf }),
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
