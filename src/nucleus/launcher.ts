// `tendril run` as the loader of the reference (spec/config.md CF-86..CF-90), so that restarts and
// self-updates work the same with or without systemd. Before each launch the `alts/` links are
// reconciled [CF-87]; when `alts/current` designates this very installation (or no Tendril
// installation at all) the nucleus runs in this process, otherwise that installation's
// `dist/cli/tendril.js run` runs as a child with an IPC channel, over which it reports readiness.
// Exit-code contract [CF-89, CF-90]: 100 restart (0 too, for a child that was not told to stop),
// 101 reboot (the configured command), anything else a failure; after 3 failures in a row with
// `alts/old` present the links flip back (current -> broken, old -> current), `restart_panic` is
// touched and the previous version runs. A child that does not report ready in time counts as a
// failure. A child whose launcher dies stops itself.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, realpathSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import {
  currentInstallation,
  entryScript,
  installationDir,
  linkExists,
  prepareRollback,
  readInstallation,
  reconcileLinks,
} from './alts.js';
import { InstanceLockedError } from './instance-lock.js';
import { Nucleus } from './nucleus.js';
import { rootPaths } from './root-layout.js';
import { touchRestartPanic } from './self-update.js';
import { findExecutable, type SystemdNotifier } from './systemd-notify.js';

export const RESTART_EXIT_CODE = 100;
export const REBOOT_EXIT_CODE = 101;
/** [CF-89] failed launches in a row before going back to `alts/old`. */
export const MAX_LAUNCH_ATTEMPTS = 3;
/** Set in a launched child's environment: it exits with the restart codes instead of relaunching. */
export const LAUNCHED_ENV = 'TENDRIL_LAUNCHED';

export interface LauncherOptions {
  root: string;
  /** Only for the first start: later starts use the saved config (a restart must not re-apply it). */
  initConfigFile?: string;
  configFile?: string;
  notifier: SystemdNotifier;
  out: (line: string) => void;
  err: (line: string) => void;
  /** `sh -c` command for exit 101; default `systemctl reboot` (or `reboot` without systemctl). */
  rebootCommand?: string;
  /** How long a launched child may take to report ready (default 120 s). */
  readyTimeoutMs?: number;
  /** SIGTERM -> SIGKILL grace for a child that did not become ready (default 30 s). */
  killGraceMs?: number;
}

/** SIGTERM/SIGINT, owned from the first instant (components start inside Nucleus.start). */
export class StopSignal {
  requested: string | undefined;
  private waiters: Array<(sig: string) => void> = [];
  private readonly handlers = {
    SIGTERM: () => this.request('SIGTERM'),
    SIGINT: () => this.request('SIGINT'),
  };

  install(): this {
    process.on('SIGTERM', this.handlers.SIGTERM);
    process.on('SIGINT', this.handlers.SIGINT);
    return this;
  }

  uninstall(): void {
    process.off('SIGTERM', this.handlers.SIGTERM);
    process.off('SIGINT', this.handlers.SIGINT);
  }

  request(why: string): void {
    if (this.requested) return; // a second signal while stopping changes nothing
    this.requested = why;
    for (const w of this.waiters.splice(0)) w(why);
  }

  wait(): Promise<string> {
    if (this.requested) return Promise.resolve(this.requested);
    return new Promise((r) => this.waiters.push(r));
  }
}

type End =
  | { kind: 'stopped' }
  | { kind: 'restart'; code: 100 | 101 }
  | { kind: 'failed'; code: number; fatal?: boolean };

/** Runs the nucleus in this process until a signal or a restart request. */
async function runHere(
  o: LauncherOptions,
  stop: StopSignal,
  first: boolean,
  ready: () => void,
): Promise<End> {
  let onRestart!: (r: { code: 100 | 101; reason: string }) => void;
  const restart = new Promise<{ code: 100 | 101; reason: string }>((r) => (onRestart = r));
  let nucleus: Nucleus;
  try {
    nucleus = await Nucleus.start({
      root: o.root,
      initConfigFile: first ? o.initConfigFile : undefined,
      configFile: first ? o.configFile : undefined,
      onRestart: (code, reason) => onRestart({ code, reason }),
    });
  } catch (e) {
    if (e instanceof InstanceLockedError) o.err(`tendril run: ${e.message}`);
    else o.err(`tendril run: could not start: ${(e as Error).message}`);
    return { kind: 'failed', code: 1, fatal: true };
  }
  o.out(
    `tendril: nucleus running on ${o.root} (IPC ${nucleus.paths.ipcSocket}); logs in ${nucleus.paths.logs}`,
  );
  ready();
  const end = await Promise.race([
    stop.wait().then((sig) => ({ kind: 'stopped' as const, sig })),
    restart.then((r) => ({ kind: 'restart' as const, ...r })),
  ]);
  if (end.kind === 'stopped') {
    o.out(`tendril: ${end.sig}, stopping components`);
    void o.notifier.stopping('stopping components');
  } else o.out(`tendril: restarting the nucleus (exit code ${end.code}): ${end.reason}`);
  await nucleus.stop().catch((e: Error) => o.err(`tendril: shutdown error: ${e.message}`));
  return end.kind === 'stopped' ? { kind: 'stopped' } : { kind: 'restart', code: end.code };
}

