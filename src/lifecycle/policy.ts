// The restart policy as pure functions: the ERRORED -> BROKEN rule (spec/lifecycle.md section 6),
// restart backoff, and status codes (section 8). Timestamps are milliseconds from an injected clock.

import type { LifecycleState, StepName } from './types.js';

/** [LC-50] */
export const STATUS_CODES = [
  'NONE',
  'INSTALL_ERROR',
  'INSTALL_CONFIG_NOT_VALID',
  'INSTALL_IO_ERROR',
  'INSTALL_MISSING_DEFAULT_RUNWITH',
  'INSTALL_TIMEOUT',
  'STARTUP_ERROR',
  'STARTUP_CONFIG_NOT_VALID',
  'STARTUP_IO_ERROR',
  'STARTUP_MISSING_DEFAULT_RUNWITH',
  'STARTUP_TIMEOUT',
  'RUN_ERROR',
  'RUN_MISSING_DEFAULT_RUNWITH',
  'RUN_CONFIG_NOT_VALID',
  'RUN_IO_ERROR',
  'RUN_TIMEOUT',
  'SHUTDOWN_ERROR',
  'SHUTDOWN_TIMEOUT',
  'UNINSTALL_TIMEOUT',
  'UNINSTALL_ERROR',
] as const;

export type StatusCode = (typeof STATUS_CODES)[number];

/** Errors before BROKEN [LC-31]. */
export const MAXIMUM_CONTINUAL_ERRORS = 3;
/** Default `lifecycle.errorResetTime`, seconds [LC-42]. */
export const DEFAULT_ERROR_RESET_TIME_SEC = 3600;

/** Default ERRORED code from the state that errored [LC-52]. */
export function defaultErrorCode(from: LifecycleState): StatusCode {
  switch (from) {
    case 'NEW':
    case 'INSTALLED':
      return 'INSTALL_ERROR';
    case 'STARTING':
      return 'STARTUP_ERROR';
    case 'RUNNING':
      return 'RUN_ERROR';
    case 'STOPPING':
      return 'SHUTDOWN_ERROR';
    default:
      return 'NONE';
  }
}

/** The code for a step failure of a given kind [LC-36..LC-41, LC-44, LC-50]. */
export function stepStatusCode(
  step: StepName,
  kind: 'ERROR' | 'TIMEOUT' | 'CONFIG_NOT_VALID' | 'IO_ERROR' | 'MISSING_DEFAULT_RUNWITH',
): StatusCode {
  const prefix = step === 'bootstrap' ? 'INSTALL' : step.toUpperCase();
  const code = `${prefix}_${kind}`;
  return (STATUS_CODES as readonly string[]).includes(code) ? (code as StatusCode) : defaultForStep(step);
}

function defaultForStep(step: StepName): StatusCode {
  switch (step) {
    case 'startup':
      return 'STARTUP_ERROR';
    case 'run':
      return 'RUN_ERROR';
    case 'shutdown':
    case 'recover':
      return 'SHUTDOWN_ERROR';
    case 'uninstall':
      return 'UNINSTALL_ERROR';
    default:
      return 'INSTALL_ERROR';
  }
}

/** "The <step> script exited with code N." [LC-51] */
export function exitCodeReason(step: StepName, code: number | null, signal: string | null): string {
  if (code === null) return `The ${step} script was terminated by signal ${signal ?? 'unknown'}.`;
  return `The ${step} script exited with code ${code}.`;
}

/** Error timestamps per state; only NEW, STARTING and RUNNING are counted [LC-28]. */
export type ErrorHistory = Partial<Record<LifecycleState, readonly number[]>>;

const COUNTED: readonly LifecycleState[] = ['NEW', 'STARTING', 'RUNNING'];

export interface ErrorVerdict {
  /** ERRORED, or BROKEN when this is the third error in the window [LC-31]. */
  state: 'ERRORED' | 'BROKEN';
  errors: ErrorHistory;
}

/** Records an ERRORED report made while in `from` [LC-29, LC-31]. */
export function recordError(
  errors: ErrorHistory,
  from: LifecycleState,
  now: number,
  errorResetMs: number,
): ErrorVerdict {
  if (!COUNTED.includes(from)) return { state: 'ERRORED', errors };
  const previous = errors[from] ?? [];
  const last = previous[previous.length - 1];
  const kept = last !== undefined && now - last >= errorResetMs ? [] : previous;
  const list = [...kept, now];
  return {
    state: list.length >= MAXIMUM_CONTINUAL_ERRORS ? 'BROKEN' : 'ERRORED',
    errors: { ...errors, [from]: list },
  };
}

/** A non-ERRORED report made while in `from` clears that state's errors [LC-30]. */
export function clearErrorsOf(errors: ErrorHistory, from: LifecycleState): ErrorHistory {
  if (!errors[from]) return errors;
  const copy = { ...errors };
  delete copy[from];
  return copy;
}

export interface BackoffPolicy {
  /** Delay after the first error in the window, ms. */
  baseMs: number;
  /** Cap, ms. */
  maxMs: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { baseMs: 1000, maxMs: 30_000 };

/**
 * Delay before retrying after an error: doubles with each error still inside the reset window,
 * capped. No recent error, no delay.
 */
export function restartBackoffMs(
  errorTimestamps: readonly number[],
  now: number,
  errorResetMs: number,
  policy: BackoffPolicy = DEFAULT_BACKOFF,
): number {
  const recent = errorTimestamps.filter((t) => now - t < errorResetMs).length;
  if (recent === 0 || policy.baseMs <= 0) return 0;
  return Math.min(policy.maxMs, policy.baseMs * 2 ** (recent - 1));
}
