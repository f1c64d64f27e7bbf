// The deployment service loop [DP-04]: one deployment at a time from the durable queue; each is
// parsed, run as a task, its statuses stored in the outbox before they are delivered [DP-64, DP-68],
// stale component versions cleaned up afterwards [DP-44, DP-75], and only then is it dequeued, so
// a restart resumes an unfinished deployment.
import { rm } from 'node:fs/promises';
import path from 'node:path';
import type { JsonObject } from '../config/index.js';
import { formatDocumentProblems, parseDeploymentDocument } from './document.js';
import type { ParseDeploymentOptions } from './document-options.js';
import type { DeploymentDocument } from './document-types.js';
import { queueKey, type DeploymentQueue, type QueuedDeployment } from './queue.js';
import {
  DeploymentError,
  jobStatusOf,
  statusDetails,
  type DeploymentResultStatus,
  type JobStatus,
} from './result.js';
import { StatusOutbox, type DeploymentStatusReporter, type ProcessedDeployment } from './result-outbox.js';
import { deploymentDir, restoreSnapshotExactly, ROLLBACK_SNAPSHOT } from './rollback.js';
import { versionsToKeep, type StaleCleanupResult } from './store-query.js';
import { runDeploymentTask, type TaskContext, type TaskOutcome } from './task.js';
import { BOOTSTRAP_TASKS, readBootstrapRecord, runKernelRollback } from './task-bootstrap.js';
import { DEFAULT_BUILTIN_SERVICES } from './task-services.js';
import {
  activationInterrupted,
  DEPLOYMENT_METADATA,
  markActivation,
  documentFingerprint,
  readProgress,
  removeInterruptedImports,
  writeProgress,
  type DeploymentProgress,
} from './task-progress.js';
import { DEFAULT_STAGE_TIMEOUTS, type StageTimeouts } from './task-stage.js';

export interface DeploymentEngineOptions extends Omit<TaskContext, 'timeouts' | 'cancelled'> {
  queue: DeploymentQueue;
  /** Status consumers, called in order for every stored status [DP-69]. */
  reporters?: readonly DeploymentStatusReporter[];
  timeouts?: Partial<StageTimeouts>;
  parseOptions?: ParseDeploymentOptions;
  /**
   * Asks the nucleus to restart (100) or the host to reboot (101) so that a deployment can go on
   * [CF-96 step 9]; the deployment stays queued and resumes after it. Without it such deployments fail.
   */
  requestRestart?: (code: 100 | 101, reason: string) => void;
}

export interface DeploymentOutcome {
  entry: QueuedDeployment;
  document?: DeploymentDocument;
  status: JobStatus;
  /** The DeploymentResult status [DP-62]; absent for a parse failure or a cancellation. */
  result?: DeploymentResultStatus;
  details: Record<string, string>;
  cleanup?: StaleCleanupResult;
}

export class DeploymentEngine {
  readonly outbox: StatusOutbox;
  private readonly timeouts: StageTimeouts;
  private abort: AbortController | undefined;
  private loop: Promise<void> | undefined;
  /** Open while a status and its progress marker are being written: no flush runs in between. */
  private recording: Promise<void> = Promise.resolve();
  /** Set once a restart was requested: no further deployment runs in this nucleus. */
  private restarting = false;
  private flushRetry: NodeJS.Timeout | undefined;

  constructor(private readonly o: DeploymentEngineOptions) {
    this.outbox = new StatusOutbox(o.store, o.reporters ?? []);
    this.timeouts = { ...DEFAULT_STAGE_TIMEOUTS, ...o.timeouts };
  }

  /** Runs queued deployments one at a time until `stop` [DP-04]. */
  start(): void {
    if (this.loop) return;
    const abort = (this.abort = new AbortController());
    this.loop = (async () => {
      for (const n of await removeInterruptedImports(this.o.root).catch(() => [] as string[]))
        this.o.log?.(`removed ${n}, left by an import a restart interrupted`);
      void this.flushOutbox();
      await this.settleLaunchDirectories().catch((e: Error) =>
        this.o.log?.(`nucleus launch directories: ${e.message}`),
      );
      while (!abort.signal.aborted) {
        await this.o.queue.waitForEntry(abort.signal);
        if (abort.signal.aborted) break;
        if (this.restarting) {
          await new Promise((r) => abort.signal.addEventListener('abort', r, { once: true }));
          break;
        }
        try {
          await this.runNext();
        } catch (e) {
          this.o.log?.(`deployment engine: ${(e as Error).message}; retrying in 1 s`);
          await new Promise((r) => setTimeout(r, 1000));
        }
      }
    })();
  }

