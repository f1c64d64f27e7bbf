// Contracts between the lifecycle state machine (pure planning, per-component supervisors) and the
// adapters that touch the system (processes, cgroups, users, logs). spec/lifecycle.md.

export type LifecycleState =
  | 'NEW'
  | 'INSTALLED'
  | 'STARTING'
  | 'RUNNING'
  | 'STOPPING'
  | 'ERRORED'
  | 'BROKEN'
  | 'FINISHED'
  | 'UNINSTALLING'
  | 'UNINSTALLED';

export type StepName = 'bootstrap' | 'install' | 'startup' | 'run' | 'shutdown' | 'recover' | 'uninstall';

/** A resolved POSIX identity [LC-65, LC-66]. */
export interface PosixIdentity {
  user: string;
  uid: number;
  gid: number;
}

/** One lifecycle step to execute as a child process [LC-48, LC-67, LC-71]. */
export interface StepLaunch {
  component: string;
  step: StepName;
  script: string;
  /** runWithDefault.posixShell, default `sh` [LC-67]. */
  shell: string;
  /** `<root>/work/<component>` [LC-72]. */
  cwd: string;
  /** The complete environment of the process. */
  env: Record<string, string>;
  /** Whom to run as; null runs as the nucleus's own user (RequiresPrivilege [LC-46]). */
  runAs: PosixIdentity | null;
  /** Put the process tree into the component's cgroups (resource limits, freezer) [LC-78]. */
  useCgroup: boolean;
}

export interface StepExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface StepProcess {
  readonly pid: number;
  /** Resolves once the process has exited (never rejects). */
  readonly exit: Promise<StepExit>;
  /**
   * SIGTERM to the whole process tree (descendants that called setsid too), then SIGKILL after
   * `graceMs` to whatever survives [LC-82]. Resolves when nothing of the tree is left.
   */
  stop(graceMs?: number): Promise<void>;
}

export interface ProcessLauncher {
  launch(spec: StepLaunch): Promise<StepProcess>;
}

export interface ResourceLimits {
  /** KB [LC-75]. */
  memory?: number;
  /** fraction of one CPU; <= 0 ignored [LC-75]. */
  cpus?: number;
}

/** cgroup v1 / v2 [LC-74..LC-80]. */
export interface ResourceController {
  readonly version: 1 | 2 | 'none';
  apply(component: string, limits: ResourceLimits): Promise<void>;
  /**
   * Writes `pid` into the component's cgroups, and its descendants too unless `descendants` is false
   * (a freshly spawned process that has not run anything yet has none) [LC-78].
   */
  addProcess(component: string, pid: number, opts?: { descendants?: boolean }): Promise<void>;
  pause(component: string): Promise<void>;
  resume(component: string): Promise<void>;
  /** SIGKILL every process in the component's cgroups. */
  killAll(component: string): Promise<void>;
  remove(component: string): Promise<void>;
}
