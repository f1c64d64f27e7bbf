// One deployment task (DefaultDeploymentTask, deployment.md sections 4-7) as typed stages, each with
// a timeout: resolve -> prepare -> target services -> safe update -> snapshot -> activate ->
// converge -> (rollback). Failures before activation change nothing [DP-45].
import type { ConfigStore } from '../config/index.js';
import type { DevicePlatform } from '../recipe/index.js';
import {
  brokenAndHardDependers,
  lifecycleTargets,
  waitForServices,
  writeTargetServices,
  type ComponentStates,
} from './activation.js';
import { planBootstrap } from './bootstrap-plan.js';
import { groupRootsAfter, missingCapabilities } from './document.js';
import type { DeploymentDocument } from './document-types.js';
import { resolveFromSource, type ComponentSource, type ResolveErrorCode } from './resolve.js';
import { DeploymentError, type DeploymentErrorCode, type DeploymentResult } from './result.js';
import type { DeploymentStage } from './queue.js';
import { deploymentDir, takeRollbackSnapshot } from './rollback.js';
import type { ComponentStore } from './store-query.js';
import { runSafeUpdate, type SafeUpdateHooks } from './task-safe-update.js';
import { computeTargetServices, currentGroupRoots, DEFAULT_BUILTIN_SERVICES } from './task-services.js';
import {
  failInNewNucleus,
  nucleusTarget,
  runKernelPhase,
  type BootstrapRunner,
  type KernelPhase,
  type NucleusSelfUpdate,
} from './task-bootstrap.js';
import { asDeploymentError, convergeError, rollbackToSnapshot, writeServices } from './task-rollback.js';
import { runStage, type StageTimeouts } from './task-stage.js';

export interface TaskContext {
  root: string;
  store: ConfigStore;
  componentStore: ComponentStore;
  /** Where versions come from (default the component store); the seam for the cloud. */
  source?: ComponentSource;
  states: ComponentStates;
  platform: DevicePlatform;
  thingName?: string;
  hooks?: SafeUpdateHooks;
  timeouts: StageTimeouts;
  builtinServices?: readonly string[];
  /** Configuration timestamp source [CF-24]: the document's creation time (default) or now. */
  configurationTimeSource?: 'deploymentCreationTime' | 'deploymentProcessingTime';
  /** True once the deployment was cancelled [DP-72]: checked before the merge starts. */
  cancelled?: () => boolean;
  /**
   * Aborted when the nucleus shuts down: the task stops waiting and reports INTERRUPTED, records
   * nothing, and stays queued so that it resumes after the restart (DESIGN: never stuck IN_PROGRESS).
   */
  signal?: AbortSignal;
  log?: (msg: string) => void;
  /** Runs bootstrap steps [LC-35]; without it a deployment that needs one fails. */
  bootstrap?: BootstrapRunner;
  /** Updates the nucleus itself [CF-97]; without it a nucleus version change is not supported. */
  selfUpdate?: NucleusSelfUpdate;
  /** Whether the nucleus can restart (exit 100) and reboot (exit 101) to finish a deployment. */
  canRestart?: boolean;
}

export interface TaskOutcome {
  result:
    | DeploymentResult
    | { status: 'CANCELED' }
    | { status: 'INTERRUPTED' }
    /** The nucleus must restart (100) or the host reboot (101); the deployment resumes after it. */
    | { status: 'RESTART'; code: 100 | 101; reason: string; stage: DeploymentStage };
  /** name -> version the deployment tried (kept by cleanup on failure [DP-75]). */
  attempted: Record<string, string>;
}

const RESOLVE_CODES: Record<ResolveErrorCode, DeploymentErrorCode> = {
  COMPONENT_NOT_FOUND: 'NO_AVAILABLE_COMPONENT_VERSION',
  NO_MATCHING_PLATFORM: 'NO_MATCHING_PLATFORM',
  VERSION_CONFLICT: 'COMPONENT_VERSION_REQUIREMENTS_NOT_MET',
  CIRCULAR_DEPENDENCY: 'COMPONENT_CIRCULAR_DEPENDENCY_ERROR',
  NOT_CONVERGED: 'NO_AVAILABLE_COMPONENT_VERSION',
};