  /**
   * Stops taking new deployments; a deployment waiting for its services is interrupted and stays
   * queued (with its rollback snapshot), to resume after the restart.
   */
  async stop(): Promise<void> {
    clearTimeout(this.flushRetry);
    this.flushRetry = undefined;
    this.abort?.abort();
    await this.loop;
    this.loop = undefined;
  }

  /**
   * Before anything starts from the services tree at boot: when a crash interrupted a deployment's
   * services write (its activation marker is still there), the tree may be half written; restore
   * the snapshot taken before the deployment, so that components start from a consistent tree
   * and the resumed deployment runs again from it. Returns the deployment id restored, if any.
   */
  async recoverInterruptedActivation(): Promise<string | undefined> {
    const entry = this.o.queue.peek();
    if (!entry) return undefined;
    const parsed = parseDeploymentDocument(entry.document, this.o.parseOptions);
    if (!parsed.ok) return undefined;
    const dir = deploymentDir(this.o.root, parsed.document.deploymentId);
    if (!(await activationInterrupted(dir))) return undefined;
    const snapshot = path.join(dir, ROLLBACK_SNAPSHOT);
    const keep = this.o.builtinServices ?? DEFAULT_BUILTIN_SERVICES;
    await this.o.store.transaction(() => restoreSnapshotExactly(this.o.store, snapshot, { keep }));
    await markActivation(dir, false);
    this.o.log?.(
      `deployment ${parsed.document.deploymentId}: a restart interrupted its services write; ` +
        'restored the services from before the deployment',
    );
    return parsed.document.deploymentId;
  }

  /**
   * [CF-98] At boot with the launcher back on the previous nucleus version (`alts/broken`), the
   * services tree may hold what the new version activated: restore the snapshot taken before the
   * deployment before any component starts from it; the deployment then reports the rollback.
   */
  async recoverKernelRollback(): Promise<string | undefined> {
    if (this.o.selfUpdate?.stage() !== 'KERNEL_ROLLBACK') return undefined;
    const entry = this.o.queue.peek();
    if (!entry || entry.stage === 'DEFAULT') return undefined;
    const parsed = parseDeploymentDocument(entry.document, this.o.parseOptions);
    if (!parsed.ok) return undefined;
    const dir = deploymentDir(this.o.root, parsed.document.deploymentId);
    if (!(await readBootstrapRecord(dir)).nucleus) return undefined;
    const snapshot = path.join(dir, ROLLBACK_SNAPSHOT);
    const keep = this.o.builtinServices ?? DEFAULT_BUILTIN_SERVICES;
    await this.o.store.transaction(() => restoreSnapshotExactly(this.o.store, snapshot, { keep }));
    this.o.log?.(
      `deployment ${parsed.document.deploymentId}: the nucleus update was rolled back; ` +
        'restored the services from before the deployment',
    );
    return parsed.document.deploymentId;
  }

  /** With no deployment left to finish them, a committed or rolled-back update's links are cleaned. */
  private async settleLaunchDirectories(): Promise<void> {
    const su = this.o.selfUpdate;
    // any queued deployment may be the update itself (its stage is marked only after alts/new exists)
    if (!su || su.stage() === 'DEFAULT' || this.o.queue.size > 0) return;
    if (su.stage() === 'KERNEL_ACTIVATION') await su.commit();
    else await su.finishRollback();
  }

  /** Delivers stored statuses in order; a consumer's failure only delays delivery. */
  async flushOutbox(): Promise<number> {
    await this.recording;
    return this.outbox.flush().catch((e: unknown) => {
      // the store failed (a consumer's refusal is not an error): nothing else would flush again
      const retry = !this.flushRetry && this.loop !== undefined && !this.abort?.signal.aborted;
      this.o.log?.(`deployment status delivery: ${(e as Error).message}${retry ? '; retrying in 1 s' : ''}`);
      if (retry) {
        this.flushRetry = setTimeout(() => {
          this.flushRetry = undefined;
          void this.flushOutbox();
        }, 1000);
        this.flushRetry.unref();
      }
      return 0;
    });
  }

  /** Runs the oldest queued deployment to its terminal status; undefined when the queue is empty. */
  async runNext(): Promise<DeploymentOutcome | undefined> {
    const entry = this.o.queue.peek();
    if (!entry) return undefined;
    const outcome = await this.process(entry);
    if (outcome === 'interrupted') return undefined;
    await this.o.queue.remove(entry);
    await this.flushOutbox();
    return outcome;
  }

