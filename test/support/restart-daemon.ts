// Helpers for tests of nucleus restarts (bootstrap, self-update): a `tendril run` daemon whose output
// is collected, the local deployment commands against it, and what the root's files record.
import { expect } from 'chai';
import type { ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { exitOf, spawnTendril, waitFor, runTendril as tendril } from './daemon.js';

export interface Daemon {
  child: ChildProcess;
  /** stdout and stderr so far. */
  output(): string;
  stop(): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export async function startDaemon(args: string[], env: NodeJS.ProcessEnv): Promise<Daemon> {
  const child = spawnTendril(['run', ...args], env);
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  await waitFor(
    `the daemon to start (${out})`,
    () => out.includes('nucleus running on') || child.exitCode !== null,
    60_000,
  );
  expect(child.exitCode, out).to.equal(null);
  return {
    child,
    output: () => out,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null)
        return { code: child.exitCode, signal: child.signalCode };
      child.kill('SIGTERM');
      return exitOf(child);
    },
  };
}

export async function createDeployment(root: string, args: string[]): Promise<string> {
  const r = await tendril(['deployment', 'create', '--root', root, '--json', ...args]);
  expect(r.code, r.stdout + r.stderr).to.equal(0);
  return (JSON.parse(r.stdout) as { deploymentId: string }).deploymentId;
}

export interface DeploymentEnd {
  status: string;
  detailed?: string;
  errors: string[];
  cause?: string;
}

/**
 * Polls `tendril deployment status` until the deployment is terminal. While the nucleus restarts
 * the command fails (no IPC socket): it is tried again.
 */
export async function terminalStatus(root: string, id: string, ms = 120_000): Promise<DeploymentEnd> {
  const deadline = Date.now() + ms;
  let last = '';
  for (;;) {
    const r = await tendril(['deployment', 'status', id, '--root', root, '--json']);
    last = r.stdout + r.stderr;
    if (r.code === 0) {
      const d = JSON.parse(r.stdout) as {
        status: string;
        deploymentStatusDetails?: {
          detailedDeploymentStatus: string;
          deploymentErrorStack?: string[];
          deploymentFailureCause?: string;
        };
      };
      if (d.status !== 'QUEUED' && d.status !== 'IN_PROGRESS')
        return {
          status: d.status,
          detailed: d.deploymentStatusDetails?.detailedDeploymentStatus,
          errors: d.deploymentStatusDetails?.deploymentErrorStack ?? [],
          cause: d.deploymentStatusDetails?.deploymentFailureCause,
        };
    }
    if (Date.now() > deadline) throw new Error(`deployment ${id} not terminal: ${last}`);
    await new Promise((r) => setTimeout(r, 300));
  }
}

export async function componentDetails(
  root: string,
  name: string,
): Promise<{ version: string; state: string } | undefined> {
  const r = await tendril(['component', 'details', name, '--root', root, '--json']);
  if (r.code !== 0) return undefined;
  return JSON.parse(r.stdout) as { version: string; state: string };
}

const read = (f: string) => (existsSync(f) ? readFileSync(f, 'utf8') : '');

/** `nucleus-start` lines of the root's greengrass.log (one per nucleus start). */
export function nucleusStarts(root: string): string[] {
  return read(join(root, 'logs', 'greengrass.log'))
    .split('\n')
    .filter((l) => l.includes('nucleus-start.'));
}

/**
 * Statuses stored in the outbox for deployment `id`, as the config tlog recorded them (one entry per
 * stored status) [DP-68]; a compaction of the tlog may drop delivered IN_PROGRESS entries.
 */
export function storedStatuses(root: string, id: string): string[] {
  const entries = new Map<string, { id?: string; status?: string }>();
  for (const line of read(join(root, 'config', 'config.tlog')).split('\n')) {
    if (!line.includes('"ProcessedDeployments"')) continue;
    let o: { TP: string[]; W: string; V: unknown };
    try {
      o = JSON.parse(line) as typeof o;
    } catch {
      continue;
    }
    const i = o.TP.indexOf('ProcessedDeployments');
    const key = o.TP[i + 1];
    const field = o.TP[i + 2];
    if (!key || o.W === 'removed') continue;
    const e = entries.get(key) ?? {};
    if (field === 'DeploymentId') e.id = String(o.V);
    if (field === 'DeploymentStatus') e.status = String(o.V);
    entries.set(key, e);
  }
  return [...entries.values()].filter((e) => e.id === id).map((e) => e.status ?? '?');
}
