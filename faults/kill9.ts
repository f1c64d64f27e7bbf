// kill -9 of the nucleus at ten instants of a cloud deployment, each found the way the crash tests
// find them (test/e2e/deployment-crash.test.ts): by watching the root's files and logs, and here the
// job traffic on the broker. After each kill the nucleus is started again on the same root and the
// rig's checks run: one correct terminal status in the cloud, the service converged, no orphan
// process or cgroup, store and tlog consistent [DP-33][DP-35][DP-52][DP-54][DP-55][DP-59][DP-64][DP-68].
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { FaultFamily, FamilyContext } from './lib/family.js';
import { readText } from './lib/proc.js';
import { NotInjected } from './lib/report.js';
import { cleanStop, Rig, type Deployed, type Expected } from './lib/rig.js';

const BIG = 48 * 2 ** 20;
const count = (text: string, needle: string) => text.split(needle).length - 1;

interface KillPoint {
  name: string;
  /** How the deployment is made: a big artifact (download, import), a broken version (rollback). */
  shape: { artifactBytes?: number; broken?: boolean; installSeconds?: number };
  /** True once the instant is reached; `before` is the service log when the deployment was created. */
  reached(rig: Rig, d: Deployed, before: string): boolean;
}

const size = (f: string) => {
  try {
    return statSync(f).size;
  } catch {
    return -1;
  }
};

const POINTS: KillPoint[] = [
  {
    name: 'job queued on the device, nothing reported',
    shape: {},
    reached: (rig, d) => rig.nucleus.log().includes(`jobs: job ${d.jobId} queued`),
  },
  {
    name: 'right after IN_PROGRESS was published',
    shape: {},
    reached: (rig, d) => rig.observer.traffic(d.jobId).published.includes('IN_PROGRESS'),
  },
  {
    name: 'artifact download half way',
    shape: { artifactBytes: BIG },
    reached: (rig, d) => {
      const f = join(rig.root, 'packages', '.downloads', 'artifacts', rig.svc, d.version, 'data.bin');
      const n = size(f);
      return n > 0 && n < BIG;
    },
  },
  {
    name: 'artifact import (staging folder)',
    shape: { artifactBytes: BIG },
    reached: (rig) => readdirSync(join(rig.root, 'packages')).some((n) => n.startsWith('.staging-')),
  },
  {
    name: 'right after the rollback snapshot',
    shape: {},
    reached: (rig, d) =>
      existsSync(join(rig.root, 'deployments', encodeURIComponent(d.deploymentId), 'rollback_snapshot.tlog')),
  },
  {
    name: 'new services written to the tlog, before convergence',
    shape: {},
    reached: (rig, d) => readText(join(rig.root, 'config', 'config.tlog')).includes(`"${d.message}"`),
  },
  {
    name: 'install step of the new version running',
    shape: { installSeconds: 1 },
    reached: (rig, d, before) =>
      count(rig.svcLog(), `install-begin ${d.version}`) > count(before, `install-begin ${d.version}`),
  },
  {
    name: 'new version running, before the deployment settled',
    shape: {},
    reached: (rig, d) => rig.svcLog().includes(`run ${d.version} `),
  },
  {
    name: 'rollback of a failed version (previous version reinstalling)',
    shape: { broken: true, installSeconds: 1 },
    reached: (rig, d, before) =>
      rig.svcLog().includes(`run ${d.version}`) &&
      count(rig.svcLog(), `install-begin ${rig.current.version}`) >
        count(before, `install-begin ${rig.current.version}`),
  },
  {
    name: 'right after the terminal status was published',
    shape: {},
    reached: (rig, d) => rig.observer.terminalPublished(d.jobId).length > 0,
  },
];

const family: FaultFamily = {
  name: 'kill9',
  title: 'kill -9 of the nucleus during cloud deployments',
  async run(ctx: FamilyContext) {
    const reps = ctx.reps(5, 1);
    const rig = new Rig(ctx, 'k9');
    const faults = POINTS.map((p) =>
      ctx.fault(
        `kill -9 at: ${p.name}`,
        'restart converges; one terminal status accepted by the cloud; no orphan process or cgroup; store and tlog consistent',
      ),
    );
    try {
      await rig.open();
      for (let rep = 0; rep < reps; rep++) {
        for (const [i, point] of POINTS.entries()) {
          const fault = faults[i];
          // an instant can be missed (the stage was quicker than the polling): try again, up to 3 times
          for (let attempt = 0; attempt < 3; attempt++) {
            const missedBefore = fault.missed;
            const ok = await fault.inject(async () => {
              const before = rig.svcLog();
              const previous = rig.current;
              const d = await rig.deployNew(point.shape);
              const want: Expected = point.shape.broken
                ? { status: 'FAILED', version: previous.version, message: previous.message }
                : { status: 'SUCCEEDED', version: d.version, message: d.message };
              const t0 = Date.now();
              let hit = false;
              while (Date.now() - t0 < 60_000 && !hit) {
                hit = point.reached(rig, d, before);
                if (!hit && rig.observer.terminalPublished(d.jobId).length > 0) break; // too late now
                if (!hit) await new Promise((r) => setTimeout(r, 1));
              }
              if (!hit) {
                await rig.verify(d, want); // it ran without the fault
                throw new NotInjected('the deployment passed it before the poll saw it');
              }
              await rig.nucleus.kill9();
              ctx.log(`  kill -9 at "${point.name}" (${d.deploymentId})`);
              const t1 = Date.now();
              await rig.nucleus.start();
              const notes = await rig.verify(d, want);
              fault.measure('restart to converged', (Date.now() - t1) / 1000, 's');
              for (const n of notes) fault.note(n);
            });
            if (ok) break;
            if (fault.missed === missedBefore) {
              await rig.resync(fault); // a failed check: the device is taken as it is
              break;
            }
          }
        }
      }
      const stop = ctx.fault(
        'clean stop after the kills',
        'exit 0 on SIGTERM; no process, cgroup or torn tlog left',
      );
      await stop.inject(() => cleanStop(rig));
    } finally {
      await rig.close();
    }
  },
};
export default family;