  private async process(entry: QueuedDeployment): Promise<DeploymentOutcome | 'interrupted'> {
    if (entry.cancelled) {
      // stored just before a crash that came before the dequeue: not again [DP-64]
      const stored = this.outbox
        .pending()
        .some((p) => p.status.DeploymentId === entry.id && p.status.DeploymentStatus === 'CANCELED');
      if (stored) return { entry, status: 'CANCELED', details: {} };
      return this.canceled(entry, undefined);
    }
    const parsed = parseDeploymentDocument(entry.document, this.o.parseOptions);
    if (!parsed.ok) {
      const err = new DeploymentError(
        `invalid deployment document: ${formatDocumentProblems(parsed.problems)}`,
        ['DEPLOYMENT_DOCUMENT_NOT_VALID'],
        ['REQUEST_ERROR'],
      );
      const details = statusDetails({ status: 'FAILED_NO_STATE_CHANGE', error: err }, 'CLOUD');
      delete details['detailed-deployment-status']; // [DP-65] a parse failure carries no detailed status
      await this.record(entry, undefined, 'FAILED', details);
      return { entry, status: 'FAILED', details };
    }
    const doc = parsed.document;
    const dir = deploymentDir(this.o.root, doc.deploymentId);
    const metadata = path.join(dir, DEPLOYMENT_METADATA);
    const base = {
      id: entry.id,
      type: entry.type,
      deploymentId: doc.deploymentId,
      document: documentFingerprint(entry.document),
    };
    const stored = await readProgress(metadata, base.document);
    let progress = stored;
    // a status stored in the outbox just before a crash, whose marker was not written yet
    const pending = this.outbox
      .pending()
      .filter(
        (p) => p.status.DeploymentId === entry.id && p.status.GreengrassDeploymentId === doc.deploymentId,
      )
      .at(-1)?.status;
    if (
      pending &&
      (!progress || (progress.status === 'IN_PROGRESS' && pending.DeploymentStatus !== 'IN_PROGRESS'))
    )
      progress = {
        ...base,
        status: pending.DeploymentStatus,
        details: pending.DeploymentStatusDetails,
        result: pending.DeploymentStatusDetails['detailed-deployment-status'] as
          DeploymentResultStatus | undefined,
      };
    if (progress && progress.status !== 'IN_PROGRESS') {
      // [DP-64] the terminal status is already stored: finish the bookkeeping, report nothing again
      this.o.log?.(`deployment ${doc.deploymentId}: already ${progress.status}; dequeuing it`);
      await this.markProgress(metadata, progress);
      const outcome: DeploymentOutcome = {
        entry,
        document: doc,
        status: progress.status,
        result: progress.result,
        details: progress.details ?? {},
      };
      outcome.cleanup = await this.cleanup(
        progress.result === 'SUCCESSFUL' ? {} : (progress.attempted ?? {}),
      );
      return outcome;
    }
    if (!progress) {
      // [DP-33, DP-64] IN_PROGRESS exactly once; a snapshot from an earlier deployment reusing this
      // id is not this deployment's starting point [DP-52]
      await rm(path.join(dir, ROLLBACK_SNAPSHOT), { force: true });
      await rm(path.join(dir, BOOTSTRAP_TASKS), { force: true });
      await this.recordMarked(entry, doc, 'IN_PROGRESS', {}, metadata, { ...base, status: 'IN_PROGRESS' });
      void this.flushOutbox(); // the cloud hears IN_PROGRESS while the deployment runs [DP-64]
    } else if (!stored) await this.markProgress(metadata, progress);
    const key = queueKey(entry);
    const ctx: TaskContext = {
      ...this.o,
      timeouts: this.timeouts,
      cancelled: () => this.o.queue.entries().some((e) => queueKey(e) === key && e.cancelled === true),
      signal: this.abort?.signal,
      canRestart: this.o.requestRestart !== undefined && this.o.canRestart !== false,
    };
    let task: TaskOutcome;
    if (this.o.selfUpdate?.stage() === 'KERNEL_ROLLBACK' && entry.stage !== 'DEFAULT')
      // [CF-98, CF-99] the launcher went back to this version: report the rollback
      task = { result: await runKernelRollback(ctx, doc), attempted: {} };
    else task = await runDeploymentTask(ctx, doc);
    const r = task.result;
    if (r.status === 'INTERRUPTED') return 'interrupted';
    if (r.status === 'RESTART') {
      // [CF-96 step 9] the deployment stays queued, marked as resumed [DP-31], and finishes after it
      if (entry.stage === 'DEFAULT') await this.o.queue.offer({ ...entry, stage: r.stage });
      this.restarting = true;
      this.o.log?.(
        `deployment ${doc.deploymentId}: ${r.code === 101 ? 'reboot' : 'nucleus restart'} requested: ${r.reason}`,
      );
      this.o.requestRestart?.(r.code, r.reason);
      return 'interrupted';
    }
    let outcome: DeploymentOutcome;
    if (r.status === 'CANCELED') outcome = await this.canceled(entry, doc, metadata, base);
    else {
      const details = statusDetails(r, doc.form);
      const status = jobStatusOf(r.status);
      await this.recordMarked(entry, doc, status, details, metadata, {
        ...base,
        status,
        result: r.status,
        details,
        attempted: task.attempted,
      });
      outcome = { entry, document: doc, status, result: r.status, details };
      if (r.error) this.o.log?.(`deployment ${doc.deploymentId}: ${r.status}: ${r.error.message}`);
    }
    outcome.cleanup = await this.cleanup(outcome.result === 'SUCCESSFUL' ? {} : task.attempted);
    return outcome;
  }

