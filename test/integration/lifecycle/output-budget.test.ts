import { expect } from 'chai';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ComponentLogs, componentLogOutput } from '../../../src/lifecycle/component-log.js';
import { ShellProcessLauncher } from '../../../src/lifecycle/process/index.js';
import { DEFAULT_OUTPUT_BUDGET } from '../../../src/lifecycle/process/output-pump.js';
import type { StepLaunch } from '../../../src/lifecycle/types.js';
import { shStep } from '../../support/lifecycle-launcher.js';

const NAME = 'com.example.Flood';

describe('process output under a per-process budget', function () {
  this.timeout(60_000);
  let dir: string;
  let logsDir: string;

  const step = (script: string): StepLaunch => shStep(script, { component: NAME, cwd: dir });

  /** The component's output lines of one stream, oldest file first. */
  function logged(stream: 'stdout' | 'stderr'): string[] {
    const files = fs.readdirSync(logsDir);
    const index = (f: string) => Number(/_(\d+)\.log$/.exec(f)?.[1] ?? Infinity);
    const marker = ` (Copier) ${NAME}: ${stream}. `;
    const out: string[] = [];
    for (const f of files.sort((a, b) => index(a) - index(b))) {
      for (const l of fs.readFileSync(path.join(logsDir, f), 'utf8').split('\n')) {
        const at = l.indexOf(marker);
        if (at >= 0) out.push(l.slice(at + marker.length, l.lastIndexOf('. {scriptName=')));
      }
    }
    return out;
  }

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tendril-flood-'));
    logsDir = path.join(dir, 'logs');
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('[LC-86][LC-93] 200,000 lines written as fast as a process can: every one in the rotated log, in order, with the reads paused on the way', async () => {
    // all files kept, so that none of the lines is rotated away; 1 MB files, as by default
    const logs = new ComponentLogs({ logsDir, fileSizeKB: 1024, totalLogsSizeKB: 1024 * 1024 });
    const launcher = new ShellProcessLauncher({ output: componentLogOutput(logs) });
    const p = await launcher.launch(step('seq 1 20000 >&2 & seq 1 200000; wait'));
    expect(await p.exit).to.deep.equal({ code: 0, signal: null });
    await p.outputDone;
    logs.close();
    const expected = (n: number) => Array.from({ length: n }, (_, i) => String(i + 1));
    const stdout = logged('stdout');
    expect(stdout.length).to.equal(200_000);
    expect(stdout).to.deep.equal(expected(200_000));
    expect(logged('stderr')).to.deep.equal(expected(20_000));
    // 1.3 MB of output is over the default burst: the budget held the process back
    const total = [200_000, 20_000].reduce((n, k) => n + expected(k).join('\n').length + 1, 0);
    expect(total).to.be.above(DEFAULT_OUTPUT_BUDGET.burstBytes);
    expect(p.outputStats).to.deep.include({ bytes: total, lines: 220_000 });
    expect(p.outputStats.pauses).to.be.at.least(1);
    const files = fs.readdirSync(logsDir);
    expect(files.length).to.be.at.least(10);
    for (const f of files) expect(fs.statSync(path.join(logsDir, f)).size).to.be.at.most(1024 * 1024);
  });

  it('[LC-86] the last, unterminated line of a process that exits at once is delivered', async () => {
    const logs = new ComponentLogs({ logsDir });
    const launcher = new ShellProcessLauncher({ output: componentLogOutput(logs) });
    const p = await launcher.launch(step("printf 'last words'; printf 'on stderr' >&2"));
    await p.exit;
    await p.outputDone;
    logs.close();
    expect(logged('stdout')).to.deep.equal(['last words']);
    expect(logged('stderr')).to.deep.equal(['on stderr']);
  });

  it('[LC-86] after a flood held back by the budget, the last unterminated line still comes, last', async () => {
    const logs = new ComponentLogs({ logsDir, fileSizeKB: 1024, totalLogsSizeKB: 1024 * 1024 });
    const launcher = new ShellProcessLauncher({
      output: componentLogOutput(logs),
      outputBudget: { bytesPerSecond: 1024 * 1024, burstBytes: 64 * 1024 },
    });
    const p = await launcher.launch(step("seq 1 100000; printf 'the end'; exit 3"));
    expect(await p.exit).to.deep.equal({ code: 3, signal: null });
    await p.outputDone;
    logs.close();
    expect(p.outputStats.pauses).to.be.at.least(1);
    const stdout = logged('stdout');
    expect(stdout).to.have.length(100_001);
    expect(stdout.at(-2)).to.equal('100000');
    expect(stdout.at(-1)).to.equal('the end');
  });

  it('[LC-86] a sink without batches still gets every line, one call each', async () => {
    const lines: string[] = [];
    const launcher = new ShellProcessLauncher({ output: (_l, _s, line) => lines.push(line) });
    const p = await launcher.launch(step('seq 1 5000'));
    await p.outputDone;
    expect(lines).to.deep.equal(Array.from({ length: 5000 }, (_, i) => String(i + 1)));
  });
});
