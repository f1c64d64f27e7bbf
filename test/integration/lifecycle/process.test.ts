import { expect } from 'chai';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ComponentLogs, componentLogOutput } from '../../../src/lifecycle/component-log.js';
import {
  LineSplitter,
  ShellProcessLauncher,
  readStat,
  runForeground,
} from '../../../src/lifecycle/process/index.js';
import type { StepLaunch } from '../../../src/lifecycle/types.js';
import { shStep } from '../../support/lifecycle-launcher.js';

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

async function waitForFile(file: string, tries = 200): Promise<string> {
  for (let i = 0; i < tries; i++) {
    if (fs.existsSync(file) && fs.readFileSync(file, 'utf8').trim() !== '')
      return fs.readFileSync(file, 'utf8').trim();
    await sleep(25);
  }
  throw new Error(`${file} never appeared`);
}

describe('process launcher', function () {
  let dir: string;
  let logs: ComponentLogs;
  let launcher: ShellProcessLauncher;
  const started: number[] = [];

  const step = (script: string, extra: Partial<StepLaunch> = {}): StepLaunch =>
    shStep(script, { component: 'com.example.Proc', cwd: dir, ...extra });

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tendril-proc-'));
    logs = new ComponentLogs({ logsDir: path.join(dir, 'logs') });
    launcher = new ShellProcessLauncher({ output: componentLogOutput(logs) });
  });
  afterEach(() => {
    for (const pid of started) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
    started.length = 0;
    logs.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('[LC-67][LC-71][LC-72] runs `sh -c script` in cwd with exactly the given env and reports the exit code', async () => {
    const p = await launcher.launch(
      step('echo "$FOO" > out.txt; pwd >> out.txt; exit 7', { env: { FOO: 'bar', PATH: '/usr/bin:/bin' } }),
    );
    expect(await p.exit).to.deep.equal({ code: 7, signal: null });
    expect(fs.readFileSync(path.join(dir, 'out.txt'), 'utf8')).to.equal(`bar\n${fs.realpathSync(dir)}\n`);
  });

  it('runs in its own process group (detached)', async () => {
    const p = await launcher.launch(step('sleep 5'));
    const s = await readStat(p.pid);
    expect(s?.pgid).to.equal(p.pid);
    await p.stop(1000);
  });

  it('[LC-86][LC-87] stdout at INFO and stderr at WARN land in the component log, split on \\n, \\r and CRLF once', async () => {
    const p = await launcher.launch(step("printf 'one\\ntwo\\r\\nthree\\rfour'; printf 'bad\\n' >&2"));
    await p.exit;
    await p.outputDone;
    const lines = fs
      .readFileSync(path.join(dir, 'logs', 'com.example.Proc.log'), 'utf8')
      .trim()
      .split('\n');
    const stdout = lines.filter((l) => l.includes(' [INFO] (Copier) com.example.Proc: stdout. '));
    expect(stdout.map((l) => l.replace(/^.*: stdout\. (.*)\. \{.*$/, '$1'))).to.deep.equal([
      'one',
      'two',
      'three',
      'four',
    ]);
    for (const l of stdout)
      expect(l).to.match(/\{scriptName=services\.com\.example\.Proc\.lifecycle\.Run\}$/);
    const stderr = lines.filter((l) => l.includes('[WARN]'));
    expect(stderr).to.have.length(1);
    expect(stderr[0]).to.match(
      /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{3})?Z \[WARN\] \(Copier\) com\.example\.Proc: stderr\. bad\. \{scriptName=services\.com\.example\.Proc\.lifecycle\.Run\}$/,
    );
  });

  it('[LC-93] component log output rotates to <Component>_<yyyy_MM_dd_HH>_<i>.log within the total cap', async () => {
    const small = new ComponentLogs({ logsDir: path.join(dir, 'small'), fileSizeKB: 4, totalLogsSizeKB: 12 });
    const l = new ShellProcessLauncher({ output: componentLogOutput(small) });
    const p = await l.launch(
      step('i=0; while [ $i -lt 400 ]; do echo "line $i padding padding padding"; i=$((i+1)); done'),
    );
    await p.exit;
    await p.outputDone;
    small.close();
    const files = fs.readdirSync(path.join(dir, 'small')).sort();
    expect(files).to.include('com.example.Proc.log');
    const rolled = files.filter((f) => f !== 'com.example.Proc.log');
    expect(rolled.length).to.be.at.least(1);
    for (const f of rolled) expect(f).to.match(/^com\.example\.Proc_\d{4}_\d{2}_\d{2}_\d{2}_\d+\.log$/);
    const sizes = files.map((f) => fs.statSync(path.join(dir, 'small', f)).size);
    for (const s of sizes) expect(s).to.be.at.most(4 * 1024);
    expect(sizes.reduce((a, b) => a + b, 0)).to.be.at.most(12 * 1024);
    // the newest lines survive, the oldest were deleted with the oldest files
    const active = fs.readFileSync(path.join(dir, 'small', 'com.example.Proc.log'), 'utf8');
    expect(active).to.contain('stdout. line 399 padding');
    const all = files.map((f) => fs.readFileSync(path.join(dir, 'small', f), 'utf8')).join('');
    expect(all).to.not.contain('stdout. line 0 padding');
  });

  it('[LC-86] line splitter counts a CRLF split across chunks once', () => {
    const got: string[] = [];
    const s = new LineSplitter((l) => got.push(l));
    s.push('a\r');
    s.push('\nb\n\nc');
    s.end();
    expect(got).to.deep.equal(['a', 'b', '', 'c']);
  });

  it('[LC-82] stop() kills a setsid grandchild that ignores SIGTERM; it is gone from /proc afterwards', async () => {
    const pidFile = path.join(dir, 'gc.pid');
    const p = await launcher.launch(
      step(`setsid sh -c 'trap "" TERM; echo $$ > ${pidFile}; while true; do sleep 0.1; done' & wait`),
    );
    const gc = Number(await waitForFile(pidFile));
    started.push(gc);
    const gcStat = await readStat(gc);
    expect(gcStat, 'grandchild running').to.not.equal(null);
    expect(gcStat?.sid).to.equal(gc); // really in its own session
    await p.stop(300);
    const after = await readStat(gc);
    expect(after === null || after.startTime !== gcStat?.startTime || after.state === 'Z').to.equal(true);
    const exit = await p.exit;
    expect(exit.signal ?? exit.code).to.not.equal(null);
  });

  it('[LC-82] stop() on a cooperative process ends it with SIGTERM', async () => {
    const p = await launcher.launch(step('exec sleep 30'));
    await p.stop(5000);
    expect(await p.exit).to.deep.equal({ code: null, signal: 'SIGTERM' });
  });

  it('[LC-84] runForeground returns the exit, or "timeout" after killing the tree', async () => {
    expect(await runForeground(launcher, step('exit 3'), { timeoutMs: 5000 })).to.deep.equal({
      code: 3,
      signal: null,
    });
    const marker = path.join(dir, 'child.pid');
    const res = await runForeground(launcher, step(`sh -c 'echo $$ > ${marker}; exec sleep 30' & wait`), {
      timeoutMs: 300,
      graceMs: 200,
    });
    expect(res).to.equal('timeout');
    const child = Number(fs.readFileSync(marker, 'utf8'));
    const st = await readStat(child);
    // gone, or a zombie waiting for init (this container's pid 1 may not reap orphans)
    expect(st === null || st.state === 'Z', `pid ${child} state ${st?.state}`).to.equal(true);
  });

  it('bad cwd and bad shell give precise errors', async () => {
    let err: unknown;
    try {
      await launcher.launch(step('true', { cwd: path.join(dir, 'missing') }));
    } catch (e) {
      err = e;
    }
    expect(String(err)).to.match(/cwd: working directory .*missing of com\.example\.Proc run is unusable/);
    err = undefined;
    try {
      await launcher.launch(step('true', { shell: '/no/such/shell' }));
    } catch (e) {
      err = e;
    }
    expect(String(err)).to.match(/cannot start com\.example\.Proc run \(\/no\/such\/shell\): .*ENOENT/);
  });
});
