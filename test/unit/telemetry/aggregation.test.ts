// Pure parts of telemetry: /proc parsing, state counts, windows, the cloud message, the period
// schedule and the CF-43 settings.
import { expect } from 'chai';
import {
  cloudMessage,
  countStates,
  cpuPercent,
  dueWork,
  nextBoundaryAt,
  parseCpuLine,
  parseMeminfo,
  parseProcStat,
  parseTelemetrySettings,
  processTree,
  samplePoints,
  systemCpuPercent,
  telemetryTopic,
  WindowAccumulator,
  type ProcEntry,
  type TelemetrySample,
} from '../../../src/telemetry/index.js';

const sample = (over: Partial<TelemetrySample> = {}): TelemetrySample => ({
  timestamp: 1000,
  system: {
    cpuPercent: 25,
    memoryUsedBytes: 512 * 1048576,
    memoryTotalBytes: 1 << 30,
    openFileDescriptors: 900,
  },
  stateCounts: countStates(['RUNNING', 'RUNNING', 'BROKEN']),
  components: [],
  ...over,
});

describe('telemetry: parsing /proc', () => {
  it('reads ppid, utime+stime and rss from a stat line whose command holds spaces and parentheses', () => {
    const line =
      '4242 (my (odd) cmd) S 17 4242 4242 0 -1 4194560 100 0 0 0 300 45 0 0 20 0 3 0 999 123456789 2560 18446744073709551615';
    expect(parseProcStat(line, 4096)).to.deep.equal({
      pid: 4242,
      ppid: 17,
      cpuTicks: 345,
      rssBytes: 2560 * 4096,
    });
  });

  it('sums a process tree from any root, through grandchildren, not siblings', () => {
    const e = (pid: number, ppid: number): ProcEntry => ({ pid, ppid, cpuTicks: pid, rssBytes: 1 });
    const table = new Map([e(1, 0), e(10, 1), e(11, 10), e(12, 11), e(20, 1)].map((x) => [x.pid, x]));
    expect(
      processTree(table, 10)
        .map((p) => p.pid)
        .sort(),
    ).to.deep.equal([10, 11, 12]);
    expect(processTree(table, 99)).to.deep.equal([]);
  });

  it('system CPU is busy/total between two /proc/stat readings; memory used is total - available', () => {
    const a = parseCpuLine('cpu  100 0 100 700 100 0 0 0 0 0\ncpu0 1 2 3');
    const b = parseCpuLine('cpu  200 0 200 1200 200 0 0 0 0 0\n');
    expect(a).to.deep.equal({ totalTicks: 1000, idleTicks: 800 });
    const counters = (c: typeof a) => ({
      ...c,
      memoryTotalBytes: 0,
      memoryUsedBytes: 0,
      openFileDescriptors: 0,
    });
    expect(systemCpuPercent(counters(a), counters(b))).to.equal(25);
    expect(systemCpuPercent(undefined, counters(b))).to.equal(null);
    expect(parseMeminfo('MemTotal:  1000 kB\nMemFree: 10 kB\nMemAvailable:  400 kB\n')).to.deep.equal({
      memoryTotalBytes: 1000 * 1024,
      memoryUsedBytes: 600 * 1024,
    });
  });

  it('component CPU is percent of one core; a tree that lost processes never goes negative', () => {
    expect(cpuPercent(0, 2e9, 1000)).to.equal(200);
    expect(cpuPercent(undefined, 5, 1000)).to.equal(null);
    expect(cpuPercent(5e9, 1e9, 1000)).to.equal(0);
  });
});

