// A minimal real ProcessLauncher for lifecycle integration tests: `<shell> -c <script>` in its own
// process group; stop() signals the group, SIGTERM then SIGKILL. It runs real processes; it ignores
// runAs and cgroups (the production launcher in src/lifecycle/process/ handles those).

import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import type { ProcessLauncher, StepExit, StepLaunch, StepProcess } from '../../src/lifecycle/types.js';

/** Whether a live (non-zombie) process is left in the group; zombies wait for their reaper. */
function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
  } catch {
    return false;
  }
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue;
    }
    // pid (comm) state ppid pgrp ...; comm may hold spaces, so split after the last ')'
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(fields[2]) === pgid && fields[0] !== 'Z') return true;
  }
  return false;
}

function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // already gone
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class TestLauncher implements ProcessLauncher {
  readonly launched: StepLaunch[] = [];
  private readonly live = new Set<number>();

  async launch(spec: StepLaunch): Promise<StepProcess> {
    this.launched.push(spec);
    const child = spawn(spec.shell, ['-c', spec.script], {
      cwd: spec.cwd,
      env: spec.env,
      detached: true,
      stdio: ['ignore', 'ignore', 'ignore'],
    });
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', () => resolve());
      child.once('error', reject);
    });
    const pid = child.pid as number;
    this.live.add(pid);
    const exit = new Promise<StepExit>((resolve) =>
      child.once('exit', (code, signal) => {
        resolve({ code, signal });
      }),
    );
    const stop = async (graceMs = 5000): Promise<void> => {
      signalGroup(pid, 'SIGTERM');
      const deadline = Date.now() + graceMs;
      while (groupAlive(pid) && Date.now() < deadline) await sleep(20);
      if (groupAlive(pid)) signalGroup(pid, 'SIGKILL');
      await exit;
      while (groupAlive(pid)) await sleep(10);
      this.live.delete(pid);
    };
    void exit.then(() => {
      if (!groupAlive(pid)) this.live.delete(pid);
    });
    return { pid, exit, stop };
  }

  /** Kills every process group this launcher started and has not seen end (test cleanup). */
  killAll(): void {
    for (const pid of this.live) signalGroup(pid, 'SIGKILL');
    this.live.clear();
  }
}

/** A `sh -c <script>` step of `component` in `cwd` with a bare PATH, as the lifecycle tests launch them. */
export function shStep(
  script: string,
  fields: Pick<StepLaunch, 'component' | 'cwd'> & Partial<StepLaunch>,
): StepLaunch {
  return {
    step: 'run',
    script,
    shell: 'sh',
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
    runAs: null,
    useCgroup: false,
    ...fields,
  };
}
