// The Greengrass CLI operations over the running nucleus (ipc.md IPC-68..IPC-76): components from
// the lifecycle manager and the config tree, local deployments through the durable deployment queue
// [DP-01, DP-03], their statuses from the outbox and the deployment history. Also issues the CLI's
// token and writes it under `<root>/cli_ipc_info` [CF-75] for `greengrass-cli`.
import { randomUUID } from 'node:crypto';
import { chmodSync, mkdirSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import type { JsonObject } from '../config/index.js';
import {
  formatDocumentProblems,
  parseDeploymentDocument,
  type JobStatus,
  type ProcessedDeployment,
  type QueuedDeployment,
} from '../deployment/index.js';
import {
  CLI_PRINCIPAL,
  CliService,
  IpcError,
  invalidArgumentsError,
  serviceError,
  type CancelResult,
  type CliBackend,
  type CliComponentDetails,
  type CliComponentState,
  type ComponentActionResult,
  type LocalDeploymentInfo,
  type LocalDeploymentRequest,
  type LocalDeploymentStatus,
} from '../ipc/index.js';
import type { LifecycleState } from '../lifecycle/index.js';
import type { Nucleus } from './nucleus.js';
import { TENDRIL_VERSION } from './nucleus-config.js';

/** The file `greengrass-cli` reads: `{cli_auth_token, domain_socket_path}`. */
export const CLI_IPC_INFO_FILE = 'info.json';

const STATE: Record<LifecycleState, CliComponentState> = {
  NEW: 'NEW',
  INSTALLED: 'INSTALLED',
  STARTING: 'STARTING',
  RUNNING: 'RUNNING',
  STOPPING: 'STOPPING',
  ERRORED: 'ERRORED',
  BROKEN: 'BROKEN',
  FINISHED: 'FINISHED',
  UNINSTALLING: 'STOPPING',
  UNINSTALLED: 'FINISHED',
};

/** Sort keys above any epoch-ms timestamp: undelivered statuses, then queued entries, are newest. */
const PENDING_TIER = 1e15;
const QUEUED_TIER = 2e15;

const isMap = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);

/** [DP-63] job statuses as the CLI model has them; REJECTED is a failure to the CLI. */
function cliStatus(s: JobStatus): LocalDeploymentStatus {
  return s === 'REJECTED' ? 'FAILED' : s;
}

/** [DP-65] status details keys -> the CLI model's DeploymentStatusDetails [IPC-70]. */
function cliDetails(details: Record<string, string>): LocalDeploymentInfo['deploymentStatusDetails'] {
  const detailed = details['detailed-deployment-status'];
  const list = (key: string): string[] | undefined => {
    const raw = details[key];
    if (raw === undefined) return undefined;
    try {
      const v: unknown = JSON.parse(raw);
      return Array.isArray(v) ? v.map(String) : [raw];
    } catch {
      return [raw];
    }
  };
  const stack = list('deployment-error-stack');
  const types = list('deployment-error-types');
  const cause = details['deployment-failure-cause'];
  if (detailed === undefined && cause === undefined) return undefined;
  return {
    detailedDeploymentStatus: detailed ?? 'FAILED_NO_STATE_CHANGE',
    ...(stack && { deploymentErrorStack: stack }),
    ...(types && { deploymentErrorTypes: types }),
    ...(cause !== undefined && { deploymentFailureCause: cause }),
  };
}

export class NucleusCliBackend implements CliBackend {
  /** Creation times of the deployments this nucleus queued (also kept in the queued document). */
  private readonly createdOn = new Map<string, string>();

  constructor(private readonly nucleus: Nucleus) {}

  private get nucleusName(): string {
    return this.nucleus.settings.nucleusName;
  }

  listComponents(): CliComponentDetails[] {
    const names = [this.nucleusName, ...this.nucleus.manager.order.filter((n) => n !== this.nucleusName)];
    return names.map((n) => this.componentDetails(n)).filter((d): d is CliComponentDetails => !!d);
  }

  componentDetails(name: string): CliComponentDetails | undefined {
    const config = this.nucleus.store.config;
    const configuration = config.toMap(['services', name, 'configuration']);
    const withConfig = (d: CliComponentDetails): CliComponentDetails =>
      isMap(configuration) && Object.keys(configuration).length ? { ...d, configuration } : d;
    const version = config.get(['services', name, 'version']);
    if (name === this.nucleusName)
      return withConfig({
        componentName: name,
        version: typeof version === 'string' ? version : TENDRIL_VERSION,
        state: 'RUNNING',
      });
    const sup = this.nucleus.manager.get(name);
    if (!sup) return undefined;
    return withConfig({
      componentName: name,
      version: sup.definition.version ?? (version === undefined ? '' : String(version)),
      state: STATE[sup.state],
    });
  }

  restart(name: string): ComponentActionResult {
    return this.act(name, 'restart', (s) => s.requestRestart());
  }

  stop(name: string): ComponentActionResult {
    return this.act(name, 'stop', (s) => s.requestStop());
  }

  private act(
    name: string,
    verb: string,
    fn: (s: { requestRestart(): void; requestStop(): void }) => void,
  ): ComponentActionResult {
    if (name === this.nucleusName)
      return { status: 'FAILED', message: `Tendril does not ${verb} the nucleus itself through the CLI` };
    const sup = this.nucleus.manager.get(name);
    if (!sup) return 'not-found';
    fn(sup);
    return { status: 'SUCCEEDED', message: `${verb} requested for ${name} (was ${sup.state})` };
  }

