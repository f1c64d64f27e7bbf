// `tendril status`: what a running nucleus reports about itself over IPC, authenticated with the CLI
// token from <root>/cli_ipc_info [CF-75] like greengrass-cli: components with version and state
// (ListComponents), and the newest local deployment (ListLocalDeployments) [IPC-68..IPC-75].
import type { greengrasscoreipc } from 'aws-iot-device-sdk-v2';
import { join } from 'node:path';
import { readLatestSample } from '../telemetry/index.js';
import { UsageError, type Command } from './command.js';
import { CliFailure, resolveRoot, withClient } from './greengrass-cli-client.js';

export interface StatusReport {
  root: string;
  components: Array<{
    name: string;
    version: string;
    state: string;
    cpuPercent?: number | null;
    memoryBytes?: number;
  }>;
  /** when the figures were sampled (epoch ms), from the nucleus's latest telemetry sample */
  sampledAt?: number;
  lastDeployment: { deploymentId: string; status: string; createdOn?: string; details?: unknown } | null;
}

export async function readStatus(root: string): Promise<StatusReport> {
  const report = await readIpcStatus(root);
  // CPU and memory come from the telemetry sample the nucleus writes (owner-only, like the CLI token)
  const sample = await readLatestSample(join(root, 'telemetry')).catch(() => undefined);
  if (sample) {
    report.sampledAt = sample.timestamp;
    for (const c of report.components) {
      const f = sample.components.find((x) => x.componentName === c.name);
      if (f) Object.assign(c, { cpuPercent: f.cpuPercent, memoryBytes: f.memoryBytes });
    }
  }
  return report;
}

function readIpcStatus(root: string): Promise<StatusReport> {
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
    const cpu = (c: StatusReport['components'][number]) =>
      c.cpuPercent === undefined || c.cpuPercent === null ? '-' : `${c.cpuPercent.toFixed(1)}%`;
    const mem = (c: StatusReport['components'][number]) =>
      c.memoryBytes === undefined ? '-' : `${(c.memoryBytes / 2 ** 20).toFixed(1)} MB`;
    lines.push(
      `${'COMPONENT'.padEnd(w)}  ${'VERSION'.padEnd(v)}  ${'STATE'.padEnd(10)}  ${'CPU'.padStart(7)}  MEMORY`,
    );
    for (const c of s.components)
      lines.push(
        `${c.name.padEnd(w)}  ${c.version.padEnd(v)}  ${c.state.padEnd(10)}  ${cpu(c).padStart(7)}  ${mem(c)}`,
      );
    if (s.sampledAt) lines.push(`(CPU and memory sampled ${new Date(s.sampledAt).toISOString()})`);
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
    json: 'print one JSON object: {root, components: [{name, version, state, cpuPercent, memoryBytes}], sampledAt, lastDeployment}',
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
