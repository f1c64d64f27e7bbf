// Running a step in the foreground with a timeout [LC-84, section 2 timeouts].

import type { ProcessLauncher, StepExit, StepLaunch } from '../types.js';
import { DEFAULT_GRACE_MS } from './launcher.js';

export interface ForegroundOptions {
  /** how long the step may run; null = no timeout (run steps without `timeout`) */
  timeoutMs: number | null;
  /** SIGTERM -> SIGKILL grace when the timeout hits, default 5000 [LC-82] */
  graceMs?: number;
}

/** Launches the step and waits for it; on timeout stops the whole tree and returns 'timeout'. */
export async function runForeground(
  launcher: ProcessLauncher,
  launch: StepLaunch,
  options: ForegroundOptions,
): Promise<StepExit | 'timeout'> {
  const proc = await launcher.launch(launch);
  if (options.timeoutMs === null) return proc.exit;
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), Math.max(0, options.timeoutMs as number));
  });
  const result = await Promise.race([proc.exit, timedOut]);
  clearTimeout(timer);
  if (result !== 'timeout') return result;
  await proc.stop(options.graceMs ?? DEFAULT_GRACE_MS);
  return 'timeout';
}
