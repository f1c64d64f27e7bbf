// Runs lifecycle steps as `<shell> -c <script>` [LC-67], as the component's user through
// `setpriv --reuid --regid --init-groups` (DESIGN: no sudo) [LC-69], in its own process group,
// optionally inside the component's cgroups before the script starts [LC-78], with output captured
// line by line [LC-86] within a per-process output budget (output-pump.ts).

import { type ChildProcess, spawn } from 'node:child_process';
import { stat } from 'node:fs/promises';
import type { Writable } from 'node:stream';
import type { CgroupController } from '../cgroups/types.js';
import type { ProcessLauncher, StepExit, StepLaunch, StepProcess } from '../types.js';
import { UserDatabase } from '../users.js';
import { type OutputBudget, OutputPump, type OutputStats, outputBudget } from './output-pump.js';
import { ProcessTree } from './tree-kill.js';

/**
 * A launched step as what outlives its spawn sees it: without its environment, which is not needed
 * once the process started (a copy of it per running component otherwise).
 */
export type LaunchedStep = Omit<StepLaunch, 'env'>;

/** Takes each output line; with `batch`, runs of lines of one stream go to it instead. */
export type StepOutput = ((launch: LaunchedStep, stream: 'stdout' | 'stderr', line: string) => void) & {
  batch?: (launch: LaunchedStep, stream: 'stdout' | 'stderr', lines: string[]) => void;
};

export interface ShellLauncherOptions {
  /** receives every output line; default: dropped */
  output?: StepOutput;
  /** required for steps with useCgroup */
  cgroups?: CgroupController;
  /** default /usr/bin/setpriv */
  setpriv?: string;
  /** how fast one step process's output is read and delivered; default DEFAULT_OUTPUT_BUDGET */
  outputBudget?: Partial<OutputBudget>;
}

export const DEFAULT_GRACE_MS = 5000;

/** The argv that runs the step, with the user switch when needed. */
export function stepCommand(launch: StepLaunch, setpriv: string, initGroups: boolean): string[] {
  const shellCmd = [launch.shell, '-c', launch.script];
  if (!needsSwitch(launch)) return shellCmd;
  const id = launch.runAs as NonNullable<StepLaunch['runAs']>;
  return [
    setpriv,
    `--reuid=${id.uid}`,
    `--regid=${id.gid}`,
    initGroups ? '--init-groups' : '--clear-groups',
    '--',
    ...shellCmd,
  ];
}

function needsSwitch(launch: StepLaunch): boolean {
  if (launch.runAs === null) return false;
  return launch.runAs.uid !== process.getuid?.() || launch.runAs.gid !== process.getgid?.();
}

// Holds the process until it is in its cgroups: reads one line from fd 3, closes it, then execs.
const GATE = 'read -r _ <&3; exec 3<&-; exec "$@"';

class ShellStepProcess implements StepProcess {
  readonly exit: Promise<StepExit>;
  /** resolves once stdout and stderr are closed and every line was delivered */
  readonly outputDone: Promise<void>;
  private readonly tree: ProcessTree;
  private stopping: Promise<void> | null = null;

  constructor(
    private readonly child: ChildProcess,
    readonly pid: number,
    private readonly launch: LaunchedStep,
    private readonly cgroups: CgroupController | undefined,
    private readonly pump: OutputPump,
  ) {
    this.exit = new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) {
        resolve({ code: child.exitCode, signal: child.signalCode });
      } else child.once('exit', (code, signal) => resolve({ code, signal }));
    });
    const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
    this.outputDone = Promise.all([closed, pump.done]).then(() => undefined);
    this.tree = new ProcessTree(
      pid,
      launch.useCgroup && cgroups ? () => cgroups.pids(launch.component) : null,
    );
    void this.tree.track();
  }

  /** What was read and delivered of its output so far, and how often it was held back. */
  get outputStats(): Readonly<OutputStats> {
    return this.pump.stats;
  }

  stop(graceMs = DEFAULT_GRACE_MS): Promise<void> {
    this.stopping ??= (async () => {
      // a frozen process cannot act on SIGTERM (nor, on v1, die of SIGKILL)
      if (this.launch.useCgroup && this.cgroups && this.cgroups.version !== 'none') {
        await this.cgroups.resume(this.launch.component).catch(() => undefined);
      }
      await this.tree.terminate(
        graceMs,
        this.exit.then(() => undefined),
      );
    })();
    return this.stopping;
  }
}

