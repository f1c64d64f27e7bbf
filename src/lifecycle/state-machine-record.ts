// The recorded state of one component's lifecycle and the pure transition function that applies a
// state report to it: error counting and BROKEN [LC-28..LC-33], status codes [LC-50..LC-52] and the
// state generation that guards stale callbacks [LC-27].

import {
  clearErrorsOf,
  defaultErrorCode,
  recordError,
  type ErrorHistory,
  type StatusCode,
} from './policy.js';
import type { LifecycleState } from './types.js';

export interface LifecycleRecord {
  state: LifecycleState;
  previous: LifecycleState;
  /** Bumped on every transition [LC-27]. */
  generation: number;
  desired: LifecycleState[];
  uninstallRequested: boolean;
  errors: ErrorHistory;
  statusCode: StatusCode;
  statusReason: string;
  /** STOPPING entered because startup failed (dependency readiness, LC-55). */
  stoppingFromStartupError: boolean;
}

export function initialRecord(): LifecycleRecord {
  return {
    state: 'NEW',
    previous: 'NEW',
    generation: 0,
    desired: [],
    uninstallRequested: false,
    errors: {},
    statusCode: 'NONE',
    statusReason: '',
    stoppingFromStartupError: false,
  };
}

export interface TransitionInput {
  to: LifecycleState;
  code?: StatusCode;
  reason?: string;
  now: number;
  errorResetMs: number;
}

/** Applies one internal state report; an ERRORED report may become BROKEN [LC-31]. */
export function applyTransition(r: LifecycleRecord, t: TransitionInput): LifecycleRecord {
  let to = t.to;
  let errors = r.errors;
  let code: StatusCode = t.code ?? 'NONE';
  let reason = t.reason ?? '';
  if (to === 'ERRORED') {
    const verdict = recordError(errors, r.state, t.now, t.errorResetMs);
    to = verdict.state;
    errors = verdict.errors;
    if (!t.code) code = defaultErrorCode(r.state);
    if (!t.reason) reason = `Component errored in state ${r.state}.`;
  } else {
    errors = clearErrorsOf(errors, r.state);
  }
  if (r.state === 'BROKEN' && to === 'NEW') errors = {};
  if (to === 'BROKEN' && t.to === 'BROKEN' && !t.code) {
    code = r.statusCode;
    reason = r.statusReason;
  }
  return {
    ...r,
    state: to,
    previous: r.state,
    generation: r.generation + 1,
    errors,
    statusCode: code,
    statusReason: reason,
    stoppingFromStartupError: to === 'STOPPING' && r.state === 'ERRORED' && r.previous === 'STARTING',
  };
}
