import { expect } from 'chai';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CgroupV2Controller, cpuMaxValue } from '../../../src/lifecycle/cgroups/index.js';
import { ShellProcessLauncher } from '../../../src/lifecycle/process/index.js';
import type { StepLaunch } from '../../../src/lifecycle/types.js';
import { V2_ROOT, cgroupSkipReason, readCounter, removeCgroupTree, sleep } from './cgroup-support.js';
import { shStep } from '../../support/lifecycle-launcher.js';

const PARENT = `tendril-test-v2-${process.pid}`;

describe('cgroup v2 controller (real cgroup2 hierarchy)', function () {
  let root = '';
  let cg: CgroupV2Controller;
  let launcher: ShellProcessLauncher;
  let dir: string;
  let n = 0;
  let comp = '';
  let offered: string[] = [];

  const step = (script: string): StepLaunch => shStep(script, { component: comp, cwd: dir, useCgroup: true });

  before(function () {
    // a unified root (pure v2 host) or the hybrid mount of this machine
    root = fs.existsSync('/sys/fs/cgroup/cgroup.controllers') ? '/sys/fs/cgroup' : V2_ROOT;
    const reason = fs.existsSync(path.join(root, 'cgroup.controllers'))
      ? cgroupSkipReason(root, '')
      : `no cgroup2 mounted at ${root}`;
    if (reason) {
      console.log(`skipping cgroup v2 tests: ${reason}`);
      this.skip();
    }
    offered = fs
      .readFileSync(path.join(root, 'cgroup.controllers'), 'utf8')
      .trim()
      .split(/\s+/)
      .filter(Boolean);
    cg = new CgroupV2Controller({ root, parent: PARENT });
    launcher = new ShellProcessLauncher({ cgroups: cg });
  });
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tendril-cg2-'));
    comp = `com.example.CgTwo${++n}`;
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));
  after(() => {
    if (cg) removeCgroupTree(path.join(root, PARENT));
  });

  it('[LC-77] cpu.max value: round(period x cpus) with the kernel minimum, "max" when unlimited', () => {
    expect(cpuMaxValue({ cpus: 0.25 }, 100000)).to.equal('25000 100000');
    expect(cpuMaxValue({ cpus: 1.333333 }, 100000)).to.equal('133333 100000');
    expect(cpuMaxValue({ cpus: 0.0001 }, 100000)).to.equal('1000 100000');
    expect(cpuMaxValue({ cpus: 0 }, 50000)).to.equal('max 50000');
    expect(cpuMaxValue({}, 100000)).to.equal('max 100000');
  });

  it('[LC-77][LC-78] processes go into <root>/<parent>/<component>/cgroup.procs before the script runs', async () => {
    const p = await launcher.launch(step('cat /proc/self/cgroup > where.txt; exec sleep 30'));
    expect(await cg.pids(comp)).to.include(p.pid);
    for (let i = 0; i < 100 && !fs.existsSync(path.join(dir, 'where.txt')); i++) await sleep(20);
    await sleep(50);
    const unified = fs
      .readFileSync(path.join(dir, 'where.txt'), 'utf8')
      .split('\n')
      .find((l) => l.startsWith('0::'));
    expect(unified).to.match(new RegExp(`/${PARENT}/${comp.replace(/\./g, '\\.')}$`));
    await p.stop(1000);
    await cg.remove(comp);
    expect(fs.existsSync(cg.dir(comp))).to.equal(false);
  });

  it('[LC-77] memory.max and cpu.max are written when the controllers are available, else a precise error', async () => {
    if (offered.includes('memory')) {
      await cg.apply(comp, { memory: 65536 });
      expect(fs.readFileSync(path.join(cg.dir(comp), 'memory.max'), 'utf8').trim()).to.equal(
        String(65536 * 1024),
      );
      await cg.apply(comp, {});
      expect(fs.readFileSync(path.join(cg.dir(comp), 'memory.max'), 'utf8').trim()).to.equal('max');
    } else {
      console.log(
        `      memory controller not offered by ${root} (offers: '${offered.join(' ')}'): checking the error`,
      );
      let err: unknown;
      await cg.apply(comp, { memory: 65536 }).catch((e: unknown) => (err = e));
      expect(String(err)).to.match(
        /cgroup v2 controller 'memory' is not available for .*memory\.max missing/,
      );
    }
    if (offered.includes('cpu')) {
      await cg.apply(comp, { cpus: 0.5 });
      expect(fs.readFileSync(path.join(cg.dir(comp), 'cpu.max'), 'utf8').trim()).to.equal('50000 100000');
    } else {
      console.log(`      cpu controller not offered by ${root}: checking the error`);
      let err: unknown;
      await cg.apply(comp, { cpus: 0.5 }).catch((e: unknown) => (err = e));
      expect(String(err)).to.match(/cgroup v2 controller 'cpu' is not available/);
    }
    await cg.remove(comp);
  });

  it('[LC-80] cgroup.freeze pauses (a counter stops advancing) and thaws', async () => {
    const counter = path.join(dir, 'counter');
    const p = await launcher.launch(
      step(`i=0; while :; do i=$((i+1)); echo $i > ${counter}; sleep 0.02; done`),
    );
    await readCounter(counter);
    await cg.pause(comp);
    expect(fs.readFileSync(path.join(cg.dir(comp), 'cgroup.events'), 'utf8')).to.match(/^frozen 1$/m);
    const frozen = await readCounter(counter);
    await sleep(400);
    expect(await readCounter(counter)).to.equal(frozen);
    await cg.resume(comp);
    let advanced = false;
    for (let i = 0; i < 100 && !advanced; i++) {
      await sleep(20);
      advanced = (await readCounter(counter)) > frozen;
    }
    expect(advanced).to.equal(true);
    const usage = await cg.usage(comp);
    expect(usage.cpuNanos).to.be.a('number').greaterThan(0);
    await p.stop(1000);
    await cg.remove(comp);
  });

  it('[LC-78][LC-83] killAll (cgroup.kill) empties a frozen cgroup with a setsid child', async () => {
    const p = await launcher.launch(step('setsid sleep 30 & sleep 30 & wait'));
    for (let i = 0; i < 50 && (await cg.pids(comp)).length < 3; i++) await sleep(20);
    expect((await cg.pids(comp)).length).to.be.at.least(3);
    await cg.pause(comp);
    await cg.killAll(comp);
    expect(await cg.pids(comp)).to.deep.equal([]);
    expect((await p.exit).signal).to.equal('SIGKILL');
    await cg.remove(comp);
  });
});
