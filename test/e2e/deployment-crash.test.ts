// Crash safety of deployments with the real daemon: `tendril run` is killed with SIGKILL at six
// instants of a local deployment, each found by watching the root's files and logs (the queue's
// acknowledgement, the import staging folder, the rollback snapshot, the config tlog, the
// component's install during the convergence wait, the reinstall during a rollback), then restarted
// on the same root. Each time the deployment ends as it would have without the crash, the services
// match that end state, no process of the killed daemon's components survives, and IN_PROGRESS and
// the terminal status are each stored once [DP-33][DP-64][DP-68][DP-69].
import { expect } from 'chai';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmdirSync,
  rmSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exitOf, processesWith, spawnTendril, runTendril as tendril } from '../support/daemon.js';
import { storedStatuses } from '../support/restart-daemon.js';

/** Polls every 5 ms (the instants are short) until `check` holds; fails after `ms` naming `what`. */
async function until(what: string, check: () => boolean, ms = 60_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

const read = (f: string) => (existsSync(f) ? readFileSync(f, 'utf8') : '');
const count = (text: string, needle: string) => text.split(needle).length - 1;

/** Parent pid of a process, from /proc/<pid>/stat (undefined when gone). */
function ppidOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return undefined;
  }
}

/** Exists and is not a zombie. */
function live(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return false;
  }
}

function descendsFrom(pid: number, ancestor: number): boolean {
  for (let p: number | undefined = pid, i = 0; p && p > 1 && i < 64; i++) {
    if (p === ancestor) return true;
    p = ppidOf(p);
  }
  return false;
}

