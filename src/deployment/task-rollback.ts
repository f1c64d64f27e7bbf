// Rollback to the pre-deployment snapshot [DP-59]: replay it (forced rollback merge, added services
// removed, tlog truncated), then wait for the services to converge. Shared by a failed activation and
// by a failed nucleus update that the launcher rolled back (spec/config.md CF-99).
import { waitForServices, lifecycleTargets, type ConvergeOutcome } from './activation.js';
import {
  DeploymentError,
  type DeploymentErrorCode,
  type DeploymentErrorType,
  type DeploymentResult,
} from './result.js';
import { deploymentDir, restoreRollbackSnapshot } from './rollback.js';
import { markActivation } from './task-progress.js';
import { DEFAULT_BUILTIN_SERVICES } from './task-services.js';
import { runStage } from './task-stage.js';
import type { TaskContext } from './task.js';

export type RollbackResult = DeploymentResult | { status: 'INTERRUPTED' };

/**
 * One write of the services tree, as a store transaction (the reconciler waits for its end) inside
 * the durable activation marker (a crash in the middle is undone at the next boot).
 */
export async function writeServices<T>(ctx: TaskContext, dir: string, write: () => Promise<T>): Promise<T> {
  await markActivation(dir, true);
  const r = await ctx.store.transaction(async () => {
    const out = await write();
    await ctx.store.sync();
    return out;
  });
  await markActivation(dir, false);
  return r;
}

/** FAILED_ROLLBACK_COMPLETE, FAILED_UNABLE_TO_ROLLBACK, or INTERRUPTED when the nucleus stops. */
export async function rollbackToSnapshot(
  ctx: TaskContext,
  deploymentId: string,
  snapshot: string,
  failure: DeploymentError,
  ignore: ReadonlySet<string>,
): Promise<RollbackResult> {
  const builtins = ctx.builtinServices ?? DEFAULT_BUILTIN_SERVICES;
  const t = ctx.timeouts;
  try {
    const restored = await runStage('rollback', t.snapshotMs, () =>
      writeServices(ctx, deploymentDir(ctx.root, deploymentId), () =>
        restoreRollbackSnapshot(ctx.store, snapshot, { now: ctx.store.config.now(), keep: builtins }),
      ),
    );
    const outcome = await waitForServices(
      ctx.states,
      lifecycleTargets(restored.services, builtins),
      restored.removed,
      { timeoutMs: t.convergeMs, settleMs: t.settleMs, ignore, signal: ctx.signal },
    );
    if (!outcome.ok && outcome.reason === 'aborted') return { status: 'INTERRUPTED' };
    if (!outcome.ok) throw convergeError(outcome);
    return { status: 'FAILED_ROLLBACK_COMPLETE', error: failure };
  } catch (e) {
    const err = asDeploymentError(e);
    return {
      status: 'FAILED_UNABLE_TO_ROLLBACK',
      error: new DeploymentError(
        `${failure.message}. Rollback failed: ${err.message}`,
        [...failure.codes, 'ROLLBACK_FAILURE', ...err.codes],
        [...failure.types, ...err.types],
      ),
    };
  }
}

export function convergeError(o: Exclude<ConvergeOutcome, { ok: true }>): DeploymentError {
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

/** Codes an artifact download fails with (ArtifactDownloadError.code) that the status carries [DP-66]. */
const DOWNLOAD_CODES: Partial<Record<string, { code: DeploymentErrorCode; type: DeploymentErrorType }>> = {
  DISK_SPACE_CRITICAL: { code: 'DISK_SPACE_CRITICAL', type: 'DEVICE_ERROR' },
  ENOSPC: { code: 'DISK_SPACE_CRITICAL', type: 'DEVICE_ERROR' },
  EDQUOT: { code: 'DISK_SPACE_CRITICAL', type: 'DEVICE_ERROR' },
  ARTIFACT_DOWNLOAD_ERROR: { code: 'ARTIFACT_DOWNLOAD_ERROR', type: 'NETWORK_ERROR' },
  ARTIFACT_CHECKSUM_MISMATCH: { code: 'ARTIFACT_CHECKSUM_MISMATCH', type: 'CLOUD_SERVICE_ERROR' },
  GREENGRASS_ARTIFACT_SIZE_NOT_FOUND: {
    code: 'GREENGRASS_ARTIFACT_SIZE_NOT_FOUND',
    type: 'CLOUD_SERVICE_ERROR',
  },
  S3_GET_OBJECT_ACCESS_DENIED: { code: 'S3_GET_OBJECT_ACCESS_DENIED', type: 'PERMISSION_ERROR' },
  MISSING_DOCKER_APPLICATION_MANAGER: {
    code: 'MISSING_DOCKER_APPLICATION_MANAGER',
    type: 'DEPENDENCY_ERROR',
  },
};

export function asDeploymentError(e: unknown): DeploymentError {
  if (e instanceof DeploymentError) return e;
  const code = (e as { code?: unknown } | undefined)?.code;
  const known = typeof code === 'string' ? DOWNLOAD_CODES[code] : undefined;
  return new DeploymentError(
    e instanceof Error ? e.message : String(e),
    known ? [known.code] : [],
    [known?.type ?? 'NUCLEUS_ERROR'],
    { cause: e },
  );
}
