// Disk full, on a small tmpfs mounted as the nucleus root (root only; skipped with the reason when the
// mount is not possible):
// - during a download: the new version's artifact is larger than the free space;
// - during a config write: the tmpfs is filled (fallocate) the instant the deployment's rollback
//   snapshot appears, i.e. while the deployment writes the new services to the tlog; freed 3 s later.
// Expected: the deployment ends with one terminal status that says what happened, the device runs
// what that status says (the previous version after a rollback), the partial download is removed,
// and the config tlog reloads (checked read-only, then by a restart of the nucleus) [CL-37][CF-10][CF-12][CF-17].
import { execFileSync } from 'node:child_process';
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  rmSync,
  statfsSync,
  statSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import type { FaultFamily, FamilyContext } from './lib/family.js';
import { readTlogFile } from '../src/config/index.js';
import { checkTlog } from './lib/checks.js';
import { componentDetails, onInterrupt, sleep, until } from './lib/proc.js';
import { check } from './lib/report.js';
import { Rig, type Deployed, type Expected } from './lib/rig.js';

const TMPFS_MB = 48;
const freeBytes = (dir: string) => {
  const s = statfsSync(dir);
  return s.bavail * s.bsize;
};
/** Bytes of the files under `dir`. */
function du(dir: string): number {
  let n = 0;
  if (!existsSync(dir)) return 0;
  for (const e of readdirSync(dir, { withFileTypes: true, recursive: true }))
    if (e.isFile()) n += statSync(join(e.parentPath ?? e.path, e.name)).size;
  return n;
}
const engineRetries = (rig: Rig) => rig.nucleus.log().split('deployment engine: ENOSPC').length - 1;
const enospcLines = (rig: Rig) =>
  rig.nucleus
    .log()
    .split('\n')
    .filter((l) => /ENOSPC|no space/i.test(l)).length;

/** Writes zeros to `file` until the file system is full. */
function fill(file: string): void {
  const fd = openSync(file, 'w');
  try {
    for (const size of [2 ** 20, 4096, 1]) {
      const chunk = Buffer.alloc(size);
      for (;;) {
        try {
          writeSync(fd, chunk);
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code === 'ENOSPC') break;
          throw e;
        }
      }
    }
  } finally {
    closeSync(fd);
  }
}

/** Mounts a tmpfs at `dir`; returns the reason when that is not possible here. */
function mountTmpfs(dir: string): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root to mount a tmpfs';
  mkdirSync(dir, { recursive: true });
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${TMPFS_MB}m,mode=755`, 'tmpfs', dir], {
      stdio: 'pipe',
    });
    return undefined;
  } catch (e) {
    return `mount -t tmpfs failed: ${String((e as { stderr?: Buffer }).stderr ?? (e as Error).message).trim()}`;
  }
}

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
    const download = ctx.fault(
      `disk full during an artifact download (${TMPFS_MB} MiB tmpfs, 64 MiB artifact)`,
      'FAILED naming the cause; previous version runs; partial file removed; tlog reloads (read-only and by a restart)',
    );
    const config = ctx.fault(
      'disk full during the config write of a deployment (filled at the rollback snapshot, freed 3 s later)',
      'one terminal status consistent with what runs; the nucleus survives; tlog reloads (read-only and by a restart)',
    );
    const why = mountTmpfs(mnt);
    if (why) {
      download.skip(why);
      config.skip(why);
      return;
    }
    const umount = () => execFileSync('umount', ['-l', mnt], { stdio: 'pipe' });
    onInterrupt.add(umount);
    const rig = new Rig(ctx, 'dsk', join(mnt, 'root'));
    /** How long a terminal status may take (a stuck deployment costs this much). */
    const wait = ctx.quick ? 15_000 : 30_000;
    const filler = join(mnt, 'filler');
    try {
      await rig.open();
      for (let rep = 0; rep < ctx.reps(3, 1); rep++) {
        const okDownload = await download.inject(async () => {
          const previous = rig.current;
          const free0 = freeBytes(mnt);
          const retries0 = engineRetries(rig);
          const d = await rig.deployNew({ artifactBytes: 64 * 2 ** 20 });
          const downloads = join(rig.root, 'packages', '.downloads');
          const outcome = await settle(rig, d, previous, wait).catch((e: Error) => {
            // evidence, then what an operator would do so that the next faults start from a usable device
            const left = du(downloads);
            const retries = engineRetries(rig) - retries0;
            rmSync(downloads, { recursive: true, force: true });
            throw new Error(
              `${e.message}; ${Math.round(left / 2 ** 20)} MiB of partial download left in packages/.downloads, ` +
                `the disk stayed full, the deployment engine logged 'ENOSPC ... retrying in 1 s' ${retries}x`,
            );
          });
          check(
            outcome.startsWith('FAILED'),
            `a 64 MiB download into ${Math.round(free0 / 2 ** 20)} MiB free ended ${outcome}`,
          );
          check(/ENOSPC|no space|disk/i.test(outcome), `the failure does not name the full disk: ${outcome}`);
          download.note(outcome.slice(0, 200));
          const partial = join(
            rig.root,
            'packages',
            '.downloads',
            'artifacts',
            rig.svc,
            d.version,
            'data.bin',
          );
          check(!existsSync(partial), `the partial download ${partial} was left on the full disk`);
          const free1 = freeBytes(mnt);
          download.measure('free space after, vs before', Math.round((free1 - free0) / 1024), 'KiB');
          check(
            free1 > free0 - 2 ** 20,
            `${Math.round((free0 - free1) / 2 ** 20)} MiB of the disk stayed used after the failure`,
          );
          await restartReloads(rig);
        });
        if (!okDownload) await rig.resync(download, true);
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
          execFileSync('umount', [mnt], { stdio: 'pipe' });
        } catch (e) {
          ctx.log(`umount ${mnt}: ${(e as Error).message}`);
        }
    }
  },
};
export default family;
