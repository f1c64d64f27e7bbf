// What a deployment has already told the world, kept in `deployments/<id>/deployment_metadata.json`
// [DP-33] so that a deployment resumed after `kill -9` reports IN_PROGRESS and its terminal status
// exactly once [DP-64, DP-68]. Each status is stored in the outbox first and this file second; the
// engine lets no outbox flush run between the two writes, so after a crash between them the status
// is still pending in the outbox and the resumed deployment finds it there.
import { createHash } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import type { JobStatus } from './result.js';
import type { DeploymentResultStatus } from './result.js';

export const DEPLOYMENT_METADATA = 'deployment_metadata.json';
/**
 * Present while a deployment writes the `services` tree (activation or rollback). Those writes are
 * individually durable but not atomic as a whole, so after a crash with this marker present the
 * tree on disk may be half old, half new: the nucleus restores the pre-deployment snapshot before
 * any component is started from it, and the resumed deployment runs again from that state.
 */
export const ACTIVATION_MARKER = 'activation_in_progress';

export interface DeploymentProgress {
  id: string;
  type: string;
  deploymentId: string;
  /** Fingerprint of the queued document: a later deployment reusing the id starts afresh. */
  document: string;
  /** The last status stored in the outbox for this deployment. */
  status: JobStatus;
  result?: DeploymentResultStatus;
  details?: Record<string, string>;
  /** name -> version the deployment tried, for stale-version cleanup [DP-75]. */
  attempted?: Record<string, string>;
}

export function documentFingerprint(document: unknown): string {
  return createHash('sha256')
    .update(JSON.stringify(document ?? null))
    .digest('hex');
}

/** The progress recorded for this very document, or undefined (absent, torn, or another document). */
export async function readProgress(
  file: string,
  fingerprint: string,
): Promise<DeploymentProgress | undefined> {
  try {
    const p = JSON.parse(await readFile(file, 'utf8')) as DeploymentProgress;
    return p && p.document === fingerprint && typeof p.status === 'string' ? p : undefined;
  } catch {
    return undefined;
  }
}

export async function writeProgress(file: string, p: DeploymentProgress): Promise<void> {
  await writeDurably(file, JSON.stringify(p));
}

export async function writeDurably(file: string, text: string): Promise<void> {
  const dir = path.dirname(file);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const tmp = `${file}.tmp`;
  const fh = await open(tmp, 'w', 0o600);
  try {
    await fh.writeFile(text);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, file);
  await syncDir(dir);
}

async function syncDir(dir: string): Promise<void> {
  const d = await open(dir, 'r');
  try {
    await d.sync();
  } finally {
    await d.close();
  }
}

/** Durably marks (or clears) a deployment's services write; see ACTIVATION_MARKER. */
export async function markActivation(dir: string, writing: boolean): Promise<void> {
  const file = path.join(dir, ACTIVATION_MARKER);
  if (writing) return writeDurably(file, '');
  await rm(file, { force: true });
  await syncDir(dir);
}

export async function activationInterrupted(dir: string): Promise<boolean> {
  return (await stat(path.join(dir, ACTIVATION_MARKER)).catch(() => undefined)) !== undefined;
}

/**
 * Removes the staging folders an import interrupted by a crash left under `<root>/packages`
 * (the component store stages there and moves into place only when complete). Only one
 * deployment runs at a time, so at engine start none of them is in use.
 */
export async function removeInterruptedImports(root: string): Promise<string[]> {
  const packages = path.join(root, 'packages');
  const names = await readdir(packages).catch(() => [] as string[]);
  const stale = names.filter((n) => n.startsWith('.staging-'));
  for (const n of stale) await rm(path.join(packages, n), { recursive: true, force: true });
  return stale;
}
