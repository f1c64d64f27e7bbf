// `tendril deployment create | status ID | list | cancel ID`: local deployments [DP-01] through the
// CLI IPC operations of a running nucleus (ipc.md IPC-68..IPC-71). `create --wait` follows the
// deployment until it is terminal, printing each status change, and exits 0 only on SUCCEEDED.
import { readFileSync } from 'node:fs';
import type { greengrasscoreipc } from 'aws-iot-device-sdk-v2';
import { UsageError, type Command } from './command.js';
import { directoryFlag as directory, mergeFlag, updateConfigFlag } from './deployment-flags.js';
import { withClient, type IpcClient } from './greengrass-cli-client.js';
import {
  COMMON_HELP,
  COMMON_OPTIONS,
  groupCommand,
  printJson,
  rootOf,
  table,
  type Subcommand,
  type Values,
} from './tendril-component-group.js';

type LocalDeployment = greengrasscoreipc.model.LocalDeployment;
type Details = greengrasscoreipc.model.DeploymentStatusDetails & { deploymentFailureCause?: string };

const TERMINAL = new Set(['SUCCEEDED', 'FAILED', 'CANCELED', 'REJECTED']);
const POLL_MS = 200;
const DEFAULT_WAIT_SECONDS = 600;

function oneId(positionals: string[]): string {
  if (positionals.length !== 1) throw new UsageError('give exactly one deployment id');
  if (positionals[0].trim() === '') throw new UsageError('the deployment id must not be empty');
  return positionals[0];
}

/** `--merge NAME=VERSION` (repeatable). */
function mergeOf(values: Values): Map<string, string> {
  return mergeFlag((values.merge as string[] | undefined) ?? [], {
    label: 'NAME=VERSION',
    duplicates: 'refuse',
  });
}

function removeOf(values: Values): string[] {
  const raw = (values.remove as string[] | undefined) ?? [];
  for (const n of raw) if (n.trim() === '') throw new UsageError('--remove has an empty component name');
  return raw.map((n) => n.trim());
}

/** `--update-config` is `{NAME: {MERGE?, RESET?}}` inline, or `@FILE`. */
function updateConfigOf(values: Values): Map<string, unknown> | undefined {
  const raw = values['update-config'] as string | undefined;
  if (raw === undefined) return undefined;
  let text = raw;
  if (raw.startsWith('@')) {
    try {
      text = readFileSync(raw.slice(1), 'utf8');
    } catch (e) {
      throw new UsageError(`--update-config ${raw}: ${(e as Error).message}`);
    }
  }
  return updateConfigFlag(text, 'NAME');
}

function created(d: LocalDeployment): string {
  return d.createdOn && /^\d+$/.test(d.createdOn) ? new Date(Number(d.createdOn)).toISOString() : '';
}

function describe(d: LocalDeployment): string {
  const s = d.deploymentStatusDetails as Details | undefined;
  const lines = [`Deployment: ${d.deploymentId}`, `Status:     ${d.status}`];
  if (created(d)) lines.push(`Created:    ${created(d)}`);
  if (s) {
    lines.push(`Detailed:   ${s.detailedDeploymentStatus}`);
    if (s.deploymentErrorStack?.length) lines.push(`Errors:     ${s.deploymentErrorStack.join(', ')}`);
    if (s.deploymentErrorTypes?.length) lines.push(`Types:      ${s.deploymentErrorTypes.join(', ')}`);
    if (s.deploymentFailureCause) lines.push(`Cause:      ${s.deploymentFailureCause}`);
  }
  return lines.join('\n') + '\n';
}

