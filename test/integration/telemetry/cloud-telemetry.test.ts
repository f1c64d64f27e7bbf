// Cloud telemetry end to end [CL-80][CF-43]: a real nucleus publishes its aggregation over MQTT to
// the real local cloud, which keeps one message per thing and period end; across a nucleus restart
// every period is published once and none is skipped.
import { expect } from 'chai';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import yaml from 'js-yaml';
import { readTelemetry } from '../../../src/localcloud/device/telemetry.js';
import { Nucleus } from '../../../src/nucleus/index.js';
import { eventually, startCloudHarness, type CloudHarness } from '../iot/helpers.js';

const THING = 'telemetry-core';
const PUBLISH_MS = 3000;

describe('telemetry to the local cloud across a nucleus restart', function () {
  this.timeout(90000);
  let h: CloudHarness;
  let nucleus: Nucleus | undefined;
  let root: string;
  let init: string;

  before(async () => {
    h = await startCloudHarness();
    const device = join(h.dir, 'device');
    const p = await h.cloud.provision({ thingName: THING, outDir: device });
    const conf = yaml.load(readFileSync(p.configPath, 'utf8')) as {
      services: Record<string, { configuration: Record<string, unknown> }>;
    };
    conf.services['aws.greengrass.Nucleus'].configuration.telemetry = {
      localPublishIntervalSeconds: 0.5,
      periodicAggregateMetricsIntervalSeconds: 1,
      periodicPublishMetricsIntervalSeconds: PUBLISH_MS / 1000,
    };
    init = join(device, 'init.yaml');
    writeFileSync(init, yaml.dump(conf));
    root = join(h.dir, 'root');
  });
  after(async () => {
    await nucleus?.stop();
    await h?.close();
  });

  const stored = () => readTelemetry(join(h.dir, 'cloud'), THING);

  it('publishes each period once, on $aws/things/<thing>/greengrass/health/json, before and after a restart', async () => {
    nucleus = await Nucleus.start({ root, initConfigFile: init });
    await eventually(
      'a first telemetry message in the cloud',
      () => stored().length >= 1 || undefined,
      30000,
    );
    await nucleus.stop();
    nucleus = undefined;
    const beforeRestart = stored().map((t) => t.timestamp);

    nucleus = await Nucleus.start({ root });
    await eventually(
      'two more messages after the restart',
      () => stored().length >= beforeRestart.length + 2 || undefined,
      30000,
    );
    const all = stored();
    const ts = all.map((t) => t.timestamp);
    // one per period end, on the boundaries anchored at the first start: nothing doubled; the period
    // open at the stop is published after the restart (periods while the nucleus was down collapse)
    expect(new Set(ts).size).to.equal(ts.length);
    for (let i = 1; i < ts.length; i++) {
      expect(ts[i] - ts[i - 1], `period ${i}`).to.be.above(0);
      expect((ts[i] - ts[0]) % PUBLISH_MS, `period ${i} on a boundary`).to.equal(0);
    }
    const msg = all[all.length - 1].message;
    const metrics = msg.ADP.flatMap((p) => p.M.map((m) => `${p.NS}/${String(m.N)}`));
    expect(metrics).to.include.members([
      'SystemMetrics/CpuUsage',
      'SystemMetrics/SystemMemUsage',
      'SystemMetrics/TotalNumberOfFDs',
      'GreengrassComponents/NumberOfComponentsRunning',
    ]);
  });
});