  async createLocalDeployment(req: LocalDeploymentRequest): Promise<string> {
    checkDirectory(req.recipeDirectoryPath, 'recipeDirectoryPath', 'InvalidRecipeDirectoryPathError');
    checkDirectory(
      req.artifactsDirectoryPath,
      'artifactsDirectoryPath',
      'InvalidArtifactsDirectoryPathError',
    );
    const id = randomUUID();
    const now = Date.now();
    const document: JsonObject = {
      requestId: id,
      requestTimestamp: now,
      ...(req as unknown as JsonObject),
    };
    // the deployment parser has the device's rules (component names, versions): refuse here, not later
    const parsed = parseDeploymentDocument(document, { form: 'LOCAL' });
    if (!parsed.ok) throw invalidArgumentsError(formatDocumentProblems(parsed.problems));
    const outcome = await this.nucleus.queue.offer({ id, type: 'LOCAL', stage: 'DEFAULT', document });
    if (outcome === 'full')
      throw serviceError(
        `the deployment queue is full (${this.nucleus.queue.size} entries); try again later`,
      );
    this.createdOn.set(id, String(now));
    return id;
  }

  async cancelLocalDeployment(id: string): Promise<CancelResult> {
    const current = this.deploymentStatus(id);
    if (!current) return 'not-found';
    if (current.status !== 'QUEUED' && current.status !== 'IN_PROGRESS')
      return {
        cancelled: false,
        reason: `Local deployment ${id} already ended with status ${current.status}`,
      };
    await this.nucleus.queue.offer({ id, type: 'LOCAL', stage: 'DEFAULT', cancelled: true });
    return {
      cancelled: true,
      message:
        current.status === 'QUEUED'
          ? `Local deployment ${id} was queued and is cancelled`
          : `Cancellation of local deployment ${id} requested; it stops unless it already started applying changes`,
    };
  }

  deploymentStatus(id: string): LocalDeploymentInfo | undefined {
    return this.localDeployments().find((d) => d.deploymentId === id);
  }

  listDeployments(): LocalDeploymentInfo[] {
    return this.localDeployments();
  }

  /**
   * Every local deployment the device knows, newest first: undelivered outbox statuses are newer
   * than the history, and a queued entry without any status is QUEUED.
   */
  private localDeployments(): LocalDeploymentInfo[] {
    const latest = new Map<string, { status: JobStatus; details: Record<string, string>; at: number }>();
    for (const r of this.nucleus.history.list()) {
      if (r.type !== 'LOCAL' || latest.has(r.deploymentId)) continue;
      latest.set(r.deploymentId, {
        status: r.status as JobStatus,
        details: r.details ?? {},
        at: r.updatedAt,
      });
    }
    const pending: ProcessedDeployment[] = this.nucleus.deployments.outbox.pending().map((p) => p.status);
    pending.forEach((p, i) => {
      if (p.DeploymentType === 'LOCAL')
        latest.set(p.DeploymentId, {
          status: p.DeploymentStatus,
          details: p.DeploymentStatusDetails ?? {},
          at: PENDING_TIER + i,
        });
    });
    const out: Array<LocalDeploymentInfo & { at: number }> = [];
    for (const [id, s] of latest) {
      const details = cliDetails(s.details);
      out.push({
        deploymentId: id,
        status: cliStatus(s.status),
        ...this.created(id),
        ...(details && { deploymentStatusDetails: details }),
        at: s.at,
      });
    }
    const queued = this.nucleus.queue.entries().filter((e) => e.type === 'LOCAL' && !latest.has(e.id));
    queued.forEach((e, i) =>
      out.push({ deploymentId: e.id, status: 'QUEUED', ...this.created(e.id, e), at: QUEUED_TIER + i }),
    );
    return out.sort((a, b) => b.at - a.at).map(({ at: _at, ...d }) => d);
  }

  private created(id: string, entry?: QueuedDeployment): { createdOn?: string } {
    const known = this.createdOn.get(id);
    if (known) return { createdOn: known };
    const doc = entry?.document;
    if (isMap(doc) && typeof doc.requestTimestamp === 'number')
      return { createdOn: String(doc.requestTimestamp) };
    return {};
  }
}

function checkDirectory(
  path: string | undefined,
  field: string,
  shape: 'InvalidRecipeDirectoryPathError' | 'InvalidArtifactsDirectoryPathError',
): void {
  if (path === undefined) return;
  if (!isAbsolute(path)) throw new IpcError(shape, `${field} must be an absolute path, got ${path}`);
  let isDir = false;
  try {
    isDir = statSync(path).isDirectory();
  } catch (e) {
    throw new IpcError(
      shape,
      `${field} ${path} cannot be read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
    );
  }
  if (!isDir) throw new IpcError(shape, `${field} ${path} is not a directory`);
}

/**
 * Registers the CLI operations on the nucleus's IPC registry and writes the CLI connection info
 * [CF-75]: a token for the CLI principal and the socket path, readable by owner and group only.
 */
export function startCliService(nucleus: Nucleus): NucleusCliBackend {
  const backend = new NucleusCliBackend(nucleus);
  new CliService(backend).register(nucleus.ipc.registry);
  const dir = nucleus.paths.cliIpcInfo;
  mkdirSync(dir, { recursive: true, mode: 0o750 });
  chmodSync(dir, 0o750);
  const file = join(dir, CLI_IPC_INFO_FILE);
  const tmp = `${file}.tmp`;
  const info = {
    cli_auth_token: nucleus.ipc.tokens.issue(CLI_PRINCIPAL),
    domain_socket_path: nucleus.ipc.plan.absolutePath,
  };
  writeFileSync(tmp, JSON.stringify(info) + '\n', { mode: 0o640 });
  chmodSync(tmp, 0o640);
  renameSync(tmp, file);
  return backend;
}
