// One supervisor per component: an async loop that executes the decisions of the pure state machine
// (spec/lifecycle.md LC-02, LC-16..LC-27), launching steps through the injected ProcessLauncher.

import { classifyConfigChange, type ConfigChangeReaction, type ServiceDefinition } from './config-change.js';
import {
  DEFAULT_BACKOFF,
  DEFAULT_ERROR_RESET_TIME_SEC,
  exitCodeReason,
  restartBackoffMs,
  stepStatusCode,
  type StatusCode,
} from './policy.js';
import { applyTransition, initialRecord, type LifecycleRecord } from './state-machine-record.js';
import {
  decideLoopAction,
  desiredAfterCompletion,
  desiredAfterReinstall,
  desiredAfterRestart,
  desiredAfterStart,
  desiredAfterStop,
  desiredAfterUninstall,
  isReportableTransition,
  popReachedDesired,
  type DesiredUpdate,
  type LoopAction,
} from './state-machine.js';
import { parseLifecycle, type LifecycleConfig, type ParsedStep } from './steps.js';
import {
  fileSystemProbe,
  stepFailure,
  StepRunner,
  TimerSet,
  systemClock,
  systemTimers,
  type Clock,
  type ForegroundOutcome,
  type Prepared,
  type Timers,
} from './supervisor-steps.js';
import type { LifecycleState, StepName, StepProcess } from './types.js';

import type { StateChangeEvent, SupervisorOptions, SupervisorStatus } from './supervisor-types.js';
import { LoopWake } from './supervisor-wake.js';

export type { SupervisorOptions, StateChangeEvent, SupervisorStatus } from './supervisor-types.js';

interface Background {
  step: 'startup' | 'run';
  proc: StepProcess;
  closed: boolean;
}

function processEnv(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined) out[k] = v;
  return out;
}

export class ComponentSupervisor {
  private rec: LifecycleRecord = initialRecord();
  private def: ServiceDefinition;
  private lifecycle: LifecycleConfig;
  /** The shutdown step as it was when the component started [LC-39]. */
  private cachedShutdown: ParsedStep | undefined | null = null;
  private entryDoneGeneration = -1;
  private background: Background[] = [];
  private readonly runner: StepRunner;
  private readonly clock: Clock;
  private readonly timers: Timers;
  /** Step timeouts and backoff sleeps, all cancelled by close(). */
  private readonly pending: TimerSet;
  private readonly listeners = new Set<(e: StateChangeEvent) => void>();
  private readonly wakeup = new LoopWake();
  private loopStarted = false;
  private closed = false;
  private loopDone: Promise<void> = Promise.resolve();

  constructor(
    readonly name: string,
    definition: ServiceDefinition,
    private readonly o: SupervisorOptions,
  ) {
    this.def = definition;
    this.lifecycle = parseLifecycle(definition.lifecycle, `services.${name}.lifecycle`);
    this.clock = o.clock ?? systemClock;
    this.timers = o.timers ?? systemTimers;
    this.pending = new TimerSet(this.timers);
    this.runner = new StepRunner({
      component: name,
      launcher: o.launcher,
      cwd: o.workDir,
      shell: o.shell ?? 'sh',
      timers: this.timers,
      killGraceMs: o.killGraceMs ?? 5000,
      skipIfProbe: o.skipIfProbe ?? fileSystemProbe,
      skipIfPaths: o.skipIfPaths ?? {},
      resolveRunAs: () => (o.resolveRunAs ? o.resolveRunAs(name, this.def.runWith) : Promise.resolve(null)),
      useCgroup: o.resources !== undefined && o.resources.version !== 'none',
    });
  }

  get state(): LifecycleState {
    return this.rec.state;
  }

  get definition(): ServiceDefinition {
    return this.def;
  }

  status(): SupervisorStatus {
    return { ...this.rec, desired: [...this.rec.desired], idle: this.wakeup.idle };
  }