  /**
   * Stores a status in the outbox, then its marker in the deployment's metadata; flushes wait for
   * both, so a crash in between leaves the status pending in the outbox, where a resumed
   * deployment finds it instead of storing it twice.
   */
  private async recordMarked(
    entry: QueuedDeployment,
    doc: DeploymentDocument | undefined,
    status: JobStatus,
    details: Record<string, string>,
    metadata: string,
    progress: DeploymentProgress,
  ): Promise<void> {
    let open!: () => void;
    const before = this.recording;
    this.recording = new Promise((r) => (open = r));
    try {
      await before;
      await this.record(entry, doc, status, details);
      await writeProgress(metadata, progress);
    } finally {
      open();
    }
  }

  private async markProgress(metadata: string, progress: DeploymentProgress): Promise<void> {
    await writeProgress(metadata, progress);
  }

  /** [DP-74] SHADOW and LOCAL cancellations publish CANCELED; IoT Jobs ones publish nothing. */
  private async canceled(
    entry: QueuedDeployment,
    doc: DeploymentDocument | undefined,
    metadata?: string,
    base?: Omit<DeploymentProgress, 'status'>,
  ): Promise<DeploymentOutcome> {
    if (entry.type !== 'IOT_JOBS') {
      if (metadata && base)
        await this.recordMarked(entry, doc, 'CANCELED', {}, metadata, { ...base, status: 'CANCELED' });
      else await this.record(entry, doc, 'CANCELED', {});
    }
    return { entry, document: doc, status: 'CANCELED', details: {} };
  }

  private async record(
    entry: QueuedDeployment,
    doc: DeploymentDocument | undefined,
    status: JobStatus,
    details: Record<string, string>,
  ): Promise<void> {
    const p: ProcessedDeployment = {
      DeploymentId: entry.id,
      GreengrassDeploymentId: doc?.deploymentId ?? entry.id,
      ConfigurationArn: doc?.configurationArn ?? '',
      DeploymentType: entry.type,
      DeploymentStatus: status,
      DeploymentStatusDetails: details,
      DeploymentRootPackages: doc ? Object.keys(doc.rootComponents) : [],
    };
    await this.outbox.record(p);
  }

  /** [DP-75, DP-76] keep every service's version and previousVersion (and what a failure tried). */
  private async cleanup(attempted: Record<string, string>): Promise<StaleCleanupResult> {
    const services: Record<string, { version?: string; previousVersion?: string }> = {};
    for (const [name, v] of Object.entries(this.o.store.config.toMap(['services']))) {
      const s = v as JsonObject;
      if (!s || typeof s !== 'object' || Array.isArray(s)) continue;
      services[name] = {
        version: typeof s.version === 'string' ? s.version : undefined,
        previousVersion: typeof s.previousVersion === 'string' ? s.previousVersion : undefined,
      };
    }
    try {
      const r = await this.o.componentStore.deleteStaleVersions(versionsToKeep(services, attempted));
      for (const w of r.warnings) this.o.log?.(`stale version cleanup: ${w}`);
      return r;
    } catch (e) {
      const w = `stale version cleanup failed: ${(e as Error).message}`;
      this.o.log?.(w);
      return { deleted: [], warnings: [w] };
    }
  }
}