describe('telemetry: aggregation and the cloud message [CL-80]', () => {
  it('counts every lifecycle state, zero included', () => {
    const c = countStates(['RUNNING', 'FINISHED', 'RUNNING']);
    expect(c.RUNNING).to.equal(2);
    expect(c.FINISHED).to.equal(1);
    expect(c.BROKEN).to.equal(0);
    expect(Object.keys(c)).to.include.members(['NEW', 'INSTALLED', 'STARTING', 'STOPPING', 'ERRORED']);
  });

  it('a sample yields SystemMetrics and GreengrassComponents points', () => {
    const pts = samplePoints(sample());
    const find = (n: string) => pts.find((p) => p.name === n);
    expect(find('CpuUsage')).to.deep.include({ namespace: 'SystemMetrics', unit: 'Percent', value: 25 });
    expect(find('SystemMemUsage')).to.deep.include({ unit: 'Megabytes', value: 512 });
    expect(find('TotalNumberOfFDs')).to.deep.include({ unit: 'Count', value: 900 });
    expect(find('NumberOfComponentsRunning')).to.deep.include({
      namespace: 'GreengrassComponents',
      value: 2,
    });
    expect(find('NumberOfComponentsBroken')?.value).to.equal(1);
    expect(
      samplePoints(sample({ system: { ...sample().system, cpuPercent: null } })).some(
        (p) => p.name === 'CpuUsage',
      ),
    ).to.equal(false);
  });

  it('a window aggregates Sum/Avg/Max/Min per namespace and metric, and survives a snapshot', () => {
    const w = new WindowAccumulator();
    w.add([{ namespace: 'aws.greengrass.X', name: 'Bytes', unit: 'Bytes', value: 10 }]);
    const copy = WindowAccumulator.from(JSON.parse(JSON.stringify(w.snapshot())));
    copy.add([{ namespace: 'aws.greengrass.X', name: 'Bytes', unit: 'Bytes', value: 30 }]);
    const [adp] = copy.close(5000);
    expect(adp).to.deep.equal({
      TS: 5000,
      NS: 'aws.greengrass.X',
      M: [{ N: 'Bytes', U: 'Bytes', Sum: 40, Avg: 20, Max: 30, Min: 10 }],
    });
    expect(copy.empty).to.equal(true);
    expect(cloudMessage([], 1)).to.equal(undefined);
    expect(cloudMessage([adp], 9000)).to.deep.equal({ TS: 9000, ADP: [adp] });
    expect(telemetryTopic('Core1')).to.equal('$aws/things/Core1/greengrass/health/json');
  });
});

describe('telemetry: periods [CF-43]', () => {
  const iv = { aggregateMs: 100, publishMs: 300 };

  it('nothing is due inside a window; the next boundary is the nearer of the two periods', () => {
    const d = dueWork({ aggregateFrom: 0, publishFrom: 0 }, iv, 99);
    expect(d.closeWindowAt).to.equal(undefined);
    expect(d.publishAt).to.equal(undefined);
    expect(nextBoundaryAt({ aggregateFrom: 0, publishFrom: 0 }, iv, 99)).to.equal(100);
    expect(nextBoundaryAt({ aggregateFrom: 200, publishFrom: 0 }, iv, 250)).to.equal(300);
  });

  it('a window closes at its boundary; a publication boundary closes the window and publishes', () => {
    expect(dueWork({ aggregateFrom: 0, publishFrom: 0 }, iv, 150)).to.deep.equal({
      closeWindowAt: 100,
      next: { aggregateFrom: 100, publishFrom: 0 },
    });
    expect(dueWork({ aggregateFrom: 200, publishFrom: 0 }, iv, 300)).to.deep.equal({
      closeWindowAt: 300,
      publishAt: 300,
      next: { aggregateFrom: 300, publishFrom: 300 },
    });
  });

  it('after a long stop the overdue period is published once, at the last boundary passed', () => {
    const d = dueWork({ aggregateFrom: 0, publishFrom: 0 }, iv, 1050);
    expect(d.publishAt).to.equal(900);
    expect(d.next).to.deep.equal({ aggregateFrom: 1000, publishFrom: 900 });
    const again = dueWork(d.next, iv, 1060);
    expect(again.publishAt).to.equal(undefined);
  });

  it('a clock set back re-anchors the periods at now instead of waiting', () => {
    expect(dueWork({ aggregateFrom: 5000, publishFrom: 5000 }, iv, 1000).next).to.deep.equal({
      aggregateFrom: 1000,
      publishFrom: 1000,
    });
  });

  it('[CF-43] settings: defaults 3600 s / 86400 s, enabled unless false; Tendril samples every 60 s', () => {
    expect(parseTelemetrySettings(undefined)).to.deep.equal({
      enabled: true,
      aggregateIntervalMs: 3600_000,
      publishIntervalMs: 86400_000,
      sampleIntervalMs: 60_000,
    });
    expect(
      parseTelemetrySettings({
        Enabled: 'false',
        periodicAggregateMetricsIntervalSeconds: '10',
        periodicPublishMetricsIntervalSeconds: 20,
        localPublishIntervalSeconds: 0.5,
      }),
    ).to.deep.equal({
      enabled: false,
      aggregateIntervalMs: 10_000,
      publishIntervalMs: 20_000,
      sampleIntervalMs: 500,
    });
    expect(parseTelemetrySettings({ periodicPublishMetricsIntervalSeconds: -5 }).publishIntervalMs).to.equal(
      86400_000,
    );
  });
});
