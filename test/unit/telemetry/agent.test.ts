// The telemetry agent's periods across restarts, on a real directory with an injected clock and
// timers: what was aggregated before a stop is published after it, exactly once per period end.
import { expect } from 'chai';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  countStates,
  readAgentState,
  readLatestSample,
  TelemetryAgent,
  type AgentTimers,
  type CloudTelemetryMessage,
  type TelemetrySample,
  type TelemetrySettings,
} from '../../../src/telemetry/index.js';

const settings: TelemetrySettings = {
  enabled: true,
  sampleIntervalMs: 1000,
  aggregateIntervalMs: 5000,
  publishIntervalMs: 10_000,
};

/** Timers that never fire by themselves: the test drives the agent with step(). */
const manualTimers: AgentTimers = { setTimeout: () => 0, clearTimeout: () => undefined };

describe('telemetry agent: periods survive a restart [CF-43][CL-80]', () => {
  let dir: string;
  let now: number;
  let sent: CloudTelemetryMessage[];
  let online: boolean;
  let local: TelemetrySample[];

  const agent = (s: TelemetrySettings = settings) =>
    new TelemetryAgent({
      dir,
      settings: s,
      now: () => now,
      timers: manualTimers,
      sample: async () => ({
        timestamp: now,
        system: {
          cpuPercent: 10,
          memoryUsedBytes: 1048576,
          memoryTotalBytes: 2 * 1048576,
          openFileDescriptors: 7,
        },
        stateCounts: countStates(['RUNNING']),
        components: [],
      }),
      publishLocal: (s) => local.push(s),
      publishCloud: async (m) => {
        if (!online) throw new Error('offline');
        sent.push(JSON.parse(JSON.stringify(m)) as CloudTelemetryMessage);
      },
      log: () => undefined,
    });

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'tendril-telemetry-'));
    now = 1_000_000;
    sent = [];
    local = [];
    online = true;
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('publishes each period once, with the samples and component metrics of before and after a restart', async () => {
    let a = agent();
    await a.start();
    for (let t = 0; t < 4; t++, now += 1000) await a.step(); // 4 samples in the first window
    await a.putMetrics([{ namespace: 'aws.greengrass.Custom', name: 'Jobs', unit: 'Count', value: 3 }]);
    await a.stop();
    expect(local).to.have.length(4);
    expect(statSync(join(dir, 'latest.json')).mode & 0o777).to.equal(0o600);
    expect((await readLatestSample(dir))?.timestamp).to.equal(now - 1000);

    a = agent(); // restart: the open window and the boundaries come back from agent-state.json
    await a.start();
    now = 1_000_000 + 10_000; // the publication boundary
    await a.step();
    expect(sent).to.have.length(1);
    const msg = sent[0];
    expect(msg.TS).to.equal(1_010_000);
    const custom = msg.ADP.find((p) => p.NS === 'aws.greengrass.Custom');
    expect(custom?.M).to.deep.equal([{ N: 'Jobs', U: 'Count', Sum: 3, Avg: 3, Max: 3, Min: 3 }]);
    const sys = msg.ADP.filter((p) => p.NS === 'SystemMetrics');
    const fds = sys.flatMap((p) => p.M).filter((m) => m.N === 'TotalNumberOfFDs');
    expect(fds.reduce((n, m) => n + m.Sum / 7, 0)).to.equal(5); // 4 samples before + 1 after the restart
    await a.stop();

    a = agent(); // a second restart right after the publication: nothing again
    await a.start();
    now += 1000;
    await a.step();
    await a.stop();
    expect(sent).to.have.length(1);
  });

  it('keeps an unsent message across a restart and sends it once the cloud answers', async () => {
    online = false;
    let a = agent();
    await a.start();
    await a.step();
    now += 10_000;
    await a.step();
    expect(a.pendingMessages).to.have.length(1);
    await a.stop();
    expect((await readAgentState(dir))?.outbox).to.have.length(1);

    online = true;
    a = agent();
    await a.start();
    await a.step();
    await a.stop();
    expect(sent.map((m) => m.TS)).to.deep.equal([1_010_000]);
    expect((await readAgentState(dir))?.outbox).to.deep.equal([]);
  });

  it('[CF-43] telemetry.enabled false: samples still go to the local topic, nothing to the cloud, metrics refused', async () => {
    const a = agent({ ...settings, enabled: false });
    await a.start();
    await a.step();
    now += 20_000;
    await a.step();
    let refused: Error | undefined;
    await a
      .putMetrics([{ namespace: 'aws.x', name: 'n', unit: 'Count', value: 1 }])
      .catch((e: Error) => (refused = e));
    await a.stop();
    expect(local).to.have.length(2);
    expect(sent).to.deep.equal([]);
    expect(refused?.message).to.contain('disabled');
  });
});
