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
