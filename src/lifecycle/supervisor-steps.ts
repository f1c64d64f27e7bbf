// The edge that turns a parsed lifecycle step into a process: skipif, environment layering, user,
// launch, and the foreground timeout (spec/lifecycle.md sections 7, 11, 12).

import {
  DEFAULT_STEP_TIMEOUT_SEC,
  layerEnv,
  type LifecycleStep,
  type ParsedStep,
  type StepProblem,
} from './steps.js';
import { fileSystemProbe, shouldSkip, type SkipIfPaths, type SkipIfProbe } from './steps-skipif.js';
import { exitCodeReason, stepStatusCode, type StatusCode } from './policy.js';
import type { PosixIdentity, ProcessLauncher, StepExit, StepName, StepProcess } from './types.js';

/** Injected clock and timers, so that time-dependent decisions stay testable. */
export interface Clock {
  now(): number;
}
export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}
export const systemClock: Clock = { now: () => Date.now() };
export const systemTimers: Timers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

export interface StepRunnerOptions {
  component: string;
  launcher: ProcessLauncher;
  cwd: string;
  shell: string;
  timers: Timers;
  killGraceMs: number;
  skipIfProbe: SkipIfProbe;
  skipIfPaths: SkipIfPaths;
  /** Resolves the component user [LC-65]; null runs as the nucleus user. */
  resolveRunAs: () => Promise<PosixIdentity | null>;
  /** Whether the started processes belong in the component's cgroups. */
  useCgroup: boolean;
}

export type Prepared =
  | { kind: 'absent' }
  | { kind: 'skipped' }
  | { kind: 'invalid'; problem: StepProblem }
  | { kind: 'noRunWith'; message: string }
  | { kind: 'ready'; step: LifecycleStep; env: Record<string, string>; runAs: PosixIdentity | null };

export type ForegroundOutcome =
  | Exclude<Prepared, { kind: 'ready' }>
  | { kind: 'ioError'; message: string }
  | { kind: 'exited'; exit: StepExit }
  | { kind: 'timeout' };

export class StepRunner {
  /** Every process started and not yet ended. */
  readonly live = new Set<StepProcess>();

  constructor(private readonly o: StepRunnerOptions) {}

  async prepare(
    parsed: ParsedStep | undefined,
    envLayers: ReadonlyArray<Record<string, string> | undefined>,
  ): Promise<Prepared> {
    if (!parsed) return { kind: 'absent' };
    if (!parsed.ok) return { kind: 'invalid', problem: parsed.problem };
    const step = parsed.step;
    const env = layerEnv(...envLayers, step.setenv);
    if (step.skipif && shouldSkip(step.skipif, this.o.skipIfProbe, env.PATH ?? '', this.o.skipIfPaths))
      return { kind: 'skipped' };
    let runAs: PosixIdentity | null = null;
    if (!step.requiresPrivilege) {
      try {
        runAs = await this.o.resolveRunAs();
      } catch (e) {
        return { kind: 'noRunWith', message: (e as Error).message };
      }
    }
    return { kind: 'ready', step, env, runAs };
  }

  async launch(name: StepName, p: Extract<Prepared, { kind: 'ready' }>): Promise<StepProcess> {
    const proc = await this.o.launcher.launch({
      component: this.o.component,
      step: name,
      script: p.step.script,
      shell: this.o.shell,
      cwd: this.o.cwd,
      env: p.env,
      runAs: p.runAs,
      useCgroup: this.o.useCgroup && (name === 'startup' || name === 'run'),
    });
    this.live.add(proc);
    void proc.exit.then(() => this.live.delete(proc));
    return proc;
  }

  /** Runs a step to its end or its timeout; a timed-out process is stopped (SIGTERM, then SIGKILL). */
  async runForeground(
    name: StepName,
    parsed: ParsedStep | undefined,
    envLayers: ReadonlyArray<Record<string, string> | undefined>,
  ): Promise<ForegroundOutcome> {
    const p = await this.prepare(parsed, envLayers);
    if (p.kind !== 'ready') return p;
    let proc: StepProcess;
    try {
      proc = await this.launch(name, p);
    } catch (e) {
      return { kind: 'ioError', message: (e as Error).message };
    }
    const timeoutSec = p.step.timeoutSec ?? DEFAULT_STEP_TIMEOUT_SEC[name];
    let handle: unknown;
    const timedOut = new Promise<'timeout'>((resolve) => {
      if (timeoutSec !== undefined)
        handle = this.o.timers.setTimeout(() => resolve('timeout'), timeoutSec * 1000);
    });
    const result = await Promise.race([proc.exit, timedOut]);
    if (handle !== undefined) this.o.timers.clearTimeout(handle);
    if (result === 'timeout') {
      await proc.stop(this.o.killGraceMs);
      return { kind: 'timeout' };
    }
    return { kind: 'exited', exit: result };
  }

  /** Stops every live process of the component, in parallel. */
  async stopAll(graceMs = this.o.killGraceMs): Promise<void> {
    await Promise.all([...this.live].map((p) => p.stop(graceMs)));
  }
}

export { fileSystemProbe };

/** The status a finished foreground step leaves, or null when it succeeded or did not run [LC-50..LC-52]. */
export function stepFailure(
  step: StepName,
  out: ForegroundOutcome,
): { code: StatusCode; reason: string } | null {
  switch (out.kind) {
    case 'absent':
    case 'skipped':
      return null;
    case 'exited':
      return out.exit.code === 0
        ? null
        : {
            code: stepStatusCode(step, 'ERROR'),
            reason: exitCodeReason(step, out.exit.code, out.exit.signal),
          };
    case 'timeout':
      return { code: stepStatusCode(step, 'TIMEOUT'), reason: `The ${step} script timed out.` };
    case 'invalid':
      return {
        code: stepStatusCode(step, 'CONFIG_NOT_VALID'),
        reason: `${out.problem.field}: ${out.problem.reason}`,
      };
    case 'noRunWith':
      return { code: stepStatusCode(step, 'MISSING_DEFAULT_RUNWITH'), reason: out.message };
    case 'ioError':
      return { code: stepStatusCode(step, 'IO_ERROR'), reason: out.message };
  }
}

/** Timers a supervisor arms (step timeouts) and sleeps it takes (restart backoff); cancelAll ends them all. */
export class TimerSet {
  private readonly armed = new Set<unknown>();
  private readonly sleepers = new Set<() => void>();

  constructor(private readonly timers: Timers) {}

  arm(ms: number, fn: () => void): void {
    const handle = this.timers.setTimeout(() => {
      this.armed.delete(handle);
      fn();
    }, ms);
    this.armed.add(handle);
  }

  /** Resolves after `ms`, or at once when cancelAll is called. */
  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        this.sleepers.delete(done);
        this.timers.clearTimeout(handle);
        resolve();
      };
      const handle = this.timers.setTimeout(done, ms);
      this.sleepers.add(done);
    });
  }

  cancelAll(): void {
    for (const s of [...this.sleepers]) s();
    for (const h of this.armed) this.timers.clearTimeout(h);
    this.armed.clear();
  }
}
