// The cgroup v2 code path against a cgroup root given by configuration [LC-74, LC-77]. This machine's
// memory and cpu controllers are bound to v1, so the kernel cannot enforce v2 limits here; a root laid
// out like cgroupfs (the files the kernel would create) shows exactly what Tendril writes where.
import { expect } from 'chai';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CgroupV2Controller, detectResourceController } from '../../../src/lifecycle/index.js';

describe('cgroup v2 against a configured root', () => {
  let root: string;
  const comp = (name: string) => join(root, 'tendril', name);
  /** what the kernel creates in a new component group when memory and cpu are enabled */
  function kernelFiles(name: string) {
    mkdirSync(comp(name), { recursive: true });
    writeFileSync(join(comp(name), 'memory.max'), 'max\n');
    writeFileSync(join(comp(name), 'cpu.max'), 'max 100000\n');
    writeFileSync(join(comp(name), 'cgroup.procs'), '');
    writeFileSync(join(comp(name), 'cgroup.events'), 'populated 0\nfrozen 0\n');
  }
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'tendril-cg2-'));
    writeFileSync(join(root, 'cgroup.controllers'), 'cpuset cpu io memory hugetlb pids\n');
    writeFileSync(join(root, 'cgroup.subtree_control'), '');
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('[LC-74] detects v2 from cgroup.controllers at the configured root', async () => {
    const c = await detectResourceController({ root });
    expect(c.version).to.equal(2);
  });

  it('[LC-75][LC-77] writes memory.max in bytes, cpu.max as "<quota> <period>", enables the controllers in subtree_control', async () => {
    const c = new CgroupV2Controller({ root });
    kernelFiles('App');
    await c.apply('App', { memory: 65536, cpus: 0.25 });
    expect(readFileSync(join(comp('App'), 'memory.max'), 'utf8')).to.equal(String(65536 * 1024));
    expect(readFileSync(join(comp('App'), 'cpu.max'), 'utf8')).to.equal('25000 100000');
    // the last write wins in a plain file; each wanted controller was written as +<name>
    expect(readFileSync(join(root, 'cgroup.subtree_control'), 'utf8')).to.equal('+pids');
    expect(c.enabled).to.deep.equal(['cpu', 'io', 'memory', 'pids']);
    // limits removed live [LC-63]: back to "max"
    await c.apply('App', {});
    expect(readFileSync(join(comp('App'), 'memory.max'), 'utf8')).to.equal('max');
    expect(readFileSync(join(comp('App'), 'cpu.max'), 'utf8')).to.equal('max 100000');
  });

  it('[LC-77] refuses a limit whose controller the root does not offer, naming it', async () => {
    writeFileSync(join(root, 'cgroup.controllers'), 'pids\n');
    const c = new CgroupV2Controller({ root });
    mkdirSync(comp('NoMem'), { recursive: true });
    let err: Error | undefined;
    await c.apply('NoMem', { memory: 1024 }).catch((e: Error) => (err = e));
    expect(err?.message).to.match(/controller 'memory' is not available .*offers: 'pids'/);
  });

  it('[LC-78][LC-80] places a pid in cgroup.procs and freezes/thaws through cgroup.freeze', async () => {
    const c = new CgroupV2Controller({ root });
    kernelFiles('P');
    await c.addProcess('P', 4242, { descendants: false });
    expect(readFileSync(join(comp('P'), 'cgroup.procs'), 'utf8')).to.equal('4242');
    // the kernel would flip cgroup.events; here the file already says what pause waits for after we set it
    writeFileSync(join(comp('P'), 'cgroup.events'), 'populated 1\nfrozen 1\n');
    await c.pause('P');
    expect(readFileSync(join(comp('P'), 'cgroup.freeze'), 'utf8')).to.equal('1');
    writeFileSync(join(comp('P'), 'cgroup.events'), 'populated 1\nfrozen 0\n');
    await c.resume('P');
    expect(readFileSync(join(comp('P'), 'cgroup.freeze'), 'utf8')).to.equal('0');
  });
});