export async function runDeploymentTask(ctx: TaskContext, doc: DeploymentDocument): Promise<TaskOutcome> {
  const attempted: Record<string, string> = {};
  const noChange = (e: unknown): TaskOutcome => ({
    result: { status: 'FAILED_NO_STATE_CHANGE', error: asDeploymentError(e) },
    attempted,
  });
  const builtins = ctx.builtinServices ?? DEFAULT_BUILTIN_SERVICES;
  const t = ctx.timeouts;
  let plan;
  try {
    const missing = missingCapabilities(doc);
    if (missing.length > 0)
      throw new DeploymentError(
        missing.map((p) => `${p.path}: ${p.reason}`).join('; '),
        ['NUCLEUS_MISSING_REQUIRED_CAPABILITIES'],
        ['REQUEST_ERROR'],
      );
    // [DP-35, DP-40] prepare: local deployments bring their recipes and artifacts.
    if (doc.recipeDirectoryPath) {
      const recipeDir = doc.recipeDirectoryPath;
      await runStage('prepare', t.prepareMs, () =>
        ctx.componentStore.importComponents({
          recipeDir,
          artifactDir: doc.artifactsDirectoryPath,
          platform: ctx.platform,
        }),
      );
    }
    const current = ctx.store.config.toMap(['services']);
    const groups = currentGroupRoots(current);
    groups[doc.groupName] = groupRootsAfter(groups[doc.groupName] ?? {}, doc);
    const installed: Record<string, string> = {};
    for (const [name, v] of Object.entries(current))
      if (v && typeof v === 'object' && !Array.isArray(v) && typeof v.version === 'string')
        installed[name] = v.version;
    // [DP-38] resolve over the component source.
    const resolved = await runStage('resolve', t.resolveMs, async () => {
      const r = await resolveFromSource(
        { groups, installed, platform: ctx.platform },
        ctx.source ?? ctx.componentStore,
      );
      if (!r.ok)
        throw new DeploymentError(r.error.message, [RESOLVE_CODES[r.error.code]], ['DEPENDENCY_ERROR']);
      return r.components;
    });
    for (const [name, c] of Object.entries(resolved)) attempted[name] = c.version;
    // [DP-41, DP-42] target services.
    const now = ctx.store.config.now();
    const configurationTimestamp =
      ctx.configurationTimeSource === 'deploymentProcessingTime' ? now : doc.timestamp;
    const target = computeTargetServices({
      doc,
      current,
      resolved,
      groupRoots: groups,
      platform: ctx.platform,
      rootPath: ctx.root,
      thingName: ctx.thingName,
      configurationTimestamp,
      configurationModtime: (name, p) =>
        ctx.store.config.find(['services', name, 'configuration', ...p])?.modtime,
      builtinServices: builtins,
    });
    for (const w of target.warnings) ctx.log?.(`deployment ${doc.deploymentId}: ${w}`);
    // [DP-46, CF-95] the kernel-update path: bootstrap steps or a nucleus version change
    const kernel =
      planBootstrap(current, target.services).length > 0 || nucleusTarget(ctx, resolved) !== undefined;
    // [DP-47..DP-49] notify and validate.
    await runSafeUpdate(ctx, doc, current, target.services);
    if (ctx.cancelled?.()) return { result: { status: 'CANCELED' }, attempted };
    plan = { now, configurationTimestamp, target, current, resolved, kernel };
  } catch (e) {
    return noChange(e);
  }

  const dir = deploymentDir(ctx.root, doc.deploymentId);
  const rollback = doc.failureHandlingPolicy === 'ROLLBACK';
  const brokenBefore = brokenAndHardDependers(ctx.states, ctx.store.config.toMap(['services']));
  let snapshot: string;
  try {
    snapshot = await runStage('snapshot', t.snapshotMs, () => takeRollbackSnapshot(ctx.store, dir));
  } catch (e) {
    return noChange(e);
  }

  if (plan.kernel) {
    let phase: KernelPhase;
    try {
      phase = await runKernelPhase(ctx, doc, plan.current, plan.target.services, plan.resolved);
    } catch (e) {
      phase = { kind: 'failed', error: asDeploymentError(e) };
    }
    if (phase.kind === 'interrupted') return { result: { status: 'INTERRUPTED' }, attempted };
    if (phase.kind === 'restart')
      return {
        result: { status: 'RESTART', code: phase.code, reason: phase.reason, stage: phase.stage },
        attempted,
      };
    if (phase.kind === 'failed') {
      // [CF-96 step 8] a bootstrap failure fails the deployment, rolled back whatever the policy
      const r = await rollbackToSnapshot(ctx, doc.deploymentId, snapshot, phase.error, brokenBefore);
      return { result: r, attempted };
    }
  }

  // [DP-54] activate; from here on the device state changes.
  let failure: DeploymentError;
  try {
    await writeServices(ctx, dir, () =>
      writeTargetServices(ctx.store, plan.target.services, plan.target.removed, {
        now: plan.now,
        configurationTimestamp: plan.configurationTimestamp,
      }),
    );
    const outcome = await waitForServices(
      ctx.states,
      lifecycleTargets(plan.target.services, builtins),
      plan.target.removed,
      { timeoutMs: t.convergeMs, settleMs: t.settleMs, ignore: brokenBefore, signal: ctx.signal },
    );
    if (!outcome.ok && outcome.reason === 'aborted') return { result: { status: 'INTERRUPTED' }, attempted };
    if (outcome.ok) {
      // [CF-99] the new nucleus version finished its deployment: the previous one is not needed
      if (ctx.selfUpdate?.stage() === 'KERNEL_ACTIVATION') await ctx.selfUpdate.commit();
      if (ctx.hooks) await ctx.hooks.postUpdate(doc.deploymentId).catch(() => undefined);
      return { result: { status: 'SUCCESSFUL' }, attempted };
    }
    failure = convergeError(outcome);
  } catch (e) {
    failure = asDeploymentError(e);
  }
  if (ctx.selfUpdate?.stage() === 'KERNEL_ACTIVATION' && ctx.canRestart) {
    // [CF-99] back to the previous nucleus version, which rolls the deployment back
    const r = await failInNewNucleus(ctx, doc, failure);
    return { result: { status: 'RESTART', ...r, stage: 'KERNEL_ROLLBACK' }, attempted };
  }
  if (!rollback) return { result: { status: 'FAILED_ROLLBACK_NOT_REQUESTED', error: failure }, attempted };

  // [DP-59] rollback.
  return {
    result: await rollbackToSnapshot(ctx, doc.deploymentId, snapshot, failure, brokenBefore),
    attempted,
  };
}

export { asDeploymentError };
