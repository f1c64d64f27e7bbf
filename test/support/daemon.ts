// Runs the real `tendril` CLI (from the TypeScript sources, through tsx) as a child process.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Starts one of the package's commands (`tendril`, `greengrass-cli`) from the TypeScript sources. */
export function spawnCli(
  command: 'tendril' | 'greengrass-cli',
  args: string[],
  env: NodeJS.ProcessEnv = process.env,
): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', join(repoRoot, `src/cli/${command}.ts`), ...args], {
    cwd: repoRoot,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

export function spawnTendril(args: string[], env: NodeJS.ProcessEnv = process.env): ChildProcess {
  return spawnCli('tendril', args, env);
}

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command to completion and collects its output (mocha's timeout bounds it). */
export function runCli(
  command: 'tendril' | 'greengrass-cli',
  args: string[],
  env: NodeJS.ProcessEnv = process.env,
): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawnCli(command, args, env);
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

export const runTendril = (args: string[], env?: NodeJS.ProcessEnv): Promise<CliRun> =>
  runCli('tendril', args, env);

/** Polls `check` every 50 ms until it returns a value, or fails after `ms` with `what`. */
export async function waitFor<T>(what: string, check: () => T | undefined | false, ms = 20000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = check();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export function exitOf(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (child.exitCode !== null || child.signalCode !== null)
    return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  return new Promise((r) => child.once('exit', (code, signal) => r({ code, signal })));
}

/** Lines of `<root>/logs/greengrass.log` recording state changes, as [service, from, to]. */
export function stateChanges(root: string): Array<[string, string, string]> {
  const file = join(root, 'logs', 'greengrass.log');
  if (!existsSync(file)) return [];
  const out: Array<[string, string, string]> = [];
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const m = /service-set-state\. \{serviceName=([^,]+), currentState=([A-Z]+), newState=([A-Z]+)\}/.exec(
      line,
    );
    if (m) out.push([m[1], m[2], m[3]]);
  }
  return out;
}

export function stateOf(root: string, service: string): string | undefined {
  return stateChanges(root)
    .filter(([s]) => s === service)
    .at(-1)?.[2];
}

/** Pids of live (non-zombie) processes whose command line or environment contains `marker`. */
export function processesWith(marker: string): number[] {
  const pids: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d) || Number(d) === process.pid) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      if (stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')) continue;
      const seen = ['cmdline', 'environ'].some((f) =>
        readFileSync(`/proc/${d}/${f}`, 'utf8').includes(marker),
      );
      if (seen) pids.push(Number(d));
    } catch {
      /* gone */
    }
  }
  return pids;
}
