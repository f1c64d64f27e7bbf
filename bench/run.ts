// `npm run bench [-- --quick] [-- --only NAME]`: runs every bench/*.bench.ts suite and rewrites
// bench/RESULTS.md with the machine, Node version, date and each figure beside its floor.
import { readdirSync, writeFileSync, readFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { ratio, type BenchFigure, type BenchSuite } from './harness.js';

const here = dirname(fileURLToPath(import.meta.url));
const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    only: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  },
});
if (values.help) {
  process.stdout.write(
    'Usage: npm run bench -- [--quick] [--only NAME]\n\nRuns bench/*.bench.ts and rewrites bench/RESULTS.md.\n' +
      '  --quick      shorter windows and smaller sizes\n  --only NAME  run only the named suites (bench/NAME.bench.ts; several comma-separated)\n',
  );
  process.exit(0);
}

const files = readdirSync(here)
  .filter((f) => f.endsWith('.bench.ts'))
  .filter((f) => !values.only || values.only.split(',').includes(f.replace(/\.bench\.ts$/, '')))
  .sort();

const fmt = (n: number) => (Math.abs(n) >= 100 ? Math.round(n).toString() : n.toPrecision(3));
const sections: string[] = [];
for (const file of files) {
  const suite = (await import(pathToFileURL(join(here, file)).href)).default as BenchSuite;
  process.stdout.write(`== ${suite.title} (${file})\n`);
  const figures: BenchFigure[] = await suite.run({ quick: values.quick });
  const rows = figures.map((f) => {
    const r = ratio(f);
    const line = `| ${f.name} | ${fmt(f.value)} ${f.unit} | ${f.floor ? `${f.floor.name}: ${fmt(f.floor.value)} ${f.unit}` : '-'} | ${r === undefined ? '-' : `${r.toFixed(2)}x`} | ${f.target ?? '-'} |`;
    process.stdout.write(line + '\n');
    return line;
  });
  sections.push(
    [
      `### ${suite.title}`,
      '',
      `Measured ${new Date().toISOString().slice(0, 10)}${values.quick ? ' with --quick' : ''} on ${cpus()[0]?.model ?? 'unknown cpu'}, ${cpus().length} cores.`,
      '',
      '| figure | value | floor (same run) | ratio to floor | target |',
      '|---|---|---|---|---|',
      ...rows,
    ].join('\n'),
  );
}

// Sections kept from an earlier run (--only) say on which machine they were measured.
const cpu = cpus()[0]?.model ?? 'unknown cpu';
const header = [
  '# Benchmark results',
  '',
  `Machine: ${cpu}, ${cpus().length} cores, ${(totalmem() / 2 ** 30).toFixed(0)} GiB; Node ${process.version}; ` +
    `${new Date().toISOString().slice(0, 10)}${values.quick ? '; --quick' : ''}.`,
  '',
  'Ratio to floor: how many times slower (or larger) than the floor measured in the same run; 1.00x is the floor.',
  '',
].join('\n');
const out = join(here, 'RESULTS.md');
let body = sections.join('\n\n') + '\n';
if (values.only) {
  // Keep other suites' sections from the previous file when only some ran.
  try {
    const old = readFileSync(out, 'utf8');
    const kept = old
      .split(/\n(?=### )/)
      .slice(1)
      .filter((s) => !sections.some((n) => n.split('\n')[0] === s.split('\n')[0]));
    body = [...kept.map((s) => s.trim()), ...sections].join('\n\n') + '\n';
  } catch {
    /* no previous results */
  }
}
writeFileSync(out, header + '\n' + body);
process.stdout.write(`wrote ${out}\n`);
