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
  type ConvergeOutcome,
} from './activation.js';
import { groupRootsAfter, missingCapabilities } from './document.js';
import type { DeploymentDocument } from './document-types.js';
import { resolveFromSource, type ComponentSource, type ResolveErrorCode } from './resolve.js';
import { DeploymentError, type DeploymentErrorCode, type DeploymentResult } from './result.js';
import { deploymentDir, restoreRollbackSnapshot, takeRollbackSnapshot } from './rollback.js';
import type { ComponentStore } from './store-query.js';
import { runSafeUpdate, type SafeUpdateHooks } from './task-safe-update.js';
import { computeTargetServices, currentGroupRoots, DEFAULT_BUILTIN_SERVICES } from './task-services.js';
import { markActivation } from './task-progress.js';
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
}

export interface TaskOutcome {
  result: DeploymentResult | { status: 'CANCELED' } | { status: 'INTERRUPTED' };
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
    // [DP-47..DP-49] notify and validate.
    await runSafeUpdate(ctx, doc, current, target.services);
    if (ctx.cancelled?.()) return { result: { status: 'CANCELED' }, attempted };
    plan = { now, configurationTimestamp, target };
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
      if (ctx.hooks) await ctx.hooks.postUpdate(doc.deploymentId).catch(() => undefined);
      return { result: { status: 'SUCCESSFUL' }, attempted };
    }
    failure = convergeError(outcome);
  } catch (e) {
    failure = asDeploymentError(e);
  }
  if (!rollback) return { result: { status: 'FAILED_ROLLBACK_NOT_REQUESTED', error: failure }, attempted };

  // [DP-59] rollback.
  try {
    const restored = await runStage('rollback', t.snapshotMs, () =>
      writeServices(ctx, dir, () =>
        restoreRollbackSnapshot(ctx.store, snapshot, { now: ctx.store.config.now(), keep: builtins }),
      ),
    );
    const outcome = await waitForServices(
      ctx.states,
      lifecycleTargets(restored.services, builtins),
      restored.removed,
      { timeoutMs: t.convergeMs, settleMs: t.settleMs, ignore: brokenBefore, signal: ctx.signal },
    );
    if (!outcome.ok && outcome.reason === 'aborted') return { result: { status: 'INTERRUPTED' }, attempted };
    if (!outcome.ok) throw convergeError(outcome);
    return { result: { status: 'FAILED_ROLLBACK_COMPLETE', error: failure }, attempted };
  } catch (e) {
    const err = asDeploymentError(e);
    return {
      result: {
        status: 'FAILED_UNABLE_TO_ROLLBACK',
        error: new DeploymentError(
          `${failure.message}. Rollback failed: ${err.message}`,
          [...failure.codes, 'ROLLBACK_FAILURE', ...err.codes],
          [...failure.types, ...err.types],
        ),
      },
      attempted,
    };
  }
}

/**
 * One write of the services tree, as a store transaction (the reconciler waits for its end) inside
 * the durable activation marker (a crash in the middle is undone at the next boot).
 */
async function writeServices<T>(ctx: TaskContext, dir: string, write: () => Promise<T>): Promise<T> {
  await markActivation(dir, true);
  const r = await ctx.store.transaction(async () => {
    const out = await write();
    await ctx.store.sync();
    return out;
  });
  await markActivation(dir, false);
  return r;
}

function convergeError(o: Exclude<ConvergeOutcome, { ok: true }>): DeploymentError {
  if (o.reason === 'broken')
    return new DeploymentError(
      `service ${o.broken.join(', ')} is broken after the deployment`,
      ['COMPONENT_BROKEN'],
      ['COMPONENT_ERROR'],
    );
  if (o.reason === 'timeout')
    return new DeploymentError(
      `services did not reach RUNNING or FINISHED in time: ${o.pending.join(', ')}`,
      ['COMPONENT_UPDATE_ERROR', 'DEPLOYMENT_STAGE_TIMEOUT'],
      ['COMPONENT_ERROR'],
    );
  return new DeploymentError(
    'the deployment was interrupted while waiting for services',
    ['COMPONENT_UPDATE_ERROR'],
    ['NUCLEUS_ERROR'],
  );
}

export function asDeploymentError(e: unknown): DeploymentError {
  if (e instanceof DeploymentError) return e;
  return new DeploymentError(e instanceof Error ? e.message : String(e), [], ['NUCLEUS_ERROR'], { cause: e });
}