/** Runs another installation's nucleus as a child until it exits. */
async function runChild(
  o: LauncherOptions,
  stop: StopSignal,
  dir: string,
  first: boolean,
  ready: () => void,
): Promise<End> {
  const script = entryScript(dir);
  if (!existsSync(script)) {
    o.err(`tendril: ${script} does not exist`);
    return { kind: 'failed', code: 1 };
  }
  const args = [script, 'run', '--root', o.root];
  if (first && o.initConfigFile) args.push('--init-config', o.initConfigFile);
  if (first && o.configFile) args.push('--config', o.configFile);
  o.out(`tendril: launching Tendril ${readInstallation(dir)?.version ?? '?'} from ${dir}`);
  const child = spawn(process.execPath, args, {
    stdio: ['inherit', 'inherit', 'inherit', 'ipc'],
    env: { ...process.env, [LAUNCHED_ENV]: '1' },
  });
  let isReady = false;
  let timedOut = false;
  child.on('message', (m) => {
    if ((m as { type?: unknown })?.type !== 'ready' || isReady) return;
    isReady = true;
    clearTimeout(timer);
    ready();
  });
  const timer = setTimeout(() => {
    timedOut = true;
    o.err(
      `tendril: the nucleus from ${dir} did not report ready in ${o.readyTimeoutMs ?? 120_000} ms; stopping it`,
    );
    child.kill('SIGTERM');
    setTimeout(() => child.kill('SIGKILL'), o.killGraceMs ?? 30_000).unref();
  }, o.readyTimeoutMs ?? 120_000);
  void stop.wait().then(() => child.kill('SIGTERM'));
  const exit = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => {
    child.once('exit', (code, signal) => r({ code, signal }));
    child.once('error', (e) => {
      o.err(`tendril: could not launch ${script}: ${e.message}`);
      r({ code: 1, signal: null });
    });
  });
  clearTimeout(timer);
  if (stop.requested) return { kind: 'stopped' };
  if (timedOut) return { kind: 'failed', code: exit.code ?? 1 };
  if (exit.code === RESTART_EXIT_CODE || exit.code === 0) return { kind: 'restart', code: 100 };
  if (exit.code === REBOOT_EXIT_CODE) return { kind: 'restart', code: 101 };
  o.err(`tendril: the nucleus from ${dir} ended with ${exit.code ?? exit.signal}`);
  return { kind: 'failed', code: exit.code ?? 1 };
}

function reboot(o: LauncherOptions): void {
  const command = o.rebootCommand ?? (findExecutable('systemctl') ? 'systemctl reboot' : 'reboot');
  o.out(`tendril: reboot requested; running: ${command}`);
  const r = spawnSync('/bin/sh', ['-c', command], { stdio: 'inherit' });
  if (r.status !== 0)
    o.err(`tendril: the reboot command ended with ${r.status ?? r.signal}; restarting the nucleus instead`);
}

/**
 * After the in-process nucleus stopped for good, give its memory back before this process becomes a
 * parent that only waits for its child (a full collection; best effort).
 */
function releaseMemory(): void {
  try {
    setFlagsFromString('--expose_gc');
    (runInNewContext('gc') as () => void)();
  } catch {
    /* not available: the memory is reclaimed when V8 gets to it */
  }
}

function same(a: string, b: string): boolean {
  try {
    return realpathSync(a) === realpathSync(b);
  } catch {
    return false;
  }
}

/** The loader loop [CF-87..CF-90]; resolves with the process exit code. */
export async function runLauncher(o: LauncherOptions, stop: StopSignal): Promise<number> {
  const alts = rootPaths(o.root).alts;
  const self = installationDir();
  let first = true;
  let failures = 0;
  let notified = false;
  let ranHere = false;
  const ready = () => {
    if (notified) return;
    notified = true;
    void o.notifier.ready(`nucleus running on ${o.root}`);
  };
  for (;;) {
    if (stop.requested) return 0;
    if (existsSync(alts))
      try {
        for (const d of reconcileLinks(alts)) o.out(`tendril: alts/${d}`);
      } catch (e) {
        o.err(`tendril: could not reconcile ${alts}: ${(e as Error).message}`);
      }
    const target = existsSync(alts) ? currentInstallation(alts) : undefined;
    const here = target === undefined || same(target, self);
    if (!here && ranHere) releaseMemory();
    ranHere ||= here;
    const end = here ? await runHere(o, stop, first, ready) : await runChild(o, stop, target, first, ready);
    first = false;
    if (end.kind === 'stopped') return 0;
    if (end.kind === 'restart') {
      failures = 0;
      if (end.code === REBOOT_EXIT_CODE) reboot(o);
      continue;
    }
    if (end.fatal) return end.code;
    failures++;
    if (failures < MAX_LAUNCH_ATTEMPTS) continue;
    if (!linkExists(alts, 'old')) return end.code;
    // [CF-89] the new version does not start: back to the previous one
    o.err(`tendril: ${failures} failed launches of ${target}; going back to alts/old`);
    prepareRollback(alts);
    touchRestartPanic(o.root);
    failures = 0;
  }
}

/**
 * A nucleus launched by another installation's launcher: reports ready over the IPC channel,
 * stops when the launcher goes away, and exits with the restart codes for the launcher to act on.
 */
export async function runLaunched(o: LauncherOptions, stop: StopSignal): Promise<number> {
  delete process.env[LAUNCHED_ENV]; // components must not inherit it
  process.on('disconnect', () => stop.request('launcher gone'));
  const end = await runHere(o, stop, true, () => process.send?.({ type: 'ready' }));
  if (process.connected) process.disconnect();
  if (end.kind === 'restart') return end.code;
  return end.kind === 'failed' ? end.code : 0;
}

/** Whether this process was launched by a Tendril launcher (and has its IPC channel). */
export function isLaunched(): boolean {
  return process.env[LAUNCHED_ENV] === '1' && typeof process.send === 'function';
}
