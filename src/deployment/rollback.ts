// Rollback [DP-52, DP-59]: a full tlog snapshot taken before activation, replayed with the rollback
// merge tree and forced timestamps [CF-22], services the deployment added removed, then the tlog
// truncated so it holds only the rolled-back values [CF-16].
import { stat } from 'node:fs/promises';
import path from 'node:path';
import {
  applyTlog,
  applyTlogLine,
  Configuration,
  dumpTlog,
  readTlogFile,
  rollbackMergeTree,
  type ConfigStore,
  type JsonObject,
  Topics,
} from '../config/index.js';
import { writeDurably } from './task-progress.js';

export const ROLLBACK_SNAPSHOT = 'rollback_snapshot.tlog';

/** `<root>/deployments/<id>/` (the id made safe for a file name). */
export function deploymentDir(root: string, deploymentId: string): string {
  return path.join(root, 'deployments', encodeURIComponent(deploymentId));
}

/**
 * [DP-52] Writes the snapshot durably (for every deployment: with DO_NOTHING it serves only to
 * recover a services write a crash interrupted, see ACTIVATION_MARKER). A snapshot already there (a deployment resumed after a
 * restart) is kept: it is the state from before the deployment first started.
 */
export async function takeRollbackSnapshot(store: ConfigStore, dir: string): Promise<string> {
  const file = path.join(dir, ROLLBACK_SNAPSHOT);
  if (await stat(file).catch(() => undefined)) return file;
  await store.sync();
  await writeDurably(file, dumpTlog(store.config));
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

/**
 * Undoes a services write a crash interrupted (see ACTIVATION_MARKER): every service goes back to
 * the snapshot's values with their own timestamps (so the resumed deployment's MERGE compares
 * against the same modtimes as the first attempt did [CF-24]), services the torn write added are
 * removed, `runtime` and `_private` are left as they are [CF-21]. Returns the names removed.
 */
export async function restoreSnapshotExactly(
  store: ConfigStore,
  file: string,
  o: { keep: readonly string[] },
): Promise<string[]> {
  const lines = (await readTlogFile(file)).lines.filter((l) => l.path[0]?.toLowerCase() === 'services');
  const inSnapshot = new Set(lines.map((l) => l.path[1]?.toLowerCase()).filter((n) => n !== undefined));
  const now = store.config.now();
  const removed: string[] = [];
  const services = store.config.find(['services']);
  for (const svc of services instanceof Topics ? services.children() : []) {
    const keep = o.keep.includes(svc.name);
    if (!inSnapshot.has(svc.name.toLowerCase())) {
      if (keep) continue;
      svc.remove(now, true);
      removed.push(svc.name);
      continue;
    }
    if (!(svc instanceof Topics)) continue;
    for (const c of svc.children()) if (c.name !== 'runtime' && !c.name.startsWith('_')) c.remove(now, true);
  }
  for (const l of lines) if (l.path[2] !== 'runtime') applyTlogLine(store.config, l, true);
  await store.sync();
  await store.truncateNow();
  return removed;
}
