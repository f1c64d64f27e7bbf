// Disk full, on a small tmpfs mounted as the nucleus root (root only; skipped with the reason when the
// mount is not possible):
// - an artifact larger than the free space: refused before a byte is written [RC-41];
// - during a download: another writer fills the tmpfs (fallocate-like zeros) the instant the partial
//   file appears, and frees it 3 s later;
// - during a config write: the tmpfs is filled the instant the deployment's rollback snapshot appears,
//   i.e. while the deployment writes the new services to the tlog; freed 3 s later.
// Expected: the deployment ends with one terminal status that says what happened (DISK_SPACE_CRITICAL
// for a download), the device runs what that status says (the previous version after a failure), no
// partial download is left, and the config tlog reloads (checked read-only, then by a restart of the
// nucleus) [CL-37][CF-10][CF-12][CF-17].
import { existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { FaultFamily, FamilyContext } from './lib/family.js';
import { readTlogFile } from '../src/config/index.js';
import { checkTlog } from './lib/checks.js';
import { componentDetails, onInterrupt, sleep, until } from './lib/proc.js';
import { check, NotInjected, type Fault } from './lib/report.js';
import { Rig, type Deployed, type Expected } from './lib/rig.js';
import { fill, freeBytes, mountTmpfs, unmount } from '../test/support/tmpfs.js';

const TMPFS_MB = 96;
/** Larger than the tmpfs: refused before a byte is written. */
const HUGE_BYTES = 128 * 2 ** 20;
/** Fits: the disk is filled by another writer while it downloads. */
const FITS_BYTES = 64 * 2 ** 20;
/** Bytes of the files under `dir`. */
function du(dir: string): number {
  let n = 0;
  if (!existsSync(dir)) return 0;
  for (const e of readdirSync(dir, { withFileTypes: true, recursive: true }))
    if (e.isFile()) n += statSync(join(e.parentPath ?? e.path, e.name)).size;
  return n;
}
const partialOf = (rig: Rig, d: Deployed) =>
  join(rig.root, 'packages', '.downloads', 'artifacts', rig.svc, d.version, 'data.bin');
const engineRetries = (rig: Rig) => rig.nucleus.log().split('deployment engine: ENOSPC').length - 1;
const enospcLines = (rig: Rig) =>
  rig.nucleus
    .log()
    .split('\n')
    .filter((l) => /ENOSPC|no space/i.test(l)).length;

/** The outcome must be consistent: FAILED with the previous version (and a reason), or SUCCEEDED with the new one. */
async function settle(
  rig: Rig,
  d: Deployed,
  previous: { version: string; message: string },
  ms: number,
): Promise<string> {
  const end = await rig.cloud.terminal(rig.device, d.deploymentId, ms);
  const status = end.coreDeviceExecutionStatus;
  const want: Expected =
    status === 'SUCCEEDED'
      ? { status: 'SUCCEEDED', version: d.version, message: d.message }
      : { status: 'FAILED', version: previous.version, message: previous.message };
  for (const n of await rig.verify(d, want)) void n;
  return `${status}: ${end.reason ?? 'no reason given'}`;
}

/** The tlog after a restart: the nucleus starts again and serves the same version and configuration. */
async function restartReloads(rig: Rig): Promise<void> {
  const before = rig.current;
  const end = await rig.nucleus.stop();
  check(end.code === 0, `the nucleus exited ${end.code ?? end.signal} on SIGTERM`);
  await checkTlog(rig.root, rig.svc, before.version);
  await rig.nucleus.start();
  const d = await until(`${rig.svc} to run after the restart`, async () => {
    const x = await componentDetails(rig.root, rig.svc);
    return x?.state === 'RUNNING' ? x : undefined;
  });
  check(
    d.version === before.version && d.configuration?.Message === before.message,
    `after the restart ${rig.svc} runs ${d.version} with ${String(d.configuration?.Message)}, expected ${before.version} with ${before.message}`,
  );
}

const family: FaultFamily = {
  name: 'disk',
  title: 'Disk full (a tmpfs nucleus root)',
  async run(ctx: FamilyContext) {
    const mnt = join(ctx.dir, 'mnt');
    const huge = ctx.fault(
      `an artifact larger than the free space (${HUGE_BYTES / 2 ** 20} MiB into a ${TMPFS_MB} MiB tmpfs)`,
      'FAILED with DISK_SPACE_CRITICAL before a byte is written; previous version runs; nothing left in packages/.downloads; tlog reloads (read-only and by a restart)',
    );
    const download = ctx.fault(
      `disk full during an artifact download (${FITS_BYTES / 2 ** 20} MiB; another writer fills the disk once the download has begun, frees it 3 s later)`,
      'FAILED with DISK_SPACE_CRITICAL; previous version runs; partial file removed; tlog reloads (read-only and by a restart)',
    );
    const config = ctx.fault(
      'disk full during the config write of a deployment (filled at the rollback snapshot, freed 3 s later)',
      'one terminal status consistent with what runs; the nucleus survives; tlog reloads (read-only and by a restart)',
    );
    const why = mountTmpfs(mnt, TMPFS_MB);
    if (why) {
      for (const f of [huge, download, config]) f.skip(why);
      return;
    }
    const umount = () => unmount(mnt, true);
    onInterrupt.add(umount);
    const rig = new Rig(ctx, 'dsk', join(mnt, 'root'));
    /** How long a terminal status may take (a stuck deployment costs this much). */
    const wait = ctx.quick ? 15_000 : 30_000;
    const filler = join(mnt, 'filler');
    const downloads = () => join(rig.root, 'packages', '.downloads');
    /** Evidence when no terminal status came, then what an operator would do to go on. */
    const stuck = (e: Error, retries0: number): never => {
      const left = du(downloads());
      const retries = engineRetries(rig) - retries0;
      rmSync(downloads(), { recursive: true, force: true });
      rmSync(filler, { force: true });
      throw new Error(
        `${e.message}; ${Math.round(left / 2 ** 20)} MiB of partial download left in packages/.downloads; ` +
          `the deployment engine logged 'ENOSPC ... retrying in 1 s' ${retries}x`,
      );
    };
    /** The common checks of a failed download: its status, the partial file, the space. */
    const failedDownload = async (
      fault: Fault,
      d: Deployed,
      outcome: string,
      free0: number,
    ): Promise<void> => {
      check(outcome.startsWith('FAILED'), `the deployment ended ${outcome}`);
      check(/DISK_SPACE_CRITICAL/.test(outcome), `the failure does not name DISK_SPACE_CRITICAL: ${outcome}`);
      fault.note(outcome.slice(0, 240));
      check(!existsSync(partialOf(rig, d)), `the partial download ${partialOf(rig, d)} was left on the disk`);
      const free1 = freeBytes(mnt);
      fault.measure('free space after, vs before', Math.round((free1 - free0) / 1024), 'KiB');
      check(
        free1 > free0 - 2 ** 20,
        `${Math.round((free0 - free1) / 2 ** 20)} MiB of the disk stayed used after the failure`,
      );
      await restartReloads(rig);
    };
    try {
      await rig.open();
      for (let rep = 0; rep < ctx.reps(3, 1); rep++) {
        const okHuge = await huge.inject(async () => {
          const previous = rig.current;
          const free0 = freeBytes(mnt);
          const retries0 = engineRetries(rig);
          const d = await rig.deployNew({ artifactBytes: HUGE_BYTES });
          const outcome = await settle(rig, d, previous, wait).catch((e: Error) => stuck(e, retries0));
          await failedDownload(huge, d, outcome, free0);
        });
        if (!okHuge) await rig.resync(huge, true);

        // the instant (the download under way) can be missed: try again, up to 3 times
        for (let attempt = 0; attempt < 3; attempt++) {
          const missedBefore = download.missed;
          const ok = await download.inject(async () => {
            const previous = rig.current;
            const free0 = freeBytes(mnt);
            const retries0 = engineRetries(rig);
            const d = await rig.deployNew({ artifactBytes: FITS_BYTES });
            const partial = partialOf(rig, d);
            await until('the download to begin', () => existsSync(partial), 60_000, 1);
            fill(filler);
            const at = statSync(partial, { throwIfNoEntry: false })?.size;
            if (at === undefined || at >= FITS_BYTES) {
              rmSync(filler, { force: true });
              await settle(rig, d, previous, wait).catch((e: Error) => stuck(e, retries0));
              throw new NotInjected('the download was complete when the disk became full');
            }
            download.measure('bytes downloaded when the disk became full', Math.round(at / 2 ** 20), 'MiB');
            await sleep(3000);
            rig.nucleus.assertAlive('while the disk was full');
            rmSync(filler, { force: true });
            const outcome = await settle(rig, d, previous, wait).catch((e: Error) => stuck(e, retries0));
            await failedDownload(download, d, outcome, free0);
          });
          if (ok) break;
          if (download.missed === missedBefore) {
            await rig.resync(download, true);
            break;
          }
        }

        const okConfig = await config.inject(async () => {
          const previous = rig.current;
          const enospc0 = enospcLines(rig);
          const retries0 = engineRetries(rig);
          const d = await rig.deployNew({ installSeconds: 1 });
          const snapshot = join(
            rig.root,
            'deployments',
            encodeURIComponent(d.deploymentId),
            'rollback_snapshot.tlog',
          );
          await until('the rollback snapshot', () => existsSync(snapshot), 60_000, 2);
          fill(filler);
          const full = freeBytes(mnt);
          await sleep(3000);
          rig.nucleus.assertAlive('while the disk was full');
          rmSync(filler, { force: true });
          config.measure('free bytes while full', full, 'B');
          const outcome = await settle(rig, d, previous, wait).catch(async (e: Error) => {
            // evidence: the tlog, what the nucleus logged, and whether a restart of the nucleus recovers
            const tlog = await readTlogFile(join(rig.root, 'config', 'config.tlog')).then(
              (t) => (t.tornTail ? 'torn at its end (a line cut short)' : 'intact'),
              (err: Error) => `unreadable (${err.message})`,
            );
            const retries = engineRetries(rig) - retries0;
            await rig.nucleus.stop();
            await rig.nucleus.start();
            const after = await settle(rig, d, previous, wait).then(
              (o) => `after a restart of the nucleus: ${o.slice(0, 120)}`,
              (err: Error) =>
                `a restart of the nucleus did not recover either (${err.message.slice(0, 120)})`,
            );
            throw new Error(
              `${e.message} although the disk had space again; the deployment engine logged ` +
                `'ENOSPC ... retrying in 1 s' ${retries}x; the tlog is ${tlog}; ${after}`,
            );
          });
          config.note(outcome.slice(0, 200));
          config.measure('nucleus log lines naming ENOSPC', enospcLines(rig) - enospc0, '');
          await restartReloads(rig);
        });
        rmSync(filler, { force: true });
        if (!okConfig) await rig.resync(config, true);
      }
    } finally {
      await rig.stopAll();
      onInterrupt.delete(umount);
      if (process.env.KEEP_FAULT_DIRS) ctx.log(`KEEP_FAULT_DIRS: ${mnt} stays mounted (umount it when done)`);
      else
        try {
          unmount(mnt);
        } catch (e) {
          ctx.log(`umount ${mnt}: ${(e as Error).message}`);
        }
    }
  },
};
export default family;