describe('e2e: kill -9 of the daemon during a local deployment, then a restart on the same root', function () {
  this.timeout(240_000);
  const hex = randomBytes(4).toString('hex');
  const SVC = `com.crash${hex}.Svc`;
  const marker = `tendril-crash-${hex}`;
  let dir: string;
  let root: string;
  let recipes: string;
  let badRecipes: string;
  let artifacts: string;
  let daemon: ChildProcess | undefined;
  const svcLog = () => read(join(root, 'logs', `${SVC}.log`));

  const recipe = (version: string, lifecycle: string[], artifact?: string) =>
    [
      'RecipeFormatVersion: "2020-01-25"',
      `ComponentName: ${SVC}`,
      `ComponentVersion: ${version}`,
      'ComponentConfiguration:',
      '  DefaultConfiguration: { Message: default }',
      'Manifests:',
      '  - Platform: { os: linux }',
      '    Lifecycle:',
      ...lifecycle.map((l) => `      ${l}`),
      ...(artifact ? ['    Artifacts:', `      - Uri: greengrass:${artifact}`] : []),
    ].join('\n');
  const healthy = (v: string) => [
    `Install: "echo install-begin ${v}; sleep 2; echo install-end ${v}"`,
    `Run: "echo run ${v} {configuration:/Message}; exec sleep 100000"`,
  ];

  async function start(init?: string): Promise<void> {
    const child = spawnTendril(['run', '--root', root, ...(init ? ['--init-config', init] : [])]);
    daemon = child;
    let out = '';
    child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
    await until(
      `the daemon to start (${out})`,
      () => out.includes('nucleus running on') || child.exitCode !== null,
    );
    expect(child.exitCode, out).to.equal(null);
  }

  async function kill9(): Promise<void> {
    const child = daemon!;
    child.kill('SIGKILL');
    await exitOf(child);
    daemon = undefined;
  }

  async function create(args: string[]): Promise<string> {
    const r = await tendril(['deployment', 'create', '--root', root, '--json', ...args]);
    expect(r.code, r.stderr).to.equal(0);
    return (JSON.parse(r.stdout) as { deploymentId: string }).deploymentId;
  }

  async function terminal(id: string): Promise<{ status: string; detailed?: string }> {
    for (;;) {
      const r = await tendril(['deployment', 'status', id, '--root', root, '--json']);
      expect(r.code, r.stderr).to.equal(0);
      const d = JSON.parse(r.stdout) as {
        status: string;
        deploymentStatusDetails?: { detailedDeploymentStatus: string };
      };
      if (d.status !== 'QUEUED' && d.status !== 'IN_PROGRESS')
        return { status: d.status, detailed: d.deploymentStatusDetails?.detailedDeploymentStatus };
    }
  }

  /** What the daemon wrote for the deployment before it was killed: proof of the instant. */
  const progressAtKill = (id: string) => {
    const f = join(root, 'deployments', encodeURIComponent(id), 'deployment_metadata.json');
    return existsSync(f) ? (JSON.parse(readFileSync(f, 'utf8')) as { status: string }).status : 'none';
  };

  /** The checks after every recovery. */
  async function expectRecovered(
    id: string,
    want: { status: string; detailed: string; version: string; message: string },
  ): Promise<void> {
    const end = await terminal(id);
    expect(end).to.deep.equal({ status: want.status, detailed: want.detailed });
    // the services match the end state: version and configuration together, RUNNING
    const r = await tendril(['component', 'details', SVC, '--root', root, '--json']);
    expect(r.code, r.stderr).to.equal(0);
    const d = JSON.parse(r.stdout) as {
      version: string;
      state: string;
      configuration?: { Message?: string };
    };
    expect({ version: d.version, message: d.configuration?.Message }).to.deep.equal({
      version: want.version,
      message: want.message,
    });
    expect(d.state).to.equal('RUNNING');
    // only the restarted daemon's processes run for this root: one run process, its child
    const pids = processesWith(marker);
    const strays = pids.filter((p) => !descendsFrom(p, daemon!.pid!));
    expect(strays, `processes not started by the restarted daemon: ${strays.join(',')}`).to.deep.equal([]);
    const runs = pids.filter((p) => read(`/proc/${p}/cmdline`).startsWith('sleep\u0000100000'));
    expect(runs, 'one run process').to.have.length(1);
    // [DP-64][DP-68] IN_PROGRESS and the terminal status stored once each (a rollback truncates the
    // tlog [CF-16], and so does the boot's undoing of a services write the kill interrupted: a
    // delivered IN_PROGRESS line may be compacted away then)
    const stored = storedStatuses(root, id);
    const truncated =
      want.detailed.startsWith('FAILED_ROLLBACK') ||
      read(join(root, 'logs', 'greengrass.log')).includes('restored the services from before the deployment');
    expect(
      stored.filter((s) => s !== 'IN_PROGRESS'),
      'terminal statuses stored',
    ).to.deep.equal([want.status]);
    expect(stored.filter((s) => s === 'IN_PROGRESS').length, 'IN_PROGRESS stored').to.be.at.most(1);
    if (!truncated) expect(stored).to.deep.equal(['IN_PROGRESS', want.status]);
    // no interrupted import is left behind
    expect(readdirSync(join(root, 'packages')).filter((n) => n.startsWith('.staging-'))).to.deep.equal([]);
  }

  before(async function () {
    if (process.getuid?.() !== 0) {
      console.log('      skipped: needs root to run components as nobody');
      this.skip();
    }
    dir = mkdtempSync(join(tmpdir(), 'tendril-crash-'));
    chmodSync(dir, 0o755); // the component user (nobody) must reach the root
    root = join(dir, 'root');
    recipes = join(dir, 'recipes');
    badRecipes = join(dir, 'recipes-bad');
    artifacts = join(dir, 'artifacts');
    mkdirSync(recipes);
    mkdirSync(badRecipes);
    mkdirSync(join(artifacts, SVC, '2.0.0'), { recursive: true });
    // a large artifact, so that the import stage lasts long enough to be caught
    writeFileSync(join(artifacts, SVC, '2.0.0', 'big.bin'), '');
    truncateSync(join(artifacts, SVC, '2.0.0', 'big.bin'), 96 * 2 ** 20);
    writeFileSync(join(recipes, `${SVC}-1.0.0.yaml`), recipe('1.0.0', healthy('1.0.0')));
    writeFileSync(join(recipes, `${SVC}-2.0.0.yaml`), recipe('2.0.0', healthy('2.0.0'), 'big.bin'));
    writeFileSync(join(badRecipes, `${SVC}-3.0.0.yaml`), recipe('3.0.0', ['Run: "echo run 3.0.0; exit 1"']));
    const init = join(dir, 'init.yaml');
    writeFileSync(
      init,
      [
        `setenv: { TENDRIL_TEST_MARKER: ${marker} }`,
        'services:',
        '  aws.greengrass.Nucleus:',
        '    configuration: { runWithDefault: { posixUser: "nobody:nogroup" } }',
      ].join('\n'),
    );
    await start(init);
    const first = await tendril([
      'deployment',
      'create',
      '--root',
      root,
      '--recipe-dir',
      recipes,
      '--artifact-dir',
      artifacts,
      '--merge',
      `${SVC}=1.0.0`,
      '--update-config',
      JSON.stringify({ [SVC]: { MERGE: { Message: 'm0' } } }),
      '--wait',
    ]);
    expect(first.code, first.stdout + first.stderr).to.equal(0);
  });

  after(async () => {
    if (daemon) {
      daemon.kill('SIGTERM');
      await exitOf(daemon);
    }
    const left = marker ? processesWith(marker) : [];
    for (const p of left) process.kill(p, 'SIGKILL');
    for (const ctl of ['memory', 'cpu', 'cpuacct', 'freezer'])
      try {
        rmdirSync(join('/sys/fs/cgroup', ctl, 'tendril', SVC));
      } catch {
        /* not there */
      }
    if (dir && !process.env.KEEP_TEST_DIRS) rmSync(dir, { recursive: true, force: true });
    expect(left, 'component processes left after the test').to.deep.equal([]);
  });

  const deployArgs = (version: string, message: string) => [
    '--recipe-dir',
    recipes,
    '--artifact-dir',
    artifacts,
    '--merge',
    `${SVC}=${version}`,
    '--update-config',
    JSON.stringify({ [SVC]: { MERGE: { Message: message } } }),
  ];
  const succeeded = (version: string, message: string) => ({
    status: 'SUCCEEDED',
    detailed: 'SUCCESSFUL',
    version,
    message,
  });

  it('[DP-03][DP-33] killed right after the queue acknowledged it: the restart runs it to SUCCEEDED', async () => {
    const id = await create(deployArgs('2.0.0', 'm1'));
    await kill9();
    expect(['none', 'IN_PROGRESS']).to.include(progressAtKill(id));
    await start();
    await expectRecovered(id, succeeded('2.0.0', 'm1'));
  });

  it('[DP-35][DP-40] killed during the artifact import: the staging folder is removed and the deployment succeeds', async () => {
    const id = await create(deployArgs('1.0.0', 'm2'));
    await until('the import staging folder', () =>
      readdirSync(join(root, 'packages')).some((n) => n.startsWith('.staging-')),
    );
    await kill9();
    expect(progressAtKill(id)).to.equal('IN_PROGRESS');
    await start();
    await expectRecovered(id, succeeded('1.0.0', 'm2'));
  });

  it('[DP-52] killed right after the rollback snapshot: the kept snapshot and the deployment complete', async () => {
    const id = await create(deployArgs('2.0.0', 'm3'));
    await until('the rollback snapshot', () =>
      existsSync(join(root, 'deployments', encodeURIComponent(id), 'rollback_snapshot.tlog')),
    );
    await kill9();
    expect(progressAtKill(id)).to.equal('IN_PROGRESS');
    await start();
    await expectRecovered(id, succeeded('2.0.0', 'm3'));
  });

  it('[DP-54] killed right after the new services were written, before convergence: the restart converges to them', async () => {
    const id = await create(deployArgs('1.0.0', 'm4'));
    await until('the new configuration in the tlog', () =>
      read(join(root, 'config', 'config.tlog')).includes('"m4"'),
    );
    await kill9();
    expect(progressAtKill(id)).to.equal('IN_PROGRESS');
    await start();
    await expectRecovered(id, succeeded('1.0.0', 'm4'));
  });

  it('[DP-55] killed while waiting for convergence (the install step running): the orphaned install is reaped, the deployment succeeds', async () => {
    const before = count(svcLog(), 'install-begin 2.0.0');
    const id = await create(deployArgs('2.0.0', 'm5'));
    await until('the 2.0.0 install', () => count(svcLog(), 'install-begin 2.0.0') > before);
    const orphans = processesWith(marker);
    await kill9();
    expect(progressAtKill(id)).to.equal('IN_PROGRESS');
    expect(orphans.length, 'component processes of the killed daemon').to.be.greaterThan(0);
    await start();
    // gone (or a zombie waiting for init to reap it), or a recycled pid of the new daemon's
    const survivors = orphans.filter((p) => live(p) && !descendsFrom(p, daemon!.pid!));
    expect(survivors, 'orphans of the killed daemon still running').to.deep.equal([]);
    await expectRecovered(id, succeeded('2.0.0', 'm5'));
  });

  it('[DP-59] killed during a rollback (the previous version reinstalling): the restart rolls back again to 2.0.0 with its configuration', async () => {
    const before = count(svcLog(), 'install-begin 2.0.0');
    const id = await create(['--recipe-dir', badRecipes, '--merge', `${SVC}=3.0.0`]);
    await until('3.0.0 failing', () => svcLog().includes('run 3.0.0'));
    await until('the rollback reinstalling 2.0.0', () => count(svcLog(), 'install-begin 2.0.0') > before);
    await kill9();
    expect(progressAtKill(id)).to.equal('IN_PROGRESS');
    await start();
    await expectRecovered(id, {
      status: 'FAILED',
      detailed: 'FAILED_ROLLBACK_COMPLETE',
      version: '2.0.0',
      message: 'm5',
    });
  });
});
