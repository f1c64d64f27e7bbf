// The cloud side goes away or the network to it breaks, while the nucleus works:
// - the local cloud process is killed with SIGKILL (the embedded MQTT broker lives in it, with the data
//   and control planes) during a deployment and in steady state, and started again on the same ports;
// - the local cloud is restarted gracefully (SIGTERM) during a deployment;
// - the network to the data plane drops requests, and the artifact download is cut twice mid-stream
//   (lib/proxy.ts: the nucleus's data-plane endpoint points at a proxy).
// Each deployment must still end with one correct terminal status and a converged device (Rig.verify)
// [CL-23][CL-37][CL-71][CL-75][DP-64][DP-68].
import type { Device } from './lib/cloud.js';
import type { FaultFamily, FamilyContext } from './lib/family.js';
import { sleep, until } from './lib/proc.js';
import { CuttingProxy, DataPlaneProxy } from './lib/proxy.js';
import { check } from './lib/report.js';
import { cleanStop, Rig, type Deployed } from './lib/rig.js';

const OPERATION_TIMEOUT_MS = 10_000;
const connectedLines = (rig: Rig) => rig.nucleus.log().split('mqtt: connected to').length - 1;

/** Seconds from the cloud's restart until the nucleus logged a new MQTT connection. */
async function reconnectSeconds(rig: Rig, before: number, restartedAt: number): Promise<number> {
  await until('the nucleus to reconnect to the broker', () => connectedLines(rig) > before, 120_000, 20);
  return (Date.now() - restartedAt) / 1000;
}

