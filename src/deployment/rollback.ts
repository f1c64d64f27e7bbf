// Rollback [DP-52, DP-59]: a full tlog snapshot taken before activation, replayed with the rollback
// merge tree and forced timestamps [CF-22], services the deployment added removed, then the tlog
// truncated so it holds only the rolled-back values [CF-16].
import { mkdir, open, rename, stat } from 'node:fs/promises';
import path from 'node:path';
import {
  applyTlog,
  Configuration,
  dumpTlog,
  readTlogFile,
  rollbackMergeTree,
  type ConfigStore,
  type JsonObject,
} from '../config/index.js';

export const ROLLBACK_SNAPSHOT = 'rollback_snapshot.tlog';

/** `<root>/deployments/<id>/` (the id made safe for a file name). */
export function deploymentDir(root: string, deploymentId: string): string {
  return path.join(root, 'deployments', encodeURIComponent(deploymentId));
}

/**
 * [DP-52] Writes the snapshot durably. A snapshot already there (a deployment resumed after a
 * restart) is kept: it is the state from before the deployment first started.
 */
export async function takeRollbackSnapshot(store: ConfigStore, dir: string): Promise<string> {
  const file = path.join(dir, ROLLBACK_SNAPSHOT);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  if (await stat(file).catch(() => undefined)) return file;
  await store.sync();
  const tmp = `${file}.tmp`;
  const fh = await open(tmp, 'w', 0o600);
  try {
    await fh.writeFile(dumpTlog(store.config));
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, file);
  const d = await open(dir, 'r');
  try {
    await d.sync();
  } finally {
    await d.close();
  }
  return file;
}

/** The `services` map recorded in a snapshot file. */
export async function readSnapshotServices(file: string): Promise<JsonObject> {
  const parsed = await readTlogFile(file);
  const snap = new Configuration();
  applyTlog(snap, parsed.lines);
  return snap.toMap(['services']);
}

/**
 * [CF-22, DP-59 steps 1 and 4] Restores `services` to the snapshot: forced rollback merge, then
 * every service absent from the snapshot (added by the deployment) is removed, except `keep`;
 * then [CF-16] the tlog is truncated. Returns the restored services and the removed names.
 */
export async function restoreRollbackSnapshot(
  store: ConfigStore,
  file: string,
  o: { now: number; keep: readonly string[] },
): Promise<{ services: JsonObject; removed: string[] }> {
  const services = await readSnapshotServices(file);
  // runtime and _private survive deployments [CF-21]; replaying old values would, for example,
  // resurrect statuses the outbox has already delivered.
  for (const svc of Object.values(services))
    if (svc !== null && typeof svc === 'object' && !Array.isArray(svc)) {
      delete svc.runtime;
      delete svc._private;
    }
  const tree = rollbackMergeTree({ now: o.now });
  store.config.updateMap({ services }, tree, { force: true });
  const present = Object.keys(store.config.toMap(['services']));
  const inSnapshot = new Set(Object.keys(services).map((k) => k.toLowerCase()));
  const removed = present.filter((n) => !inSnapshot.has(n.toLowerCase()) && !o.keep.includes(n));
  for (const name of removed) store.config.remove(['services', name], { timestamp: o.now, force: true });
  await store.sync();
  await store.truncateNow();
  return { services, removed };
}
