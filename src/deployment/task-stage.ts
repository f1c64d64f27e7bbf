// Every stage of a deployment task has a timeout (DESIGN: no stage can hang).
import { DeploymentError } from './result.js';

export interface StageTimeouts {
  /** Copying a local deployment's recipes and artifacts into the store. */
  prepareMs: number;
  /** Version resolution over the component source. */
  resolveMs: number;
  /** Writing or replaying the rollback snapshot. */
  snapshotMs: number;
  /** Waiting for services to reach RUNNING/FINISHED after activation or rollback [DP-55]. */
  convergeMs: number;
  /** How long services must stay RUNNING/FINISHED before success is declared. */
  settleMs: number;
}

export const DEFAULT_STAGE_TIMEOUTS: StageTimeouts = {
  prepareMs: 10 * 60_000,
  resolveMs: 10 * 60_000,
  snapshotMs: 60_000,
  convergeMs: 10 * 60_000,
  settleMs: 500,
};

/** Runs `fn`, failing with DEPLOYMENT_STAGE_TIMEOUT when it takes longer than `timeoutMs`. */
export async function runStage<T>(stage: string, timeoutMs: number, fn: () => Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new DeploymentError(
            `deployment stage ${stage} timed out after ${timeoutMs} ms`,
            ['DEPLOYMENT_STAGE_TIMEOUT'],
            ['NUCLEUS_ERROR'],
          ),
        ),
      timeoutMs,
    );
  });
  try {
    return await Promise.race([fn(), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Resolves with `fn`'s value, or `fallback` when it does not settle in `timeoutMs`. */
export async function withinOrElse<T>(timeoutMs: number, fn: () => Promise<T>, fallback: T): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<T>((resolve) => {
    timer = setTimeout(() => resolve(fallback), timeoutMs);
  });
  try {
    return await Promise.race([fn(), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
