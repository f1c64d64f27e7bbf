import { expect } from 'chai';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  CgroupV1Controller,
  NoCgroupController,
  detectResourceController,
  findV1Mounts,
} from '../../../src/lifecycle/cgroups/index.js';
import { ShellProcessLauncher } from '../../../src/lifecycle/process/index.js';
import type { StepLaunch } from '../../../src/lifecycle/types.js';
import { V1_ROOT, cgroupSkipReason, readCounter, removeCgroupTree, sleep } from './cgroup-support.js';
import { shStep } from '../../support/lifecycle-launcher.js';

const PARENT = `tendril-test-v1-${process.pid}`;

describe('cgroup v1 controller (real cgroupfs)', function () {
  let cg: CgroupV1Controller;
  let launcher: ShellProcessLauncher;
  let dir: string;
  let n = 0;
  let comp = '';

  const step = (script: string): StepLaunch => shStep(script, { component: comp, cwd: dir, useCgroup: true });

  before(function () {
    const mounts = findV1Mounts(V1_ROOT);
    const reason =
      !mounts.memory || !mounts.cpu || !mounts.freezer
        ? 'cgroup v1 memory/cpu/freezer not mounted'
        : cgroupSkipReason(mounts.memory, '');
    if (reason) {
      console.log(`skipping cgroup v1 tests: ${reason}`);
      this.skip();
    }
    cg = new CgroupV1Controller({ root: V1_ROOT, parent: PARENT });
    launcher = new ShellProcessLauncher({ cgroups: cg });
  });
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tendril-cg1-'));
    comp = `com.example.Cg${++n}`;
  });
  afterEach(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });
  after(() => {
    if (!cg) return;
    for (const m of new Set(Object.values(cg.mounts))) removeCgroupTree(path.join(m, PARENT));
  });

  it('[LC-74] detection picks v1 here (no cgroup.controllers at the root) and none for an empty root', async function () {
    if (fs.existsSync(path.join(V1_ROOT, 'cgroup.controllers'))) {
      console.log('skipping: this machine has a unified cgroup2 root');
      this.skip();
    }
    const detected = await detectResourceController({ root: V1_ROOT, parent: PARENT });
    expect(detected.version).to.equal(1);
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'tendril-nocg-'));
    try {
      const none = await detectResourceController({ root: empty, parent: PARENT });
      expect(none.version).to.equal('none');
      expect((none as NoCgroupController).reason).to.match(/no cgroup v2 or v1 hierarchy mounted/);
      await none.apply('x', { memory: 1024 });
      let err: unknown;
      await none.pause('x').catch((e: unknown) => (err = e));
      expect(String(err)).to.match(/cannot pause x: no writable cgroup freezer/);
    } finally {
      fs.rmSync(empty, { recursive: true, force: true });
    }
  });

  it('[LC-76][LC-63] writes memory.limit_in_bytes and cpu.cfs_quota_us, and re-applies live', async () => {
    await cg.apply(comp, { memory: 65536, cpus: 0.25 });
    const mem = path.join(cg.dir('memory', comp) as string, 'memory.limit_in_bytes');
    const quota = path.join(cg.dir('cpu', comp) as string, 'cpu.cfs_quota_us');
    const period = Number(
      fs.readFileSync(path.join(cg.dir('cpu', comp) as string, 'cpu.cfs_period_us'), 'utf8'),
    );
    expect(fs.readFileSync(mem, 'utf8').trim()).to.equal(String(65536 * 1024));
    expect(fs.readFileSync(quota, 'utf8').trim()).to.equal(String(Math.floor(period * 0.25)));
    await cg.apply(comp, { memory: 131072, cpus: 1.5 });
    expect(fs.readFileSync(mem, 'utf8').trim()).to.equal(String(131072 * 1024));
    expect(fs.readFileSync(quota, 'utf8').trim()).to.equal(String(Math.floor(period * 1.5)));
    await cg.apply(comp, { cpus: 0 });
    expect(fs.readFileSync(quota, 'utf8').trim()).to.equal('-1');
    expect(Number(fs.readFileSync(mem, 'utf8').trim())).to.be.greaterThan(2 ** 60);
    await cg.remove(comp);
    expect(fs.existsSync(path.dirname(mem))).to.equal(false);
  });

  it('[LC-75] bad limits are refused naming the field', async () => {
    let err: unknown;
    await cg.apply(comp, { memory: -3 }).catch((e: unknown) => (err = e));
    expect(String(err)).to.match(
      /systemResourceLimits\.memory: expected a non-negative number of KB, got -3/,
    );
  });

  it('[LC-76][LC-78] a script allocating 200 MB under a 64 MB limit is OOM-killed', async () => {
    await cg.apply(comp, { memory: 64 * 1024 });
    const p = await launcher.launch(
      step(
        `node -e "const a=[]; for (let i=0;i<200;i++) a.push(Buffer.alloc(1<<20, 1)); console.log('survived')"`,
      ),
    );
    const exit = await p.exit;
    // sh waits for node; the kernel OOM-kills node with SIGKILL, so sh exits 128+9
    console.log(`      OOM exit as seen by the launcher: ${JSON.stringify(exit)}`);
    expect(exit.signal === 'SIGKILL' || exit.code === 137, JSON.stringify(exit)).to.equal(true);
    const oom = fs.readFileSync(path.join(cg.dir('memory', comp) as string, 'memory.oom_control'), 'utf8');
    expect(Number(/oom_kill (\d+)/.exec(oom)?.[1] ?? '0')).to.be.at.least(1);
    await cg.remove(comp);
  });

  it('[LC-76][LC-78] a busy loop under cpus 0.25 uses at most ~0.3 CPU-seconds per second', async () => {
    await cg.apply(comp, { cpus: 0.25 });
    const p = await launcher.launch(step('while :; do :; done'));
    expect(await cg.pids(comp)).to.include(p.pid);
    await sleep(300);
    const u0 = await cg.usage(comp);
    const t0 = process.hrtime.bigint();
    await sleep(2000);
    const u1 = await cg.usage(comp);
    const wall = Number(process.hrtime.bigint() - t0) / 1e9;
    const ratio = ((u1.cpuNanos as number) - (u0.cpuNanos as number)) / 1e9 / wall;
    console.log(`      CPU-seconds per wall-second under cpus=0.25: ${ratio.toFixed(3)}`);
    expect(ratio).to.be.at.most(0.3);
    expect(ratio).to.be.greaterThan(0.1);
    await p.stop(1000);
    await cg.remove(comp);
  });

  it('[LC-80] pause freezes (a counter stops advancing) and resume thaws', async () => {
    const counter = path.join(dir, 'counter');
    const p = await launcher.launch(
      step(`i=0; while :; do i=$((i+1)); echo $i > ${counter}; sleep 0.02; done`),
    );
    await readCounter(counter);
    await cg.pause(comp);
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
    await p.stop(1000);
    await cg.remove(comp);
  });

  it('[LC-82] stop() finds an orphaned setsid daemon through the cgroup after its parent exited', async () => {
    const pidFile = path.join(dir, 'daemon.pid');
    const p = await launcher.launch(
      step(
        `setsid sh -c 'trap "" TERM; echo $$ > ${pidFile}; while :; do sleep 0.05; done' > /dev/null 2>&1 & exit 0`,
      ),
    );
    expect((await p.exit).code).to.equal(0);
    const daemon = await readCounter(pidFile);
    expect(await cg.pids(comp)).to.include(daemon);
    await p.stop(200);
    const st = fs.existsSync(`/proc/${daemon}/stat`) ? fs.readFileSync(`/proc/${daemon}/stat`, 'utf8') : '';
    expect(st === '' || /\) Z /.test(st), st).to.equal(true);
    await cg.remove(comp);
  });

  it('[LC-78][LC-83] killAll empties the cgroup (also when frozen) and remove deletes every dir', async () => {
    const p = await launcher.launch(step('sleep 30 & sleep 30 & wait'));
    for (let i = 0; i < 50 && (await cg.pids(comp)).length < 3; i++) await sleep(20);
    expect((await cg.pids(comp)).length).to.be.at.least(3);
    await cg.pause(comp);
    await cg.killAll(comp);
    expect(await cg.pids(comp)).to.deep.equal([]);
    expect((await p.exit).signal).to.equal('SIGKILL');
    const dirs = cg.dirs(comp);
    await cg.remove(comp);
    for (const d of dirs) expect(fs.existsSync(d), d).to.equal(false);
    // resuming a removed component (a late stop()) must not recreate its cgroup
    await cg.resume(comp);
    for (const d of dirs) expect(fs.existsSync(d), d).to.equal(false);
  });
});
