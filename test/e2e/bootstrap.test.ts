// The bootstrap lifecycle step against the real daemon (`tendril run`), through local deployments
// [LC-35][CF-95..CF-96][CF-89][CF-90]: exit 0 goes on without a restart; exit 100 restarts the
// nucleus and the deployment, still queued, resumes after it, running only the steps not done yet,
// and its terminal status is stored once [DP-64][DP-68]; exit 101 runs the configured reboot command
// and resumes the same way; any other exit code or a timeout fails the deployment, rolled back.
import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { processesWith } from '../support/daemon.js';
import {
  componentDetails,
  createDeployment,
  nucleusStarts,
  startDaemon,
  storedStatuses,
  terminalStatus,
  type Daemon,
} from '../support/restart-daemon.js';

describe('e2e: bootstrap steps and nucleus restarts', function () {
  this.timeout(240_000);
  const hex = randomBytes(4).toString('hex');
  const marker = `tendril-bootstrap-${hex}`;
  const name = (n: string) => `com.boot${hex}.${n}`;
  let dir: string;
  let root: string;
  let recipes: string;
  let marks: string;
  let reboots: string;
  let installs: string;
  let daemon: Daemon | undefined;
  const lines = (f: string) =>
    existsSync(f) ? readFileSync(f, 'utf8').trim().split('\n').filter(Boolean) : [];

  /** A recipe whose bootstrap (privileged, as root) runs `bootstrap`; its run step sleeps. */
  function recipe(
    n: string,
    version: string,
    bootstrap: string | undefined,
    o: { deps?: string[]; timeout?: number; install?: string } = {},
  ): void {
    const deps = o.deps ?? [];
    writeFileSync(
      join(recipes, `${name(n)}-${version}.yaml`),
      [
        'RecipeFormatVersion: "2020-01-25"',
        `ComponentName: ${name(n)}`,
        `ComponentVersion: ${version}`,
        ...(deps.length
          ? ['ComponentDependencies:', ...deps.map((d) => `  ${name(d)}: { VersionRequirement: ">=1.0.0" }`)]
          : []),
        'ComponentConfiguration:',
        '  DefaultConfiguration: { Word: hi }',
        'Manifests:',
        '  - Platform: { os: linux }',
        '    Lifecycle:',
        ...(bootstrap === undefined
          ? []
          : [
              `      Bootstrap: { Script: ${JSON.stringify(bootstrap)}, RequiresPrivilege: true${o.timeout ? `, Timeout: ${o.timeout}` : ''} }`,
            ]),
        ...(o.install ? [`      Install: ${JSON.stringify(o.install)}`] : []),
        `      Run: "echo run ${n} ${version}; exec sleep 100000"`,
      ].join('\n'),
    );
  }

  /** A bootstrap script that records `<tag> <number of nucleus starts so far>` and exits `code`. */
  const mark = (tag: string, code: number) =>
    `echo ${tag} $(grep -c nucleus-start. ${join(root, 'logs', 'greengrass.log')}) >> ${marks}; exit ${code}`;

  before(async function () {
    if (process.getuid?.() !== 0) {
      console.log('      skipped: needs root to run components as nobody and privileged bootstrap steps');
      this.skip();
    }
    dir = mkdtempSync(join(tmpdir(), 'tendril-bootstrap-'));
    chmodSync(dir, 0o755);
    root = join(dir, 'root');
    recipes = join(dir, 'recipes');
    marks = join(dir, 'marks');
    reboots = join(dir, 'reboots');
    installs = join(dir, 'installs');
    mkdirSync(recipes);
    writeFileSync(installs, '');
    chmodSync(installs, 0o666); // install steps run as nobody
    const init = join(dir, 'init.yaml');
    writeFileSync(
      init,
      `setenv: { TENDRIL_TEST_MARKER: ${marker} }\nservices:\n  aws.greengrass.Nucleus:\n    configuration: { runWithDefault: { posixUser: "nobody:nogroup" } }\n`,
    );
    daemon = await startDaemon(['--root', root, '--init-config', init], {
      ...process.env,
      TENDRIL_REBOOT_COMMAND: `echo reboot-requested >> ${reboots}`,
    });
  });

  after(async () => {
    const end = await daemon?.stop();
    const left = processesWith(marker);
    for (const p of left) process.kill(p, 'SIGKILL');
    for (const ctl of ['memory', 'cpu', 'cpuacct', 'freezer'])
      for (const n of ['Zero', 'Restart', 'After', 'Reboot', 'Failing', 'Slow'])
        try {
          rmdirSync(join('/sys/fs/cgroup', ctl, 'tendril', name(n)));
        } catch {
          /* not there */
        }
    if (dir && !process.env.KEEP_TEST_DIRS) rmSync(dir, { recursive: true, force: true });
    if (daemon) expect(end, daemon.output()).to.deep.equal({ code: 0, signal: null });
    expect(left, 'component processes left after the daemon stopped').to.deep.equal([]);
  });

  it('[LC-35][CF-95] exit 0: the step runs before the install, the deployment goes on without a restart, and a configuration-only update does not run it again', async () => {
    // the bootstrap step notes how many installs ran before it
    recipe('Zero', '1.0.0', `echo zero-bootstrap after $(cat ${installs} | wc -l) installs >> ${marks}`, {
      install: `echo zero-install >> ${installs}`,
    });
    const starts = nucleusStarts(root).length;
    const id = await createDeployment(root, ['--recipe-dir', recipes, '--merge', `${name('Zero')}=1.0.0`]);
    expect(await terminalStatus(root, id)).to.include({ status: 'SUCCEEDED', detailed: 'SUCCESSFUL' });
    expect(lines(marks)).to.deep.equal(['zero-bootstrap after 0 installs']);
    expect(lines(installs)).to.deep.equal(['zero-install']);
    expect(nucleusStarts(root)).to.have.length(starts);
    expect(await componentDetails(root, name('Zero'))).to.include({ version: '1.0.0', state: 'RUNNING' });
    const again = await createDeployment(root, [
      '--update-config',
      JSON.stringify({ [name('Zero')]: { MERGE: { Word: 'changed' } } }),
    ]);
    expect(await terminalStatus(root, again)).to.include({ status: 'SUCCEEDED' });
    expect(lines(marks)).to.deep.equal(['zero-bootstrap after 0 installs']);
  });

  it('[CF-96][CF-90][DP-31] exit 100: the nucleus restarts, the deployment resumes after it with the remaining step, and its result is stored once', async () => {
    writeFileSync(marks, '');
    recipe('Restart', '1.0.0', mark('restart-bootstrap', 100));
    recipe('After', '1.0.0', mark('after-bootstrap', 0), { deps: ['Restart'] });
    const starts = nucleusStarts(root).length;
    const pid = daemon!.child.pid;
    const id = await createDeployment(root, ['--recipe-dir', recipes, '--merge', `${name('After')}=1.0.0`]);
    const end = await terminalStatus(root, id);
    expect(end, end.cause).to.include({ status: 'SUCCEEDED', detailed: 'SUCCESSFUL' });
    // the step that asked for the restart ran once, before it; the dependent one after it
    expect(lines(marks)).to.deep.equal([`restart-bootstrap ${starts}`, `after-bootstrap ${starts + 1}`]);
    expect(nucleusStarts(root)).to.have.length(starts + 1);
    expect(daemon!.output()).to.include(
      `tendril: restarting the nucleus (exit code 100): the bootstrap step of ${name('Restart')} exited with 100`,
    );
    expect(daemon!.child.pid).to.equal(pid); // tendril run restarted the nucleus, it did not exit
    for (const n of ['Restart', 'After', 'Zero'])
      expect(await componentDetails(root, name(n)), n).to.include({ state: 'RUNNING' });
    // [DP-64][DP-68] one terminal status stored, however many nuclei worked on the deployment
    const stored = storedStatuses(root, id);
    expect(stored.filter((s) => s !== 'IN_PROGRESS')).to.deep.equal(['SUCCEEDED']);
    expect(stored.filter((s) => s === 'IN_PROGRESS').length).to.be.at.most(1);
  });

  it('[CF-89][CF-90] exit 101: the configured reboot command runs, then the deployment resumes and succeeds', async () => {
    writeFileSync(marks, '');
    recipe('Reboot', '1.0.0', mark('reboot-bootstrap', 101));
    const starts = nucleusStarts(root).length;
    const id = await createDeployment(root, ['--recipe-dir', recipes, '--merge', `${name('Reboot')}=1.0.0`]);
    expect(await terminalStatus(root, id)).to.include({ status: 'SUCCEEDED', detailed: 'SUCCESSFUL' });
    expect(lines(reboots)).to.deep.equal(['reboot-requested']);
    expect(lines(marks)).to.deep.equal([`reboot-bootstrap ${starts}`]);
    expect(nucleusStarts(root)).to.have.length(starts + 1);
    expect(await componentDetails(root, name('Reboot'))).to.include({ version: '1.0.0', state: 'RUNNING' });
    expect(storedStatuses(root, id).filter((s) => s !== 'IN_PROGRESS')).to.deep.equal(['SUCCEEDED']);
  });

  it('[CF-96][DP-59] a bootstrap step exiting with another code fails the deployment, rolled back: the previous version keeps running', async () => {
    recipe('Failing', '1.0.0', undefined);
    const first = await createDeployment(root, [
      '--recipe-dir',
      recipes,
      '--merge',
      `${name('Failing')}=1.0.0`,
    ]);
    expect(await terminalStatus(root, first)).to.include({ status: 'SUCCEEDED' });
    recipe('Failing', '2.0.0', 'echo failing-bootstrap; exit 7');
    const starts = nucleusStarts(root).length;
    const id = await createDeployment(root, ['--recipe-dir', recipes, '--merge', `${name('Failing')}=2.0.0`]);
    const end = await terminalStatus(root, id);
    expect(end).to.include({ status: 'FAILED', detailed: 'FAILED_ROLLBACK_COMPLETE' });
    expect(end.errors).to.include('COMPONENT_BOOTSTRAP_ERROR');
    expect(end.cause).to.include(`the bootstrap step of ${name('Failing')} exited with code 7`);
    expect(await componentDetails(root, name('Failing'))).to.include({ version: '1.0.0', state: 'RUNNING' });
    expect(nucleusStarts(root)).to.have.length(starts);
    const log = readFileSync(join(root, 'logs', `${name('Failing')}.log`), 'utf8');
    expect(log).to.include('failing-bootstrap');
    expect(log).to.not.include('run Failing 2.0.0');
  });

  it('[LC-35] a bootstrap step past its timeout fails the deployment with COMPONENT_BOOTSTRAP_TIMEOUT (policy DO_NOTHING too), and is stopped', async () => {
    recipe('Slow', '1.0.0', 'echo slow; exec sleep 300', { timeout: 1 });
    const id = await createDeployment(root, [
      '--recipe-dir',
      recipes,
      '--merge',
      `${name('Slow')}=1.0.0`,
      '--failure-policy',
      'DO_NOTHING',
    ]);
    const end = await terminalStatus(root, id);
    expect(end).to.include({ status: 'FAILED', detailed: 'FAILED_ROLLBACK_COMPLETE' });
    expect(end.errors).to.include('COMPONENT_BOOTSTRAP_TIMEOUT');
    expect(await componentDetails(root, name('Slow'))).to.equal(undefined);
    const sleeping = processesWith(marker).filter((p) => {
      try {
        return readFileSync(`/proc/${p}/cmdline`, 'utf8').startsWith('sleep\u0000300');
      } catch {
        return false;
      }
    });
    expect(sleeping, 'the timed-out step').to.deep.equal([]);
  });
});
