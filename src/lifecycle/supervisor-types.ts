// The public shapes of a component supervisor: its options, its state-change events and its status.
import type { BackoffPolicy, StatusCode } from './policy.js';
import type { LifecycleRecord } from './state-machine-record.js';
import type { SkipIfPaths, SkipIfProbe } from './steps-skipif.js';
import type { Clock, Timers } from './supervisor-steps.js';
import type { LifecycleState, PosixIdentity, ProcessLauncher, ResourceController } from './types.js';

export interface SupervisorOptions {
  launcher: ProcessLauncher;
  /** `<root>/work/<name>` [LC-48]. */
  workDir: string;
  /** The environment before the service's own setenv layers (process env, defaults, SVCUID, global setenv) [LC-71]. */
  env?: Record<string, string>;
  /** runWithDefault.posixShell, default `sh` [LC-67]. */
  shell?: string;
  resources?: ResourceController;
  resolveRunAs?: (
    component: string,
    runWith: Record<string, unknown> | undefined,
  ) => Promise<PosixIdentity | null>;
  /** HARD-dependency readiness, wired by the manager [LC-55]; default always ready. */
  dependenciesReady?: () => boolean;
  clock?: Clock;
  timers?: Timers;
  /** SIGTERM -> SIGKILL grace, default 5000 ms [LC-82]. */
  killGraceMs?: number;
  backoff?: BackoffPolicy;
  skipIfProbe?: SkipIfProbe;
  skipIfPaths?: SkipIfPaths;
}

export interface StateChangeEvent {
  component: string;
  oldState: LifecycleState;
  newState: LifecycleState;
  statusCode: StatusCode;
  statusReason: string;
  generation: number;
}

export interface SupervisorStatus extends Readonly<LifecycleRecord> {
  /** The loop has nothing to do until a request or an event. */
  idle: boolean;
}
