// `greengrass-cli deployment create | status | list | cancel` over the CLI IPC operations
// (ipc.md IPC-68..IPC-71; deployment.md DP-01 local deployments), with the Greengrass CLI's flags.
import { existsSync, readFileSync } from 'node:fs';
import type { greengrasscoreipc } from 'aws-iot-device-sdk-v2';
import { UsageError, type Command } from './command.js';
import { directoryFlag as directory, mergeFlag, updateConfigFlag } from './deployment-flags.js';
import { namesOf, ROOT_HELP, ROOT_OPTIONS, rootOf } from './greengrass-cli-component.js';
import { withClient } from './greengrass-cli-client.js';

type Values = Record<string, string | boolean | string[] | undefined>;
type LocalDeployment = greengrasscoreipc.model.LocalDeployment;

function noPositionals(positionals: string[]): void {
  if (positionals.length) throw new UsageError(`unexpected argument '${positionals[0]}'`);
}

/** `--merge "name=version"` (repeatable, comma-separated allowed). */
function mergeOf(values: Values): Map<string, string> {
  const raw = (values.merge as string[] | undefined) ?? [];
  const items = raw.flatMap((v) => v.split(',')).map((s) => s.trim());
  return mergeFlag(items, { label: '"componentName=version"', duplicates: 'last-wins' });
}

/** `--update-config` is a JSON object `{name: {MERGE?, RESET?}}`, given inline or as a file path. */
function updateConfigOf(values: Values): Map<string, unknown> | undefined {
  const raw = values['update-config'] as string | undefined;
  if (raw === undefined) return undefined;
  const text = !raw.trim().startsWith('{') && existsSync(raw) ? readFileSync(raw, 'utf8') : raw;
  return updateConfigFlag(text, 'componentName');
}

function deploymentIdOf(values: Values): string {
  const id = values.deploymentId as string | undefined;
  if (id === undefined) throw new UsageError('--deploymentId is required');
  if (id.trim() === '') throw new UsageError('--deploymentId must not be empty');
  return id;
}

function formatDeployment(d: LocalDeployment): string {
  const lines = [`${d.deploymentId}: ${d.status}`];
  if (d.createdOn && /^\d+$/.test(d.createdOn))
    lines.push(`    Created on: ${new Date(Number(d.createdOn)).toISOString()}`);
  const s = d.deploymentStatusDetails;
  if (s) {
    lines.push(`    Detailed Status: ${s.detailedDeploymentStatus}`);
    if (s.deploymentErrorStack?.length)
      lines.push(`    Deployment Error Stack: ${s.deploymentErrorStack.join(', ')}`);
    if (s.deploymentErrorTypes?.length)
      lines.push(`    Deployment Error Types: ${s.deploymentErrorTypes.join(', ')}`);
    const cause = (s as { deploymentFailureCause?: string }).deploymentFailureCause;
    if (cause) lines.push(`    Deployment Failure Cause: ${cause}`);
  }
  return lines.join('\n');
}

