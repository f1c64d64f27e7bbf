// The per-component lifecycle state machine, as pure functions over plain data (spec/lifecycle.md,
// sections 3-5). The supervisor executes the actions decided here; nothing in this file does I/O.

import type { LifecycleState } from './types.js';

export const ALL_STATES: readonly LifecycleState[] = [
  'NEW',
  'INSTALLED',
  'STARTING',
  'RUNNING',
  'STOPPING',
  'ERRORED',
  'BROKEN',
  'FINISHED',
  'UNINSTALLING',
  'UNINSTALLED',
];

/** [LC-06] */
export function isRunning(s: LifecycleState): boolean {
  return s === 'RUNNING';
}

/** [LC-06] */
export function isHappy(s: LifecycleState): boolean {
  return s !== 'ERRORED' && s !== 'BROKEN';
}

/** [LC-06] */
export function isFunctioningProperly(s: LifecycleState): boolean {
  return (
    s === 'RUNNING' || s === 'STOPPING' || s === 'FINISHED' || s === 'UNINSTALLING' || s === 'UNINSTALLED'
  );
}

/** [LC-07] */
export function isStartable(s: LifecycleState): boolean {
  return s === 'NEW' || s === 'INSTALLED' || s === 'ERRORED' || s === 'FINISHED';
}

/** [LC-07] */
export function isStoppable(s: LifecycleState): boolean {
  return s === 'NEW' || s === 'STARTING' || s === 'RUNNING';
}

/** [LC-07] */
export function isClosable(s: LifecycleState): boolean {
  return s === 'ERRORED' || s === 'BROKEN' || s === 'FINISHED' || s === 'NEW' || s === 'UNINSTALLED';
}

const REPORTABLE: Partial<Record<LifecycleState, readonly LifecycleState[]>> = {
  NEW: ['ERRORED'],
  STARTING: ['RUNNING', 'ERRORED', 'FINISHED'],
  RUNNING: ['ERRORED', 'FINISHED'],
  STOPPING: ['ERRORED', 'FINISHED'],
};

/** Whether a component (IPC UpdateState) may report `to` while in `from` [LC-09]. */
export function isReportableTransition(from: LifecycleState, to: LifecycleState): boolean {
  return REPORTABLE[from]?.includes(to) ?? false;
}

// ---- desired-state list [LC-11..LC-15] ----

export interface DesiredContext {
  state: LifecycleState;
  desired: readonly LifecycleState[];
  /** An uninstall was requested and not cancelled. */
  uninstallRequested: boolean;
}

export interface DesiredUpdate {
  desired: LifecycleState[];
  uninstallRequested: boolean;
}

/** [LC-11] */
export function desiredAfterStart(c: DesiredContext): DesiredUpdate {
  const d = [...c.desired];
  if (d.length === 0) d.push('RUNNING');
  else if (d[d.length - 1] === 'FINISHED') d[d.length - 1] = 'RUNNING';
  else if (d[d.length - 1] !== 'RUNNING') d.push('RUNNING');
  return { desired: d, uninstallRequested: c.uninstallRequested };
}

/** [LC-12] */
export function desiredAfterReinstall(_c: DesiredContext): DesiredUpdate {
  return { desired: ['NEW', 'RUNNING'], uninstallRequested: false };
}

/**
 * [LC-13]. Interpretation: an explicit restart of a BROKEN component is a reinstall, since the issue
 * requires that an explicit restart takes a component out of BROKEN, and BROKEN is only left through
 * NEW [LC-33]. Returns null when the request is ignored.
 */
export function desiredAfterRestart(c: DesiredContext): DesiredUpdate | null {
  if (c.state === 'BROKEN') return desiredAfterReinstall(c);
  if (c.desired.includes('NEW')) return null;
  if (c.state === 'NEW' && c.desired.length === 0) return null;
  if (c.state === 'UNINSTALLING' || c.state === 'UNINSTALLED') return null;
  return { desired: ['INSTALLED', 'RUNNING'], uninstallRequested: c.uninstallRequested };
}

/** [LC-14] */
export function desiredAfterStop(c: DesiredContext): DesiredUpdate {
  return {
    desired: c.uninstallRequested ? ['FINISHED', 'UNINSTALLED'] : ['FINISHED'],
    uninstallRequested: c.uninstallRequested,
  };
}

/** [LC-15] */
export function desiredAfterUninstall(c: DesiredContext): DesiredUpdate {
  return {
    desired: c.state === 'BROKEN' ? ['UNINSTALLED'] : ['FINISHED', 'UNINSTALLED'],
    uninstallRequested: true,
  };
}

/**
 * A component that finished by itself (nothing to start, or it reported FINISHED) has satisfied a
 * pending RUNNING: drop it, so that FINISHED does not loop back to INSTALLED (interpretation).
 */
export function desiredAfterCompletion(desired: readonly LifecycleState[]): LifecycleState[] {
  return desired[0] === 'RUNNING' ? desired.slice(1) : [...desired];
}

/** Drops the leading desired states already reached [LC-16]. */
export function popReachedDesired(
  state: LifecycleState,
  desired: readonly LifecycleState[],
): LifecycleState[] {
  let i = 0;
  while (i < desired.length && desired[i] === state) i++;
  return desired.slice(i);
}