const family: FaultFamily = {
  name: 'network',
  title:
    'Broker and local cloud killed or restarted; network to the data plane cut (nucleus mqtt.operationTimeoutMs 10 s, maximumReconnectDelaySeconds 10)',
  async run(ctx: FamilyContext) {
    const reps = ctx.reps(3, 1);
    const rig = new Rig(ctx, 'net');
    const download = new CuttingProxy(() => ({
      host: '127.0.0.1',
      port: Number(new URL(rig.cloud.ep.controlPlane).port),
    }));
    let dataPlane: DataPlaneProxy | undefined;
    const expect =
      'one correct terminal status accepted by the cloud; service converged; no orphan; store and tlog consistent';
    try {
      await download.listen();
      await rig.open(async (device: Device, nucleus: Record<string, unknown>) => {
        dataPlane = new DataPlaneProxy(rig.cloud.dataDir, device, () => rig.cloud.ep.dataPlanePort, download);
        await dataPlane.listen();
        nucleus.greengrassDataPlanePort = dataPlane.port;
        // a reply lost with the broker is waited for this long before the update is sent again; and
        // the reconnect delay, which grows while the broker keeps going away, is capped at 10 s
        // (default 120 s: after a few restarts in a row the device stays offline up to 2 minutes)
        Object.assign(nucleus.mqtt as object, {
          operationTimeoutMs: OPERATION_TIMEOUT_MS,
          maximumReconnectDelaySeconds: 10,
        });
      });
      check(dataPlane!.rewritten > 0, 'the first deployment did not download through the proxy');
      const succeeded = (d: Deployed) => ({
        status: 'SUCCEEDED' as const,
        version: d.version,
        message: d.message,
      });

      const duringKill = ctx.fault(
        'local cloud process (with the broker) killed -9 during a deployment, back after 2 s',
        expect,
      );
      const steady = ctx.fault(
        'local cloud process (with the broker) killed -9 in steady state, back after 2 s; then a deployment',
        `the nucleus reconnects; the next deployment: ${expect}`,
      );
      const graceful = ctx.fault(
        'local cloud restarted (SIGTERM) during a deployment, back after 2 s',
        expect,
      );
      const frozen = ctx.fault(
        'local cloud frozen (SIGSTOP) while the device publishes its terminal status, then killed -9 and restarted',
        `the status lost with the connection is sent again; ${expect}`,
      );
      const cut = ctx.fault(
        'data plane: 2 requests dropped, then the artifact download (48 MB) cut twice mid-stream',
        `the requests are retried and the download resumed; ${expect}`,
      );
      for (let rep = 0; rep < reps; rep++) {
        for (const [fault, how] of [
          [duringKill, 'kill9'],
          [graceful, 'stop'],
        ] as const) {
          const ok = await fault.inject(async () => {
            const d = await rig.deployNew({ installSeconds: 2 });
            await until('the device to report IN_PROGRESS', () =>
              rig.observer.traffic(d.jobId).published.includes('IN_PROGRESS'),
            );
            const before = connectedLines(rig);
            if (how === 'kill9') await rig.cloud.kill9();
            else await rig.cloud.stop();
            await sleep(2000);
            await rig.cloud.start();
            const t0 = Date.now();
            fault.measure('reconnect after the restart', await reconnectSeconds(rig, before, t0), 's');
            await rig.cloud.terminal(rig.device, d.deploymentId);
            fault.measure('restart to the terminal status in the cloud', (Date.now() - t0) / 1000, 's');
            for (const n of await rig.verify(d, succeeded(d))) fault.note(n);
          });
          if (!ok) await rig.resync(fault);
        }
        const ok = await steady.inject(async () => {
          const before = connectedLines(rig);
          await rig.cloud.kill9();
          await sleep(2000);
          await rig.cloud.start();
          steady.measure('reconnect after the restart', await reconnectSeconds(rig, before, Date.now()), 's');
          const d = await rig.deployNew({});
          for (const n of await rig.verify(d, succeeded(d))) steady.note(n);
        });
        if (!ok) await rig.resync(steady);
        const ok3 = await frozen.inject(async () => {
          const d = await rig.deployNew({ installSeconds: 1 });
          await until(
            'the cloud to accept IN_PROGRESS',
            () => rig.observer.traffic(d.jobId).replies.length > 0,
          );
          rig.cloud.freeze();
          await until(`${d.version} to run`, () => rig.svcLog().includes(`run ${d.version} `), 60_000);
          await sleep(2000); // the deployment settles (0.5 s) and its terminal status goes out
          await rig.cloud.kill9();
          await sleep(1000);
          await rig.cloud.start();
          const t0 = Date.now();
          await rig.cloud.terminal(rig.device, d.deploymentId);
          frozen.measure('restart to the terminal status in the cloud', (Date.now() - t0) / 1000, 's');
          for (const n of await rig.verify(d, succeeded(d))) frozen.note(n);
        });
        if (!ok3) await rig.resync(frozen);
        const ok2 = await cut.inject(async () => {
          const dp = dataPlane!;
          const [requests, dropped, cuts, ranges] = [
            dp.requests,
            dp.dropped,
            download.cut,
            download.requests.length,
          ];
          dp.dropNext = 2;
          download.cutAfter = [8 * 2 ** 20, 20 * 2 ** 20];
          const t0 = Date.now();
          const d = await rig.deployNew({ artifactBytes: 48 * 2 ** 20 });
          for (const n of await rig.verify(d, succeeded(d))) cut.note(n);
          check(
            dp.dropped - dropped === 2,
            `${dp.dropped - dropped} data-plane requests dropped, expected 2`,
          );
          check(download.cut - cuts === 2, `${download.cut - cuts} downloads cut, expected 2`);
          const resumed = download.requests
            .slice(ranges)
            .filter((r) => r.range)
            .map((r) => r.range);
          check(resumed.length >= 2, `${resumed.length} resumed (Range) requests after 2 cuts`);
          cut.measure('data-plane requests for the deployment', dp.requests - requests, '');
          cut.measure('deployment with the faults', (Date.now() - t0) / 1000, 's');
          cut.note(`resumed with ${resumed.join(', ')}`);
        });
        if (!ok2) await rig.resync(cut);
        dataPlane!.dropNext = 0;
        download.cutAfter = [];
      }
      const stop = ctx.fault(
        'clean stop after the network faults',
        'exit 0 on SIGTERM; no process, cgroup or torn tlog left',
      );
      await stop.inject(() => cleanStop(rig));
    } finally {
      await rig.close();
      await dataPlane?.close();
      await download.close();
    }
  },
};
export default family;
