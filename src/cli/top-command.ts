// `tendril top [--root DIR] [--once] [--interval S]`: the nucleus's last telemetry sample, read from
// <root>/telemetry/latest.json (written by the nucleus on every sample, owner only), redrawn live:
// system CPU, memory and open file descriptors, components per state, and each component's state,
// version, CPU and memory over its process tree.
// `tendril top --localcloud DIR --thing T`: the telemetry messages a local cloud received from T.
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { readTelemetry } from '../localcloud/device/telemetry.js';
import { readLatestSample, type TelemetrySample } from '../telemetry/index.js';
import { UsageError, type Command } from './command.js';

const mb = (b: number | null) => (b === null ? '-' : `${(b / 1048576).toFixed(1)} MB`);
const pct = (p: number | null) => (p === null ? '-' : `${p.toFixed(1)}%`);

/** The sample as a table (pure, for tests and the live view). */
export function formatSample(s: TelemetrySample): string {
  const counts = Object.entries(s.stateCounts)
    .filter(([, n]) => n > 0)
    .map(([st, n]) => `${st} ${n}`)
    .join(', ');
  const lines = [
    `sample at ${new Date(s.timestamp).toISOString()}`,
    `system: cpu ${pct(s.system.cpuPercent)}, memory ${mb(s.system.memoryUsedBytes)} of ${mb(s.system.memoryTotalBytes)}, open fds ${s.system.openFileDescriptors}`,
    `components: ${counts || 'none'}`,
    '',
  ];
  const rows = [
    ['COMPONENT', 'VERSION', 'STATE', 'CPU', 'MEMORY', 'PROCS'],
    ...s.components.map((c) => [
      c.componentName,
      c.version || '-',
      c.state,
      pct(c.cpuPercent),
      mb(c.memoryBytes),
      String(c.processCount),
    ]),
  ];
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  for (const r of rows)
    lines.push(
      r
        .map((v, i) => v.padEnd(widths[i]))
        .join('  ')
        .trimEnd(),
    );
  return lines.join('\n') + '\n';
}

function positiveSeconds(v: unknown): number {
  if (v === undefined) return 2;
  const n = Number(v);
  if (typeof v !== 'string' || !Number.isFinite(n) || n <= 0)
    throw new UsageError(`--interval must be a positive number of seconds, got '${String(v)}'`);
  return n;
}

export const topCommand: Command = {
  name: 'top',
  summary: "a running nucleus's telemetry, refreshed live, or the telemetry a local cloud received",
  usage: 'top [--root DIR] [--once] [--interval S] | top --localcloud DIR --thing NAME',
  options: {
    root: { type: 'string', short: 'r' },
    once: { type: 'boolean' },
    interval: { type: 'string' },
    localcloud: { type: 'string' },
    thing: { type: 'string' },
  },
  optionHelp: {
    root: 'the Greengrass root directory (default ~/.greengrass)',
    once: 'print the last sample once and exit',
    interval:
      'seconds between redraws (default 2); the nucleus samples every telemetry.localPublishIntervalSeconds',
    localcloud: "a local cloud's data directory: print the telemetry messages it received",
    thing: 'with --localcloud: the core device thing name',
  },
  details:
    'The nucleus writes each sample to <root>/telemetry/latest.json and publishes it on $local/greengrass/telemetry.',
  async run(values) {
    if (values.localcloud !== undefined) {
      const thing = values.thing;
      if (typeof thing !== 'string' || thing === '')
        throw new UsageError('--thing NAME is required with --localcloud');
      const rows = readTelemetry(resolve(String(values.localcloud)), thing);
      if (rows.length === 0) process.stdout.write(`no telemetry received from ${thing}\n`);
      for (const r of rows) {
        process.stdout.write(
          `${new Date(r.timestamp).toISOString()} (received ${new Date(r.receivedMs).toISOString()})\n`,
        );
        for (const p of r.message.ADP)
          for (const m of p.M)
            process.stdout.write(
              `  ${p.NS} ${String(m.N)}: avg ${String(m.Avg ?? '-')} max ${String(m.Max ?? '-')} ${String(m.U ?? '')}\n`,
            );
      }
      return 0;
    }
    if (values.thing !== undefined) throw new UsageError('--thing goes with --localcloud');
    const dir = join(resolve(String(values.root ?? join(homedir(), '.greengrass'))), 'telemetry');
    const intervalMs = positiveSeconds(values.interval) * 1000;
    const draw = async (clear: boolean) => {
      const s = await readLatestSample(dir);
      const text = s ? formatSample(s) : `no sample yet in ${dir} (is the nucleus running?)\n`;
      process.stdout.write((clear ? '\x1b[2J\x1b[H' : '') + text);
      return s !== undefined;
    };
    if (values.once) return (await draw(false)) ? 0 : 1;
    await new Promise<void>((done) => {
      const timer = setInterval(() => void draw(true), intervalMs);
      void draw(true);
      const stop = () => {
        clearInterval(timer);
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
        done();
      };
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
    });
    return 0;
  },
};