/** Where a terminated service goes for a desired state [LC-22]. */
export function terminatedTarget(desired: LifecycleState): LifecycleState {
  switch (desired) {
    case 'NEW':
      return 'NEW';
    case 'INSTALLED':
    case 'RUNNING':
    case 'STARTING':
      return 'INSTALLED';
    case 'UNINSTALLING':
    case 'UNINSTALLED':
      return 'UNINSTALLING';
    default:
      return 'FINISHED';
  }
}

// ---- the per-state loop decision [LC-16..LC-26] ----

/** What the loop sees when it decides. */
export interface LoopView {
  state: LifecycleState;
  /** The state before the current one. */
  previous: LifecycleState;
  /** Desired states, with reached ones already popped. */
  desired: readonly LifecycleState[];
  /** The entry action of the current state (install, startup, shutdown, recover, ...) has completed. */
  entryDone: boolean;
}

/** One thing for the supervisor to do; a discriminated union. */
export type LoopAction =
  /** Nothing to do: wait for a request, a process exit, a timer or a dependency change. */
  | { kind: 'idle' }
  /** Forget the desired states (a stop request for a never-installed service). */
  | { kind: 'clearDesired' }
  /** Transition now; `requestStart` first appends RUNNING to the desired list [LC-23]. */
  | { kind: 'goto'; state: LifecycleState; requestStart?: boolean; reason?: string }
  /** Run the install step; success -> INSTALLED, failure -> ERRORED [LC-17]. */
  | { kind: 'install' }
  /** Start once every HARD dependency is ready [LC-18, LC-55]. */
  | { kind: 'awaitDependencies' }
  /** Launch startup or run, arm the startup timer [LC-19, LC-37, LC-38, LC-43]. */
  | { kind: 'startup' }
  /** Run the cached shutdown step, then stop every process of the component [LC-21, LC-83]. */
  | { kind: 'shutdown' }
  /** Run the recover step [LC-23, LC-40]. */
  | { kind: 'recover' }
  /** Shutdown and kill on entering BROKEN [LC-24]. */
  | { kind: 'brokenCleanup' }
  /** Run the uninstall step [LC-25]. */
  | { kind: 'uninstall' };

/** The state after ERRORED, by the state that errored [LC-23]. */
export function afterErrored(previous: LifecycleState, desired: readonly LifecycleState[]): LifecycleState {
  switch (previous) {
    case 'STARTING':
    case 'RUNNING':
      return 'STOPPING';
    case 'NEW':
      return 'NEW';
    case 'STOPPING':
      return desired.length > 0 ? terminatedTarget(desired[0]) : 'FINISHED';
    case 'UNINSTALLING':
    case 'UNINSTALLED':
      return 'UNINSTALLED';
    default:
      return 'FINISHED';
  }
}

/** The pure per-state decision of the lifecycle loop [LC-16..LC-26]. */
export function decideLoopAction(v: LoopView): LoopAction {
  const next = v.desired[0];
  switch (v.state) {
    case 'NEW':
      if (next === undefined) return { kind: 'idle' };
      if (v.desired.includes('UNINSTALLED')) return { kind: 'goto', state: 'UNINSTALLING' };
      if (next === 'FINISHED') return { kind: 'clearDesired' };
      if (next === 'UNINSTALLED' || next === 'UNINSTALLING') return { kind: 'goto', state: 'UNINSTALLING' };
      return { kind: 'install' };
    case 'INSTALLED':
      if (next === undefined) return { kind: 'idle' };
      if (next !== 'RUNNING') return { kind: 'goto', state: terminatedTarget(next) };
      return { kind: 'awaitDependencies' };
    case 'STARTING':
      if (next !== undefined && next !== 'RUNNING') return { kind: 'goto', state: 'STOPPING' };
      return v.entryDone ? { kind: 'idle' } : { kind: 'startup' };
    case 'RUNNING':
      return next === undefined ? { kind: 'idle' } : { kind: 'goto', state: 'STOPPING' };
    case 'STOPPING':
      if (!v.entryDone) return { kind: 'shutdown' };
      return { kind: 'goto', state: next === undefined ? 'FINISHED' : terminatedTarget(next) };
    case 'FINISHED':
      return next === undefined ? { kind: 'idle' } : { kind: 'goto', state: terminatedTarget(next) };
    case 'ERRORED':
      if (!v.entryDone) return { kind: 'recover' };
      return {
        kind: 'goto',
        state: afterErrored(v.previous, v.desired.length === 0 ? ['RUNNING'] : v.desired),
        requestStart: v.desired.length === 0,
      };
    case 'BROKEN':
      if (!v.entryDone && (v.previous === 'STARTING' || v.previous === 'RUNNING' || v.previous === 'ERRORED'))
        return { kind: 'brokenCleanup' };
      if (v.desired.includes('UNINSTALLED')) return { kind: 'goto', state: 'UNINSTALLING' };
      if (next === 'NEW') return { kind: 'goto', state: 'NEW' };
      return { kind: 'idle' };
    case 'UNINSTALLING':
      return v.entryDone ? { kind: 'goto', state: 'UNINSTALLED' } : { kind: 'uninstall' };
    case 'UNINSTALLED':
      return next === 'NEW' ? { kind: 'goto', state: 'NEW' } : { kind: 'idle' };
  }
}