export function deploymentCommands(globalRoot: string | undefined): Command[] {
  const create: Command = {
    name: 'create',
    summary: 'create a local deployment: add, remove or reconfigure root components',
    usage:
      'create [--recipeDir DIR] [--artifactDir DIR] [--merge NAME=VERSION ...] [--remove NAME ...] [--update-config JSON] [--groupId ID] [--failureHandlingPolicy ROLLBACK|DO_NOTHING] [--root DIR]',
    options: {
      recipeDir: { type: 'string', short: 'r' },
      artifactDir: { type: 'string', short: 'a' },
      merge: { type: 'string', short: 'm', multiple: true },
      remove: { type: 'string', multiple: true },
      'update-config': { type: 'string', short: 'c' },
      groupId: { type: 'string', short: 'g' },
      failureHandlingPolicy: { type: 'string' },
      ...ROOT_OPTIONS,
    },
    optionHelp: {
      recipeDir: 'directory of recipe files to add to the component store',
      artifactDir: 'directory of artifacts laid out as <name>/<version>/...',
      merge: 'a root component to add or update, "name=version" (repeatable)',
      remove: 'root components to remove, comma-separated (repeatable)',
      'update-config': 'JSON {"name": {"MERGE": {...}, "RESET": ["/pointer"]}}, inline or a file path',
      groupId: 'the thing group the deployment counts for (default the local group)',
      failureHandlingPolicy: 'ROLLBACK (default) or DO_NOTHING',
      ...ROOT_HELP,
    },
    async run(values, positionals) {
      noPositionals(positionals);
      const merge = mergeOf(values);
      const remove = values.remove === undefined ? [] : namesOf(values, 'remove');
      const config = updateConfigOf(values);
      const policy = values.failureHandlingPolicy as string | undefined;
      if (policy !== undefined && policy !== 'ROLLBACK' && policy !== 'DO_NOTHING')
        throw new UsageError(`--failureHandlingPolicy must be ROLLBACK or DO_NOTHING, got "${policy}"`);
      const groupName = values.groupId as string | undefined;
      if (groupName !== undefined && groupName.trim() === '')
        throw new UsageError('--groupId must not be empty');
      if (merge.size === 0 && remove.length === 0 && !config)
        throw new UsageError('give at least one of --merge, --remove or --update-config');
      const recipeDirectoryPath = directory(values, 'recipeDir');
      const artifactsDirectoryPath = directory(values, 'artifactDir');
      const request: greengrasscoreipc.model.CreateLocalDeploymentRequest = {
        ...(groupName !== undefined && { groupName }),
        ...(merge.size > 0 && { rootComponentVersionsToAdd: merge }),
        ...(remove.length > 0 && { rootComponentsToRemove: remove }),
        ...(config && { componentToConfiguration: config }),
        ...(recipeDirectoryPath !== undefined && { recipeDirectoryPath }),
        ...(artifactsDirectoryPath !== undefined && { artifactsDirectoryPath }),
        ...(policy !== undefined && {
          failureHandlingPolicy: policy as greengrasscoreipc.model.FailureHandlingPolicy,
        }),
      };
      const r = await withClient(rootOf(values, globalRoot), (c) => c.createLocalDeployment(request));
      process.stdout.write(`Local deployment submitted! Deployment Id: ${r.deploymentId}\n`);
      return 0;
    },
  };
  const status: Command = {
    name: 'status',
    summary: "show a local deployment's status",
    usage: 'status --deploymentId ID [--root DIR]',
    options: { deploymentId: { type: 'string', short: 'i' }, ...ROOT_OPTIONS },
    optionHelp: { deploymentId: 'the deployment id', ...ROOT_HELP },
    async run(values, positionals) {
      noPositionals(positionals);
      const deploymentId = deploymentIdOf(values);
      const r = await withClient(rootOf(values, globalRoot), (c) =>
        c.getLocalDeploymentStatus({ deploymentId }),
      );
      process.stdout.write(formatDeployment(r.deployment) + '\n');
      return 0;
    },
  };
  const list: Command = {
    name: 'list',
    summary: 'list the local deployments, newest first',
    usage: 'list [--root DIR]',
    options: { ...ROOT_OPTIONS },
    optionHelp: { ...ROOT_HELP },
    async run(values, positionals) {
      noPositionals(positionals);
      const r = await withClient(rootOf(values, globalRoot), (c) => c.listLocalDeployments({}));
      const all = r.localDeployments ?? [];
      process.stdout.write(
        all.length ? all.map(formatDeployment).join('\n') + '\n' : 'No local deployments.\n',
      );
      return 0;
    },
  };
  const cancel: Command = {
    name: 'cancel',
    summary: 'cancel a queued or running local deployment',
    usage: 'cancel --deploymentId ID [--root DIR]',
    options: { deploymentId: { type: 'string', short: 'i' }, ...ROOT_OPTIONS },
    optionHelp: { deploymentId: 'the deployment id', ...ROOT_HELP },
    async run(values, positionals) {
      noPositionals(positionals);
      const deploymentId = deploymentIdOf(values);
      const r = await withClient(rootOf(values, globalRoot), (c) =>
        c.cancelLocalDeployment({ deploymentId }),
      );
      process.stdout.write(`${r.message ?? `Cancellation of ${deploymentId} requested`}\n`);
      return 0;
    },
  };
  return [create, status, list, cancel];
}
