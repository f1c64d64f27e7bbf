// The bootstrap step [LC-35] of a service definition, run once by a deployment (never by the
// supervisor's loop): in the component's work directory, as its user unless it requires privilege
// [LC-46], with the same environment layers as the other steps [LC-71], bounded by its timeout
// (default 120 s). The deployment decides what the exit code means (spec/config.md CF-95..CF-96).
import type { ServiceDefinition } from './config-change.js';
import { parseLifecycle } from './steps.js';
import { fileSystemProbe, StepRunner, systemTimers, type ForegroundOutcome } from './supervisor-steps.js';
import type { PosixIdentity, ProcessLauncher } from './types.js';
import type { SkipIfPaths } from './steps-skipif.js';

export interface BootstrapStepOptions {
  component: string;
  definition: ServiceDefinition;
  launcher: ProcessLauncher;
  /** `<root>/work/<name>` [LC-48]. */
  workDir: string;
  /** The environment before the service's own setenv layers [LC-71]. */
  env: Record<string, string>;
  /** runWithDefault.posixShell [LC-67]. */
  shell?: string;
  /** The component user [LC-65]; null runs as the nucleus user. */
  resolveRunAs: () => Promise<PosixIdentity | null>;
  /** SIGTERM -> SIGKILL grace when the step times out or is aborted (default 5000 ms). */
  killGraceMs?: number;
  skipIfPaths?: SkipIfPaths;
  /** Aborting stops the step's processes; the outcome is then `aborted`. */
  signal?: AbortSignal;
}

export type BootstrapStepOutcome =
  /** The service has no bootstrap step, or its skipif said skip. */
  | { kind: 'none' }
  | { kind: 'exited'; code: number | null; signal: NodeJS.Signals | null }
  | { kind: 'timeout'; seconds: number }
  /** The step could not run: invalid definition, no user, spawn failure. */
  | { kind: 'failed'; reason: string }
  | { kind: 'aborted' };

/** Runs the definition's bootstrap step to its end, its timeout or the abort. */
export async function runBootstrapStep(o: BootstrapStepOptions): Promise<BootstrapStepOutcome> {
  const lifecycle = parseLifecycle(o.definition.lifecycle, `services.${o.component}.lifecycle`);
  const parsed = lifecycle.steps.bootstrap;
  if (!parsed) return { kind: 'none' };
  if (o.signal?.aborted) return { kind: 'aborted' };
  const grace = o.killGraceMs ?? 5000;
  const runner = new StepRunner({
    component: o.component,
    launcher: o.launcher,
    cwd: o.workDir,
    shell: o.shell ?? 'sh',
    timers: systemTimers,
    killGraceMs: grace,
    skipIfProbe: fileSystemProbe,
    skipIfPaths: o.skipIfPaths ?? {},
    resolveRunAs: o.resolveRunAs,
    useCgroup: false,
  });
  const setenv: Record<string, string> = {};
  for (const [k, v] of Object.entries(o.definition.setenv ?? {})) setenv[k] = v === null ? '' : String(v);
  const onAbort = () => void runner.stopAll(grace).catch(() => undefined);
  o.signal?.addEventListener('abort', onAbort, { once: true });
  let out: ForegroundOutcome;
  try {
    out = await runner.runForeground('bootstrap', parsed, [o.env, setenv, lifecycle.setenv]);
  } finally {
    o.signal?.removeEventListener('abort', onAbort);
  }
  if (o.signal?.aborted) return { kind: 'aborted' };
  switch (out.kind) {
    case 'absent':
    case 'skipped':
      return { kind: 'none' };
    case 'exited':
      return { kind: 'exited', code: out.exit.code, signal: out.exit.signal };
    case 'timeout':
      return { kind: 'timeout', seconds: parsed.ok ? (parsed.step.timeoutSec ?? 120) : 120 };
    case 'invalid':
      return { kind: 'failed', reason: `${out.problem.field}: ${out.problem.reason}` };
    case 'noRunWith':
    case 'ioError':
      return { kind: 'failed', reason: out.message };
  }
}
