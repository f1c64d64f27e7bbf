// `tendril status`: what a running nucleus reports about itself over IPC, authenticated with the CLI
// token from <root>/cli_ipc_info [CF-75] like greengrass-cli: components with version and state
// (ListComponents), and the newest local deployment (ListLocalDeployments) [IPC-68..IPC-75].
import type { greengrasscoreipc } from 'aws-iot-device-sdk-v2';
import { UsageError, type Command } from './command.js';
import { CliFailure, resolveRoot, withClient } from './greengrass-cli-client.js';

export interface StatusReport {
  root: string;
  components: Array<{ name: string; version: string; state: string }>;
  lastDeployment: { deploymentId: string; status: string; createdOn?: string; details?: unknown } | null;
}

export async function readStatus(root: string): Promise<StatusReport> {
  return withClient(root, async (c) => {
    const { components } = await c.listComponents({});
    const { localDeployments } = await c.listLocalDeployments({});
    const last = (localDeployments ?? [])[0] as greengrasscoreipc.model.LocalDeployment | undefined;
    return {
      root,
      components: (components ?? [])
        .map((x) => ({ name: x.componentName, version: x.version, state: String(x.state) }))
        .sort((a, b) => a.name.localeCompare(b.name)),
      lastDeployment: last
        ? {
            deploymentId: last.deploymentId,
            status: String(last.status),
            ...(last.createdOn !== undefined && { createdOn: last.createdOn }),
            ...(last.deploymentStatusDetails !== undefined && { details: last.deploymentStatusDetails }),
          }
        : null,
    };
  });
}

function when(createdOn: string | undefined): string {
  const ms = Number(createdOn);
  return createdOn && Number.isFinite(ms) && ms > 0 ? ` (created ${new Date(ms).toISOString()})` : '';
}

export function formatStatus(s: StatusReport): string {
  const lines = [`Nucleus root: ${s.root}`, ''];
  if (s.components.length === 0) lines.push('No components.');
  else {
    const w = Math.max(9, ...s.components.map((c) => c.name.length));
    const v = Math.max(7, ...s.components.map((c) => c.version.length));
    lines.push(`${'COMPONENT'.padEnd(w)}  ${'VERSION'.padEnd(v)}  STATE`);
    for (const c of s.components) lines.push(`${c.name.padEnd(w)}  ${c.version.padEnd(v)}  ${c.state}`);
  }
  lines.push('');
  const d = s.lastDeployment;
  lines.push(
    d
      ? `Last local deployment: ${d.deploymentId} ${d.status}${when(d.createdOn)}` +
          (d.details ? `\n  details: ${JSON.stringify(d.details)}` : '')
      : 'Last local deployment: none',
  );
  const broken = s.components.filter((c) => c.state === 'BROKEN').map((c) => c.name);
  if (broken.length)
    lines.push(`BROKEN: ${broken.join(', ')}: see 'tendril logs --root ${s.root} <component>'`);
  return lines.join('\n') + '\n';
}

export const statusCommand: Command = {
  name: 'status',
  summary: "a running nucleus's components (version, state) and last local deployment, over IPC",
  usage: 'status [--root DIR] [--json]',
  options: { root: { type: 'string', short: 'r' }, json: { type: 'boolean' } },
  optionHelp: {
    root: 'the nucleus root (default GGC_ROOT_PATH, else ~/.greengrass)',
    json: 'print one JSON object: {root, components: [{name, version, state}], lastDeployment}',
  },
  details:
    'Needs read access to <root>/cli_ipc_info/info.json (root or the nucleus group).\n' +
    'Deployments from the cloud are not listed here: the CLI IPC operations cover local deployments only.',
  async run(values, positionals) {
    if (positionals.length) throw new UsageError(`unexpected argument '${positionals[0]}'`);
    const flag = values.root as string | undefined;
    if (flag !== undefined && flag.trim() === '') throw new UsageError('--root must not be empty');
    try {
      const s = await readStatus(resolveRoot(flag));
      process.stdout.write(values.json ? JSON.stringify(s, null, 2) + '\n' : formatStatus(s));
      return 0;
    } catch (e) {
      if (e instanceof CliFailure) {
        process.stderr.write(`tendril status: ${e.message}\n`);
        return 1;
      }
      throw e;
    }
  },
};