  /** Subscribes to state changes; returns the unsubscribe function. */
  onStateChange(listener: (e: StateChangeEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Starts the loop (idempotent); nothing happens until a request. */
  startLoop(): void {
    if (this.loopStarted || this.closed) return;
    this.loopStarted = true;
    this.loopDone = this.loop();
  }

  requestStart(): void {
    this.updateDesired(desiredAfterStart(this.desiredContext()));
  }
  requestStop(): void {
    this.updateDesired(desiredAfterStop(this.desiredContext()));
  }
  requestRestart(): void {
    const u = desiredAfterRestart(this.desiredContext());
    if (u) this.updateDesired(u);
  }
  requestReinstall(): void {
    this.updateDesired(desiredAfterReinstall(this.desiredContext()));
  }
  requestUninstall(): void {
    this.updateDesired(desiredAfterUninstall(this.desiredContext()));
  }

  /** A state reported by the component itself (IPC UpdateState); false when not allowed [LC-09]. */
  reportState(to: LifecycleState, code?: StatusCode, reason?: string): boolean {
    if (this.closed || !isReportableTransition(this.rec.state, to)) return false;
    this.transition(to, code, reason);
    return true;
  }

  /** Wakes the loop to re-check (a dependency changed state). */
  poke(): void {
    this.wakeup.wake();
  }

  /** Replaces the definition and reacts as the classification says [LC-60..LC-64]. */
  changeDefinition(next: ServiceDefinition): ConfigChangeReaction {
    const reaction = classifyConfigChange(this.def, next);
    this.def = next;
    this.lifecycle = parseLifecycle(next.lifecycle, `services.${this.name}.lifecycle`);
    if (reaction === 'reinstall') this.requestReinstall();
    else if (reaction === 'restart') this.requestRestart();
    else if (reaction === 'relimit') void this.applyLimits().catch(() => undefined);
    return reaction;
  }

  /** Applies runWith.systemResourceLimits to the component's cgroups [LC-63, LC-75]. */
  async applyLimits(): Promise<void> {
    const limits = this.def.runWith?.systemResourceLimits;
    if (!this.o.resources || typeof limits !== 'object' || limits === null) return;
    await this.o.resources.apply(this.name, limits as { memory?: number; cpus?: number });
  }

  /** [LC-80] */
  async pause(): Promise<void> {
    await this.o.resources?.pause(this.name);
  }
  async resume(): Promise<void> {
    await this.o.resources?.resume(this.name);
  }

  /** Resolves once `pred` holds for the status (checked on every change and when the loop goes idle). */
  waitFor(pred: (s: SupervisorStatus) => boolean): Promise<SupervisorStatus> {
    return this.wakeup.waitFor(() => this.status(), pred);
  }

  /** Stopped for good or for now: settled in a closable state [LC-07, LC-59]. */
  static isSettledStopped(s: SupervisorStatus): boolean {
    return s.idle && ['FINISHED', 'BROKEN', 'NEW', 'UNINSTALLED'].includes(s.state);
  }

  /** requestStop and wait until settled. */
  async stop(): Promise<void> {
    this.requestStop();
    await this.waitFor(ComponentSupervisor.isSettledStopped);
  }

  /** Ends the loop and kills every process of the component without running shutdown. */
  async close(graceMs = 0): Promise<void> {
    this.closed = true;
    for (const b of this.background) b.closed = true;
    this.pending.cancelAll();
    this.wakeup.wake();
    // close is the last resort: a tree that would not die is killed through the cgroup, and a
    // failure to observe it never rejects the caller's shutdown
    await this.runner.stopAll(graceMs).catch(() => undefined);
    await this.loopDone;
    await this.runner.stopAll(graceMs).catch(() => undefined);
    await this.o.resources?.killAll(this.name).catch(() => undefined);
  }

  // ---- the loop ----

  private async loop(): Promise<void> {
    while (!this.closed) {
      this.wakeup.beginRound();
      this.rec.desired = popReachedDesired(this.rec.state, this.rec.desired);
      const gen = this.rec.generation;
      const action = decideLoopAction({
        state: this.rec.state,
        previous: this.rec.previous,
        desired: this.rec.desired,
        entryDone: this.entryDoneGeneration === gen,
      });
      if (action.kind === 'idle') {
        await this.wakeup.sleep(this.closed);
        continue;
      }
      try {
        await this.execute(action, gen);
      } catch (e) {
        if (this.rec.generation === gen && !this.closed) this.transition('ERRORED', undefined, String(e));
      }
    }
  }

  private async execute(action: Exclude<LoopAction, { kind: 'idle' }>, gen: number): Promise<void> {
    switch (action.kind) {
      case 'clearDesired':
        this.rec.desired = [];
        return;
      case 'goto':
        if (action.requestStart) this.rec.desired = desiredAfterStart(this.desiredContext()).desired;
        this.transition(action.state);
        return;
      case 'install':
        return this.install(gen);
      case 'awaitDependencies':
        if (this.dependenciesReady()) this.transition('STARTING');
        else await this.wakeup.sleep(this.closed);
        return;
      case 'startup':
        await this.startup(gen);
        return this.markEntryDone(gen);
      case 'shutdown': {
        const timedOut = await this.shutdown();
        if (this.rec.generation !== gen) return;
        if (timedOut) this.transition('ERRORED', 'SHUTDOWN_TIMEOUT', 'The shutdown script timed out.');
        else this.markEntryDone(gen);
        return;
      }
      case 'recover':
        await this.recover();
        return this.markEntryDone(gen);
      case 'brokenCleanup':
        await this.shutdown();
        return this.markEntryDone(gen);
      case 'uninstall':
        await this.runner.runForeground('uninstall', this.lifecycle.steps.uninstall, [
          ...this.envLayers(),
          { GREENGRASS_COMPONENT_VERSION: this.def.version ?? '' },
        ]);
        return this.markEntryDone(gen);
    }
  }

  private markEntryDone(gen: number): void {
    if (this.rec.generation === gen) this.entryDoneGeneration = gen;
  }

  private async install(gen: number): Promise<void> {
    const out = await this.runner.runForeground('install', this.lifecycle.steps.install, this.envLayers());
    if (this.rec.generation !== gen || this.closed) return;
    const failure = stepFailure('install', out);
    if (failure) this.transition('ERRORED', failure.code, failure.reason);
    else this.transition('INSTALLED');
  }

  /** LC-19, LC-37, LC-38, LC-43. */
  private async startup(gen: number): Promise<void> {
    if (!this.dependenciesReady()) return this.transition('INSTALLED');
    this.cachedShutdown = this.lifecycle.steps.shutdown;
    await this.applyLimits().catch(() => undefined);
    const layers = this.envLayers();
    const startup = await this.runner.prepare(this.lifecycle.steps.startup, layers);
    if (startup.kind === 'ready') {
      this.pending.arm((startup.step.timeoutSec ?? 120) * 1000, () => {
        if (this.rec.state === 'STARTING' && this.rec.generation === gen)
          this.transition('ERRORED', 'STARTUP_TIMEOUT', 'The startup script timed out.');
      });
      await this.launchBackground('startup', startup, gen);
      return;
    }
    if (startup.kind !== 'absent' && startup.kind !== 'skipped') return this.fail('startup', startup);
    const run = await this.runner.prepare(this.lifecycle.steps.run, layers);
    if (run.kind === 'ready') {
      const bg = await this.launchBackground('run', run, gen);
      if (!bg || this.rec.generation !== gen) return;
      this.transition('RUNNING');
      if (run.step.timeoutSec !== undefined) {
        this.pending.arm(run.step.timeoutSec * 1000, () => {
          if (bg.closed || !this.background.includes(bg)) return;
          bg.closed = true;
          void bg.proc.stop(this.o.killGraceMs ?? 5000);
          this.transition('ERRORED', 'RUN_TIMEOUT', 'The run script timed out.');
        });
      }
      return;
    }
    if (run.kind !== 'absent' && run.kind !== 'skipped') return this.fail('run', run);
    this.transition('FINISHED');
  }

  private async launchBackground(
    step: 'startup' | 'run',
    p: Extract<Prepared, { kind: 'ready' }>,
    gen: number,
  ): Promise<Background | null> {
    let proc: StepProcess;
    try {
      proc = await this.runner.launch(step, p);
    } catch (e) {
      if (this.rec.generation === gen)
        this.transition('ERRORED', stepStatusCode(step, 'IO_ERROR'), String(e));
      return null;
    }
    const bg: Background = { step, proc, closed: this.closed };
    this.background.push(bg);
    void proc.exit.then((exit) => {
      this.background = this.background.filter((b) => b !== bg);
      if (bg.closed || this.closed) return;
      const s = this.rec.state;
      if (s !== 'STARTING' && s !== 'RUNNING') return;
      if (exit.code === 0) {
        if (step === 'startup' && s === 'STARTING') this.transition('RUNNING');
        else if (step === 'run') this.requestStop();
        return;
      }
      this.transition('ERRORED', stepStatusCode(step, 'ERROR'), exitCodeReason(step, exit.code, exit.signal));
    });
    return bg;
  }

  /** Runs the cached shutdown step, then stops every process [LC-21, LC-39, LC-83]; true on timeout. */
  private async shutdown(): Promise<boolean> {
    const step = this.cachedShutdown !== null ? this.cachedShutdown : this.lifecycle.steps.shutdown;
    const out = await this.runner.runForeground('shutdown', step, this.envLayers());
    for (const b of this.background) b.closed = true;
    const grace = this.o.killGraceMs ?? 5000;
    await Promise.all(this.background.map((b) => b.proc.stop(grace)));
    await this.runner.stopAll(grace);
    if (this.o.resources) {
      await this.o.resources.killAll(this.name).catch(() => undefined);
      await this.o.resources.remove(this.name).catch(() => undefined);
    }
    this.cachedShutdown = null;
    return out.kind === 'timeout';
  }

  /** The recover step (exit code ignored), then the restart backoff [LC-23, LC-40]. */
  private async recover(): Promise<void> {
    await this.runner.runForeground('recover', this.lifecycle.steps.recover, this.envLayers());
    const errored = this.rec.previous;
    const delay = restartBackoffMs(
      this.rec.errors[errored] ?? [],
      this.clock.now(),
      this.errorResetMs(),
      this.o.backoff ?? DEFAULT_BACKOFF,
    );
    if (delay > 0) await this.pending.sleep(delay);
  }

  private fail(step: StepName, out: ForegroundOutcome): void {
    const f = stepFailure(step, out);
    if (f) this.transition('ERRORED', f.code, f.reason);
  }

  // ---- plumbing ----

  private transition(to: LifecycleState, code?: StatusCode, reason?: string): void {
    const old = this.rec.state;
    if (to === 'FINISHED' && (old === 'STARTING' || old === 'RUNNING'))
      this.rec.desired = desiredAfterCompletion(this.rec.desired);
    this.rec = applyTransition(this.rec, {
      to,
      code,
      reason,
      now: this.clock.now(),
      errorResetMs: this.errorResetMs(),
    });
    const e: StateChangeEvent = {
      component: this.name,
      oldState: old,
      newState: this.rec.state,
      statusCode: this.rec.statusCode,
      statusReason: this.rec.statusReason,
      generation: this.rec.generation,
    };
    for (const l of [...this.listeners]) {
      try {
        l(e);
      } catch {
        // a listener's failure is not the lifecycle's
      }
    }
    this.wakeup.wake();
  }

  private envLayers(): Array<Record<string, string> | undefined> {
    const setenv: Record<string, string> = {};
    for (const [k, v] of Object.entries(this.def.setenv ?? {})) setenv[k] = v === null ? '' : String(v);
    return [this.o.env ?? processEnv(), setenv, this.lifecycle.setenv];
  }

  private errorResetMs(): number {
    return (this.lifecycle.errorResetTimeSec ?? DEFAULT_ERROR_RESET_TIME_SEC) * 1000;
  }

  private dependenciesReady(): boolean {
    return this.o.dependenciesReady ? this.o.dependenciesReady() : true;
  }

  private desiredContext() {
    return {
      state: this.rec.state,
      desired: this.rec.desired,
      uninstallRequested: this.rec.uninstallRequested,
    };
  }

  private updateDesired(u: DesiredUpdate): void {
    if (this.closed) return;
    this.rec = { ...this.rec, desired: u.desired, uninstallRequested: u.uninstallRequested };
    this.wakeup.wake();
  }
}