/** Polls the status until terminal or `deadline`, printing each change; returns the last status. */
async function follow(
  c: IpcClient,
  id: string,
  watch: string[],
  deadline: number,
  json: boolean,
): Promise<LocalDeployment | undefined> {
  let last = '';
  const states = new Map<string, string>();
  for (;;) {
    const { deployment } = await c.getLocalDeploymentStatus({ deploymentId: id });
    const at = new Date().toISOString();
    if (deployment.status !== last) {
      last = deployment.status;
      if (json) printJson({ at, deploymentId: id, status: deployment.status });
      else process.stdout.write(`${at}  ${id}  ${deployment.status}\n`);
    }
    for (const componentName of watch) {
      const state = await c
        .getComponentDetails({ componentName })
        .then((r) => `${r.componentDetails.version} ${r.componentDetails.state}`)
        .catch(() => 'absent');
      if (states.get(componentName) === state) continue;
      states.set(componentName, state);
      if (json) printJson({ at, component: componentName, state });
      else process.stdout.write(`${at}    ${componentName}: ${state}\n`);
    }
    if (TERMINAL.has(deployment.status)) return deployment;
    if (Date.now() > deadline) return undefined;
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

const create: Subcommand = {
  name: 'create',
  summary: 'create a local deployment: add or update (--merge), remove, or reconfigure root components',
  usage:
    'create [--recipe-dir DIR] [--artifact-dir DIR] [--merge NAME=VERSION ...] [--remove NAME ...] [--update-config JSON|@FILE] [--failure-policy ROLLBACK|DO_NOTHING] [--wait [--timeout S]] [--root DIR] [--json]',
  options: {
    'recipe-dir': { type: 'string' },
    'artifact-dir': { type: 'string' },
    merge: { type: 'string', short: 'm', multiple: true },
    remove: { type: 'string', multiple: true },
    'update-config': { type: 'string', short: 'c' },
    'failure-policy': { type: 'string' },
    wait: { type: 'boolean', short: 'w' },
    timeout: { type: 'string' },
    ...COMMON_OPTIONS,
  },
  optionHelp: {
    'recipe-dir': 'directory of recipe files to add to the component store',
    'artifact-dir': 'directory of artifacts laid out as <name>/<version>/...',
    merge: 'a root component to add or update, NAME=VERSION (repeatable)',
    remove: 'a root component to remove (repeatable)',
    'update-config': 'JSON {"NAME": {"MERGE": {...}, "RESET": ["/pointer"]}}, inline or @FILE',
    'failure-policy': 'ROLLBACK (default) or DO_NOTHING',
    wait: 'follow the deployment to its end; exit 0 only on SUCCEEDED',
    timeout: `with --wait, give up after this many seconds (default ${DEFAULT_WAIT_SECONDS})`,
  },
  async run(values, positionals) {
    if (positionals.length) throw new UsageError(`unexpected argument '${positionals[0]}'`);
    const merge = mergeOf(values);
    const remove = removeOf(values);
    const config = updateConfigOf(values);
    const policy = values['failure-policy'] as string | undefined;
    if (policy !== undefined && policy !== 'ROLLBACK' && policy !== 'DO_NOTHING')
      throw new UsageError(`--failure-policy must be ROLLBACK or DO_NOTHING, got "${policy}"`);
    if (merge.size === 0 && remove.length === 0 && !config)
      throw new UsageError('give at least one of --merge, --remove or --update-config');
    if (values.timeout !== undefined && !values.wait) throw new UsageError('--timeout needs --wait');
    const waitSeconds = values.timeout === undefined ? DEFAULT_WAIT_SECONDS : Number(values.timeout);
    if (!Number.isFinite(waitSeconds) || waitSeconds <= 0)
      throw new UsageError(`--timeout must be a positive number of seconds, got "${String(values.timeout)}"`);
    const recipeDirectoryPath = directory(values, 'recipe-dir');
    const artifactsDirectoryPath = directory(values, 'artifact-dir');
    const request: greengrasscoreipc.model.CreateLocalDeploymentRequest = {
      ...(merge.size > 0 && { rootComponentVersionsToAdd: merge }),
      ...(remove.length > 0 && { rootComponentsToRemove: remove }),
      ...(config && { componentToConfiguration: config }),
      ...(recipeDirectoryPath !== undefined && { recipeDirectoryPath }),
      ...(artifactsDirectoryPath !== undefined && { artifactsDirectoryPath }),
      ...(policy !== undefined && {
        failureHandlingPolicy: policy as greengrasscoreipc.model.FailureHandlingPolicy,
      }),
    };
    const json = values.json === true;
    return withClient(rootOf(values), async (c) => {
      const { deploymentId } = await c.createLocalDeployment(request);
      if (!deploymentId) throw new Error('the nucleus returned no deployment id');
      if (json) printJson({ deploymentId });
      else process.stdout.write(`Deployment ${deploymentId} submitted\n`);
      if (!values.wait) return 0;
      const watch = [...merge.keys(), ...remove];
      const end = await follow(c, deploymentId, watch, Date.now() + waitSeconds * 1000, json);
      if (!end) {
        process.stderr.write(
          `tendril deployment create: ${deploymentId} is not finished after ${waitSeconds} s; see 'tendril deployment status ${deploymentId}'\n`,
        );
        return 1;
      }
      if (json) printJson(end);
      else process.stdout.write(describe(end));
      return end.status === 'SUCCEEDED' ? 0 : 1;
    });
  },
};

const status: Subcommand = {
  name: 'status',
  summary: "show a local deployment's status and, on failure, its error codes and cause",
  usage: 'status ID [--root DIR] [--json]',
  options: { ...COMMON_OPTIONS },
  optionHelp: { ...COMMON_HELP },
  async run(values, positionals) {
    const deploymentId = oneId(positionals);
    const r = await withClient(rootOf(values), (c) => c.getLocalDeploymentStatus({ deploymentId }));
    if (values.json) printJson(r.deployment);
    else process.stdout.write(describe(r.deployment));
    return 0;
  },
};

const list: Subcommand = {
  name: 'list',
  summary: 'list the local deployments, newest first',
  usage: 'list [--root DIR] [--json]',
  options: { ...COMMON_OPTIONS },
  optionHelp: { ...COMMON_HELP },
  async run(values, positionals) {
    if (positionals.length) throw new UsageError(`unexpected argument '${positionals[0]}'`);
    const r = await withClient(rootOf(values), (c) => c.listLocalDeployments({}));
    const all = r.localDeployments ?? [];
    if (values.json) printJson(all);
    else
      process.stdout.write(
        table(
          ['DEPLOYMENT', 'STATUS', 'DETAILED', 'CREATED'],
          all.map((d) => [
            d.deploymentId,
            d.status,
            d.deploymentStatusDetails?.detailedDeploymentStatus ?? '',
            created(d),
          ]),
        ),
      );
    return 0;
  },
};

const cancel: Subcommand = {
  name: 'cancel',
  summary: 'cancel a queued local deployment, or a running one before it starts applying changes [DP-72]',
  usage: 'cancel ID [--root DIR] [--json]',
  options: { ...COMMON_OPTIONS },
  optionHelp: { ...COMMON_HELP },
  async run(values, positionals) {
    const deploymentId = oneId(positionals);
    const r = await withClient(rootOf(values), (c) => c.cancelLocalDeployment({ deploymentId }));
    if (values.json) printJson({ deploymentId, ...r });
    else process.stdout.write(`${r.message ?? `Cancellation of ${deploymentId} requested`}\n`);
    return 0;
  },
};

export const deploymentCommand: Command = groupCommand(
  'deployment',
  'create, follow, list and cancel local deployments on a running nucleus (over its IPC socket)',
  [create, status, list, cancel],
);
