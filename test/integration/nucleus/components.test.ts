// The nucleus running real components under real cgroups and users, as a device would (CI runs as root).
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Nucleus } from '../../../src/nucleus/index.js';
import type { StateChangeEvent } from '../../../src/lifecycle/index.js';
import { waitFor } from '../../support/daemon.js';

const tag = `${process.pid % 100000}`;
const USER = `tnu${tag}`;
const GROUP = `tng${tag}`;
const SUPP = `tns${tag}`;

function sh(cmd: string, args: string[]): void {
  execFileSync(cmd, args, { stdio: 'ignore' });
}

describe('nucleus: components under cgroup limits and their posix user', function () {
  this.timeout(60000);
  let dir: string;
  let nucleus: Nucleus | undefined;
  let events: StateChangeEvent[];

  before(function () {
    if (process.getuid?.() !== 0) {
      console.log('      skipped: needs root (cgroups, useradd, setpriv)');
      this.skip();
    }
    sh('groupadd', [GROUP]);
    sh('groupadd', [SUPP]);
    sh('useradd', ['-M', '-N', '-g', GROUP, '-G', SUPP, '-s', '/bin/sh', USER]);
  });
  after(() => {
    if (process.getuid?.() !== 0) return;
    for (const [cmd, arg] of [
      ['userdel', USER],
      ['groupdel', SUPP],
      ['groupdel', GROUP],
    ])
      try {
        sh(cmd, [arg]);
      } catch {
        /* already gone */
      }
  });
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'tendril-nuc-'));
    events = [];
  });
  afterEach(async () => {
    await nucleus?.stop();
    nucleus = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  async function start(services: string): Promise<Nucleus> {
    const init = join(dir, 'init.yaml');
    writeFileSync(
      init,
      `services:\n  aws.greengrass.Nucleus:\n    configuration:\n      runWithDefault: { posixUser: "${USER}" }\n${services}`,
    );
    nucleus = await Nucleus.start({ root: join(dir, 'root'), initConfigFile: init });
    nucleus.manager.onStateChange((e) => events.push(e));
    return nucleus;
  }

  /** The component reached `state`: seen as an event, or its state now (it may have got there before the listener). */
  const reached = (name: string, state: string) =>
    events.some((e) => e.component === name && e.newState === state) ||
    nucleus?.manager.get(name)?.status().state === state;

  it('[LC-75][LC-76] a component allocating 200 MB under a 64 MB limit is killed and ends ERRORED', async function () {
    const name = `MemHog${tag}`;
    const n = await start(
      [
        `  ${name}:`,
        '    runWith: { systemResourceLimits: { memory: 65536 } }',
        // allocate and touch 200 MB, then say so (it must never get there)
        `    lifecycle: { run: "node -e 'const a=[]; for (let i=0;i<200;i++) a.push(Buffer.alloc(1<<20, 1)); console.log(\\"allocated\\")'" }`,
      ].join('\n') + '\n',
    );
    if (n.resources.version === 'none') this.skip();
    await waitFor('ERRORED', () => events.find((e) => e.component === name && e.newState === 'ERRORED'));
    const errored = events.find((e) => e.component === name && e.newState === 'ERRORED')!;
    expect(errored.oldState).to.equal('RUNNING');
    expect(readFileSync(join(dir, 'root', 'logs', `${name}.log`), 'utf8')).not.to.contain('allocated');
  });

  it('[LC-75][LC-76] a busy loop under cpus 0.25 uses at most about 0.3 CPU-seconds per wall-second', async function () {
    const name = `CpuHog${tag}`;
    const n = await start(
      [
        `  ${name}:`,
        '    runWith: { systemResourceLimits: { cpus: 0.25 } }',
        '    lifecycle: { run: "while :; do :; done" }',
      ].join('\n') + '\n',
    );
    if (n.resources.version === 'none') this.skip();
    await waitFor('RUNNING', () => reached(name, 'RUNNING'));
    await new Promise((r) => setTimeout(r, 500));
    const a = await n.resources.usage(name);
    const t0 = process.hrtime.bigint();
    await new Promise((r) => setTimeout(r, 2000));
    const b = await n.resources.usage(name);
    const wall = Number(process.hrtime.bigint() - t0) / 1e9;
    const rate = ((b.cpuNanos ?? NaN) - (a.cpuNanos ?? NaN)) / 1e9 / wall;
    expect(rate).to.be.greaterThan(0.1); // it really ran
    expect(rate).to.be.at.most(0.3);
  });

  it('[LC-65][LC-66][LC-69] id -u, id -g and id -G inside the component match the user, group and supplementary groups', async () => {
    const name = `Ids${tag}`;
    await start(
      [`  ${name}:`, '    lifecycle: { run: "echo uid=$(id -u) gid=$(id -g) groups=$(id -G)" }'].join('\n') +
        '\n',
    );
    await waitFor('FINISHED', () => reached(name, 'FINISHED'));
    const uid = execFileSync('id', ['-u', USER], { encoding: 'utf8' }).trim();
    const gid = execFileSync('getent', ['group', GROUP], { encoding: 'utf8' }).split(':')[2];
    const supp = execFileSync('getent', ['group', SUPP], { encoding: 'utf8' }).split(':')[2];
    const log = readFileSync(join(dir, 'root', 'logs', `${name}.log`), 'utf8');
    const m = /uid=(\d+) gid=(\d+) groups=([\d ]+)/.exec(log);
    expect(m, log).to.not.equal(null);
    expect(m![1]).to.equal(uid);
    expect(m![2]).to.equal(gid);
    expect(m![3].trim().split(' ').sort()).to.deep.equal([gid, supp].sort());
  });

  it('[LC-65] a component whose posixUser does not exist fails with an error naming the user', async () => {
    const name = `NoUser${tag}`;
    await start(
      [
        `  ${name}:`,
        '    runWith: { posixUser: no_such_user_xyz }',
        '    lifecycle: { run: "echo hi" }',
      ].join('\n') + '\n',
    );
    // the step never starts: ERRORED (maybe before our listener), then retried, then BROKEN
    const status = await waitFor('the failure', () => {
      const s = nucleus!.manager.get(name)?.status();
      return s &&
        (s.state === 'ERRORED' || s.state === 'BROKEN' || reached(name, 'ERRORED')) &&
        s.statusReason
        ? s
        : undefined;
    });
    expect(status.statusCode).to.match(/MISSING_DEFAULT_RUNWITH/);
    expect(status.statusReason).to.contain('no_such_user_xyz');
  });

  it('[LC-71][LC-46][CF-70][CF-54] the spec environment, RequiresPrivilege as root, and a work dir owned by the component user', async () => {
    const name = `Env${tag}`;
    const n = await start(
      [
        `  ${name}:`,
        '    setenv: { FROM_SERVICE: svc }',
        '    lifecycle:',
        '      install: { requiresPrivilege: true, script: "echo install-uid=$(id -u)" }',
        '      run:',
        '        setenv: { FROM_STEP: step }',
        '        script: "echo uid=$(id -u) svcuid=${#SVCUID} region=$AWS_REGION sock=$AWS_GG_NUCLEUS_DOMAIN_SOCKET_FILEPATH_FOR_COMPONENT svc=$FROM_SERVICE step=$FROM_STEP ver=$GGC_VERSION cwd=$(pwd) end"',
      ].join('\n') + '\n',
    );
    await waitFor('FINISHED', () => reached(name, 'FINISHED'));
    const log = readFileSync(join(dir, 'root', 'logs', `${name}.log`), 'utf8');
    const uid = execFileSync('id', ['-u', USER], { encoding: 'utf8' }).trim();
    expect(log).to.contain('install-uid=0');
    const m = /uid=(\d+) svcuid=(\d+) region=(\S+) sock=(\S+) svc=(\S+) step=(\S+) ver=(\S+) cwd=(\S+)/.exec(
      log,
    );
    expect(m, log).to.not.equal(null);
    expect(m![1]).to.equal(uid);
    expect(m![2]).to.equal('16'); // a 16-character SVCUID [CF-81]
    expect(m![3]).to.equal('us-east-1');
    expect(m![4]).to.equal(n.ipc.plan.componentPath);
    expect([m![5], m![6]]).to.deep.equal(['svc', 'step']);
    expect(m![7]).to.match(/^\d+\.\d+\.\d+/);
    expect(m![8]).to.equal(join(dir, 'root', 'work', name));
    expect(statSync(join(dir, 'root', 'work', name)).uid).to.equal(Number(uid));
  });

  it('[LC-75][CF-37] the nucleus runWithDefault.systemResourceLimits apply to a component without its own', async function () {
    const name = `Dflt${tag}`;
    const init = join(dir, 'init.yaml');
    writeFileSync(
      init,
      `services:\n  aws.greengrass.Nucleus:\n    configuration:\n      runWithDefault: { posixUser: "${USER}", systemResourceLimits: { memory: 32768 } }\n  ${name}:\n    lifecycle: { run: "exec sleep 1000" }\n`,
    );
    nucleus = await Nucleus.start({ root: join(dir, 'root'), initConfigFile: init });
    if (nucleus.resources.version !== 1) this.skip();
    await waitFor('RUNNING', () => nucleus!.manager.get(name)?.status().state === 'RUNNING');
    const file = join(nucleus.resources.root!, 'memory', 'tendril', name, 'memory.limit_in_bytes');
    expect(readFileSync(file, 'utf8').trim()).to.equal(String(32768 * 1024));
  });
});