export class ShellProcessLauncher implements ProcessLauncher {
  private readonly setpriv: string;
  private readonly budget: OutputBudget;

  constructor(private readonly options: ShellLauncherOptions = {}) {
    this.setpriv = options.setpriv ?? '/usr/bin/setpriv';
    this.budget = outputBudget(options.outputBudget);
  }

  async launch(spec: StepLaunch): Promise<ShellStepProcess> {
    const where = `${spec.component} ${spec.step}`;
    try {
      if (!(await stat(spec.cwd)).isDirectory()) throw new Error('not a directory');
    } catch (err) {
      throw new Error(
        `cwd: working directory ${spec.cwd} of ${where} is unusable: ${(err as Error).message}`,
      );
    }
    if (spec.shell.trim() === '') throw new Error(`shell: empty posixShell for ${where}`);
    const switching = needsSwitch(spec);
    if (switching && process.getuid?.() !== 0) {
      throw new Error(
        `runAs: cannot run ${where} as ${spec.runAs?.user} (uid ${spec.runAs?.uid}): the nucleus is not root (uid ${process.getuid?.()})`,
      );
    }
    const initGroups = switching
      ? (await UserDatabase.load()).userById(spec.runAs?.uid ?? -1) !== undefined
      : false;
    const argv = stepCommand(spec, this.setpriv, initGroups);
    const cgroups =
      spec.useCgroup && this.options.cgroups && this.options.cgroups.version !== 'none'
        ? this.options.cgroups
        : undefined;
    const [file, ...args] = cgroups ? ['/bin/sh', '-c', GATE, 'tendril-step', ...argv] : argv;

    const child = spawn(file, args, {
      cwd: spec.cwd,
      env: spec.env,
      detached: true,
      stdio: cgroups ? ['pipe', 'pipe', 'pipe', 'pipe'] : ['pipe', 'pipe', 'pipe'],
    });
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', (err) =>
        reject(new Error(`cannot start ${where} (${file}): ${err.message}`, { cause: err })),
      );
    });
    const pid = child.pid as number;
    const { env: _spawned, ...step } = spec;
    // stdin stays open and unwritten [LC-73]; a closed pipe must not raise an unhandled error
    child.stdin?.on('error', () => undefined);
    const pump = this.capture(child, step);

    if (cgroups) {
      const gate = child.stdio[3] as Writable;
      // the child may die before reading its go-ahead: EPIPE is not ours to crash on
      gate.on('error', () => undefined);
      try {
        // the gate has not run anything yet: only its own pid needs placing
        await cgroups.addProcess(spec.component, pid, { descendants: false });
      } catch (err) {
        try {
          process.kill(-pid, 'SIGKILL');
        } catch {
          // gone
        }
        throw new Error(`cannot put ${where} into its cgroups: ${(err as Error).message}`, { cause: err });
      }
      gate.end('go\n');
      // No re-add a second later, as the reference needs [LC-78]: the gate is placed before it
      // execs the step, so every descendant is born inside the cgroups and there is no race to catch.
    }
    return new ShellStepProcess(child, pid, step, cgroups, pump);
  }

  private capture(child: ChildProcess, spec: LaunchedStep): OutputPump {
    const output = this.options.output;
    const pump = new OutputPump((stream, lines) => {
      if (output?.batch) output.batch(spec, stream, lines);
      else if (output) for (const line of lines) output(spec, stream, line);
    }, this.budget);
    for (const stream of ['stdout', 'stderr'] as const) {
      const readable = child[stream];
      if (readable) pump.attach(stream, readable);
    }
    pump.seal();
    return pump;
  }
}
