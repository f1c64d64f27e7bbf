// Telemetry of a real nucleus (issue 10): a component burning CPU and one holding 100 MB show up on
// `$local/greengrass/telemetry` (read through the official IPC client with a pubsub policy) with
// figures within 20% of what /proc says for their process trees, through the component's cgroup
// (as root) and through the nucleus's process tree (no cgroup); state counts follow transitions;
// PutComponentMetric accepted and refused [IPC-66][IPC-101].
import { expect } from 'chai';
import { readdirSync, readFileSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { greengrasscoreipc } from 'aws-iot-device-sdk-v2';
import { Nucleus } from '../../../src/nucleus/index.js';
import { readAgentState, type TelemetrySample } from '../../../src/telemetry/index.js';
import { waitFor } from '../../support/daemon.js';
import { errorCode, errorMessage, officialClient, rpcError, type Client } from '../../support/ipc-client.js';

const tag = `${process.pid % 100000}`;
const BURN = `tlmburn${tag}`;
const HOLD = `tlmhold${tag}`;
const METRICS = 'aws.greengrass.TelemetryTest';
const TICKS = 100; // CLK_TCK on Linux

/** Pids of the processes whose command line holds `marker`, and all their descendants. */
function treeOf(marker: string): number[] {
  const parent = new Map<number, number>();
  const roots: number[] = [];
  for (const n of readdirSync('/proc')) {
    if (!/^\d+$/.test(n)) continue;
    try {
      const stat = readFileSync(`/proc/${n}/stat`, 'utf8');
      parent.set(Number(n), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
      if (readFileSync(`/proc/${n}/cmdline`, 'utf8').includes(marker)) roots.push(Number(n));
    } catch {
      /* exited */
    }
  }
  const out = new Set(roots);
  let grew = true;
  while (grew) {
    grew = false;
    for (const [pid, pp] of parent)
      if (!out.has(pid) && out.has(pp)) {
        out.add(pid);
        grew = true;
      }
  }
  return [...out];
}

const rssOf = (pids: number[]) =>
  pids.reduce((sum, p) => {
    try {
      const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${p}/status`, 'utf8'));
      return sum + (m ? Number(m[1]) * 1024 : 0);
    } catch {
      return sum;
    }
  }, 0);

const ticksOf = (pids: number[]) =>
  pids.reduce((sum, p) => {
    try {
      const s = readFileSync(`/proc/${p}/stat`, 'utf8');
      const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
      return sum + Number(f[11]) + Number(f[12]);
    } catch {
      return sum;
    }
  }, 0);

for (const mode of ['cgroup', 'process-tree'] as const) {
  describe(`telemetry of a running nucleus (${mode})`, function () {
    this.timeout(90000);
    let dir: string;
    let nucleus: Nucleus | undefined;
    let client: Client | undefined;
    const samples: Array<{ at: number; sample: TelemetrySample }> = [];

    before(async function () {
      const root = process.getuid?.() === 0;
      if (mode === 'cgroup' && !root) {
        console.log('      skipped: cgroup accounting needs root');
        this.skip();
      }
      dir = mkdtempSync(join(tmpdir(), 'tendril-tlm-'));
      const init = join(dir, 'init.yaml');
      const user = root ? '      runWithDefault: { posixUser: "nobody" }\n' : '';
      writeFileSync(
        init,
        [
          'services:',
          '  aws.greengrass.Nucleus:',
          '    configuration:',
          user +
            '      telemetry: { localPublishIntervalSeconds: 1, periodicAggregateMetricsIntervalSeconds: 2, periodicPublishMetricsIntervalSeconds: 4 }',
          `  ${BURN}:`,
          '    version: 1.0.0',
          `    lifecycle: { run: "sh -c 'while :; do :; done' ${BURN}" }`,
          `  ${HOLD}:`,
          '    version: 2.0.0',
          `    lifecycle: { run: "node -e 'globalThis.b = Buffer.alloc(100 * 1048576, 1); setInterval(() => {}, 1000)' ${HOLD}" }`,
          `  ${METRICS}:`,
          '    version: 1.0.0',
          '    lifecycle: { run: "true" }',
          '    configuration:',
          '      accessControl:',
          '        aws.greengrass.ipc.pubsub:',
          `          tlm-sub-${mode}: { operations: ["aws.greengrass#SubscribeToTopic"], resources: ["$local/greengrass/telemetry"] }`,
          '        aws.greengrass.ipc.componentmetric:',
          `          tlm-put-${mode}: { operations: ["aws.greengrass#PutComponentMetric"], resources: ["allowed*"] }`,
          '',
        ].join('\n'),
      );
      nucleus = await Nucleus.start({
        root: join(dir, 'root'),
        initConfigFile: init,
        cgroupRoot: mode === 'cgroup' ? undefined : join(dir, 'no-cgroupfs'),
      });
      expect(nucleus.resources.version === 'none').to.equal(mode === 'process-tree');
      client = officialClient(nucleus.ipc.plan.absolutePath, nucleus.ipc.tokens.issue(METRICS));
      await client.connect();
      const op = client.subscribeToTopic({ topic: '$local/greengrass/telemetry' });
      op.on('message', (m: greengrasscoreipc.model.SubscriptionResponseMessage) => {
        const sample = m.jsonMessage?.message as TelemetrySample | undefined;
        if (sample) samples.push({ at: performance.now(), sample });
      });
      await op.activate();
    });
    after(async () => {
      await client?.close().catch(() => undefined);
      await nucleus?.stop();
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    const figures = (s: TelemetrySample, name: string) => s.components.find((c) => c.componentName === name);
    const nextSample = async (after: number) =>
      waitFor('a telemetry sample', () =>
        samples.find((s) => s.at > after && figures(s.sample, BURN)?.cpuPercent != null),
      );

    it('a component holding 100 MB shows its process tree resident memory, within 20% of /proc', async () => {
      await waitFor(
        'the holder to touch 100 MB',
        () => rssOf(treeOf(HOLD)) > 100 * 1048576 || undefined,
        30000,
      );
      const s = await nextSample(performance.now());
      const expected = rssOf(treeOf(HOLD));
      const got = figures(s.sample, HOLD)!;
      expect(got.source).to.equal(mode);
      expect(got.version).to.equal('2.0.0');
      expect(got.state).to.equal('RUNNING');
      expect(got.memoryBytes).to.be.within(expected * 0.8, expected * 1.2);
      expect(got.memoryBytes).to.be.above(100 * 1048576);
    });

    it('a component burning CPU shows its CPU over its process tree, within 20% of /proc', async () => {
      const first = await nextSample(performance.now());
      const t0 = ticksOf(treeOf(BURN));
      const seen: number[] = [];
      let last = first;
      for (let i = 0; i < 4; i++) {
        last = await nextSample(last.at);
        seen.push(figures(last.sample, BURN)!.cpuPercent!);
      }
      const t1 = ticksOf(treeOf(BURN));
      const procPercent = ((t1 - t0) / TICKS / ((last.at - first.at) / 1000)) * 100;
      const avg = seen.reduce((a, b) => a + b, 0) / seen.length;
      expect(procPercent, 'the burner runs').to.be.above(10);
      expect(avg).to.be.within(procPercent * 0.8, procPercent * 1.2);
      expect(last.sample.system.cpuPercent).to.be.a('number');
      expect(last.sample.system.memoryTotalBytes).to.be.above(last.sample.system.memoryUsedBytes);
      expect(last.sample.system.openFileDescriptors).to.be.above(0);
    });

    it('state counts follow transitions; latest.json holds the last sample (owner only)', async () => {
      await waitFor('the metrics component FINISHED', () =>
        samples.find((s) => figures(s.sample, METRICS)?.state === 'FINISHED'),
      );
      const before = await nextSample(performance.now());
      expect(before.sample.stateCounts.RUNNING).to.equal(2);
      expect(before.sample.stateCounts.FINISHED).to.equal(1);
      nucleus!.manager.get(BURN)!.requestStop();
      const after = await waitFor('a sample after the stop', () =>
        samples.find(
          (s) =>
            s.at > before.at &&
            figures(s.sample, BURN)?.state !== 'RUNNING' &&
            figures(s.sample, BURN)?.state !== 'STOPPING',
        ),
      );
      const burnState = figures(after.sample, BURN)!.state;
      expect(after.sample.stateCounts.RUNNING).to.equal(1);
      expect(after.sample.stateCounts[burnState]).to.be.at.least(1);
      for (const { sample } of samples) {
        const byState: Record<string, number> = {};
        for (const c of sample.components) byState[c.state] = (byState[c.state] ?? 0) + 1;
        for (const [st, n] of Object.entries(sample.stateCounts)) expect(n).to.equal(byState[st] ?? 0);
      }
      const file = join(nucleus!.paths.telemetry, 'latest.json');
      expect(statSync(file).mode & 0o777).to.equal(0o600);
      const latest = JSON.parse(readFileSync(file, 'utf8')) as TelemetrySample;
      expect(latest.components.map((c) => c.componentName)).to.include.members([BURN, HOLD, METRICS]);
    });

    it('[IPC-66][IPC-101] PutComponentMetric: accepted within policy and merged into the aggregation; refused cases', async () => {
      const unit = greengrasscoreipc.model.MetricUnitType;
      await client!.putComponentMetric({
        metrics: [
          { name: 'allowedJobs', unit: unit.COUNT, value: 4 },
          { name: 'allowedBytes', unit: unit.BYTES, value: 10 },
        ],
      });
      const other = await rpcError(
        client!.putComponentMetric({ metrics: [{ name: 'other', unit: unit.COUNT, value: 1 }] }),
      );
      expect(errorCode(other)).to.equal('UnauthorizedError');
      expect(errorMessage(other)).to.contain('on resource other');
      const bad = await rpcError(
        client!.putComponentMetric({ metrics: [{ name: 'allowedX', unit: unit.COUNT, value: -1 }] }),
      );
      expect(errorCode(bad)).to.equal('InvalidArgumentsError');
      const empty = await rpcError(client!.putComponentMetric({ metrics: [] }));
      expect(errorCode(empty)).to.equal('InvalidArgumentsError');
      const outsider = officialClient(nucleus!.ipc.plan.absolutePath, nucleus!.ipc.tokens.issue(HOLD));
      try {
        await outsider.connect();
        const e = await rpcError(
          outsider.putComponentMetric({ metrics: [{ name: 'allowedJobs', unit: unit.COUNT, value: 1 }] }),
        );
        expect(errorCode(e)).to.equal('UnauthorizedError');
      } finally {
        await outsider.close();
      }
      // the accepted metrics are in the open window or already aggregated, under the caller's namespace
      const state = await readAgentState(nucleus!.paths.telemetry);
      const inWindow = state?.window[METRICS]?.allowedJobs;
      const aggregated = [...(state?.pending ?? []), ...(state?.outbox ?? []).flatMap((m) => m.ADP)]
        .filter((p) => p.NS === METRICS)
        .flatMap((p) => p.M)
        .find((m) => m.N === 'allowedJobs');
      expect(inWindow?.sum ?? aggregated?.Sum).to.equal(4);
      expect(inWindow?.unit ?? aggregated?.U).to.equal('Count');
    });
  });
}
