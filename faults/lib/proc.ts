// The product as a maintainer runs it: the compiled `dist/cli/tendril.js` (after `npm run build`),
// as child processes the campaign can kill -9. Every child is registered so that nothing outlives
// the campaign, even when a family fails half way.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { exitOf, repoRoot } from '../../test/support/daemon.js';

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function tendrilJs(): string {
  const js = join(repoRoot, 'dist', 'cli', 'tendril.js');
  if (!existsSync(js)) throw new Error(`${js} is missing: run 'npm run build' first`);
  return js;
}

const children = new Set<ChildProcess>();
process.once('exit', () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

/** Synchronous clean-ups (unmounts, directories) to run when the campaign is interrupted. */
export const onInterrupt = new Set<() => void>();

/** SIGTERM to every child still running (a nucleus stops its components), SIGKILL after `graceMs`. */
export async function stopChildren(graceMs = 60_000): Promise<void> {
  const live = [...children].filter((c) => c.exitCode === null && c.signalCode === null);
  for (const c of live) c.kill('SIGTERM');
  const timer = setTimeout(() => live.forEach((c) => c.kill('SIGKILL')), graceMs);
  await Promise.all(live.map((c) => exitOf(c)));
  clearTimeout(timer);
}

/** Starts `tendril ARGS` from dist/, its output collected in `out()`. */
export function spawnTendril(args: string[], env: NodeJS.ProcessEnv = process.env) {
  const child = spawn(process.execPath, [tendrilJs(), ...args], {
    cwd: repoRoot,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  child.once('exit', () => children.delete(child));
  let text = '';
  child.stdout!.on('data', (d: Buffer) => (text += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (text += d.toString()));
  return { child, out: () => text };
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a tendril command to completion (bounded: killed after `ms`). */
export function tendril(args: string[], ms = 60_000): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [tendrilJs(), ...args], {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.add(child);
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), ms);
    child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      children.delete(child);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Polls `check` every `every` ms until it returns a value; throws naming `what` after `ms`. */
export async function until<T>(
  what: string,
  check: () => T | undefined | false | Promise<T | undefined | false>,
  ms = 60_000,
  every = 20,
): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(every);
  }
}

export const readText = (f: string) => {
  try {
    return readFileSync(f, 'utf8');
  } catch {
    return '';
  }
};

/** One `tendril run` on a root: started, killed with SIGKILL, or stopped with SIGTERM. */
export class NucleusProcess {
  child: ChildProcess | undefined;
  private output: () => string = () => '';
  /** Exits the campaign did not cause (neither kill9 nor stop), with the end of the output. */
  readonly crashes: string[] = [];
  constructor(
    readonly root: string,
    private readonly initConfig?: string,
  ) {}

  get pid(): number {
    if (!this.child?.pid) throw new Error('the nucleus is not running');
    return this.child.pid;
  }
  get socket(): string {
    return join(this.root, 'ipc.socket');
  }
  get running(): boolean {
    return !!this.child && this.child.exitCode === null && this.child.signalCode === null;
  }
  /** Throws when the daemon is not running, with how it ended. */
  assertAlive(when = ''): void {
    if (!this.running)
      throw new Error(`the nucleus died${when ? ` ${when}` : ''}: ${this.crashes.at(-1) ?? 'not started'}`);
  }

  log(component?: string): string {
    return readText(join(this.root, 'logs', `${component ?? 'greengrass'}.log`));
  }

  /** Starts the daemon (with the init config on the first start) and waits until it serves IPC. */
  async start(opts: { initConfig?: boolean } = {}): Promise<void> {
    const withInit = (opts.initConfig ?? !existsSync(join(this.root, 'config'))) && this.initConfig;
    const { child, out } = spawnTendril([
      'run',
      '--root',
      this.root,
      ...(withInit ? ['--init-config', this.initConfig!] : []),
    ]);
    this.child = child;
    this.output = out;
    child.once('exit', (code, signal) => {
      if (this.child !== child) return;
      const lines = out().trim().split('\n');
      const error = lines
        .filter((l) => /^\w*Error\b|^\s+at /.test(l))
        .slice(0, 3)
        .join(' / ');
      this.crashes.push(`exit ${code ?? signal}: ${(error || lines.slice(-3).join(' / ')).slice(0, 400)}`);
    });
    await until(
      'the nucleus to start',
      () => out().includes('nucleus running on') || child.exitCode !== null,
      120_000,
      10,
    );
    if (child.exitCode !== null) throw new Error(`the nucleus exited at start: ${out().trim()}`);
  }

  async kill9(): Promise<void> {
    const child = this.child;
    if (!child) return;
    this.child = undefined;
    child.kill('SIGKILL');
    await exitOf(child);
  }

  /** SIGTERM, then SIGKILL after `graceMs`; returns how it ended. */
  async stop(graceMs = 60_000): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    const child = this.child;
    if (!child) return { code: 0, signal: null };
    this.child = undefined;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    const end = await exitOf(child);
    clearTimeout(timer);
    return end;
  }

  out(): string {
    return this.output();
  }
}

/** `tendril component details NAME --json` over the nucleus's IPC socket. */
export async function componentDetails(
  root: string,
  name: string,
): Promise<{ version: string; state: string; configuration?: Record<string, unknown> } | undefined> {
  const r = await tendril(['component', 'details', name, '--root', root, '--json']);
  if (r.code !== 0) return undefined;
  return JSON.parse(r.stdout) as { version: string; state: string; configuration?: Record<string, unknown> };
}

export async function componentList(
  root: string,
): Promise<{ name: string; version: string; state: string }[]> {
  const r = await tendril(['component', 'list', '--root', root, '--json']);
  if (r.code !== 0) throw new Error(`tendril component list failed: ${r.stderr.trim()}`);
  const v = JSON.parse(r.stdout) as
    | { name?: string; componentName?: string; version: string; state: string }[]
    | { components: { componentName: string; version: string; state: string }[] };
  const list = Array.isArray(v) ? v : v.components;
  return list.map((c) => ({
    name: (c as { name?: string }).name ?? (c as { componentName: string }).componentName,
    version: c.version,
    state: c.state,
  }));
}
