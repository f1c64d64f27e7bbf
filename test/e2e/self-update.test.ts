// Nucleus self-update against the real daemon [CF-87..CF-90][CF-96..CF-99][DP-58]: a local deployment
// of aws.greengrass.Nucleus (or tendril.Nucleus) whose artifact is a Tendril package built by the test
// from this checkout's dist/ with another version number is installed under <root>/alts, and
// `tendril run` restarts into it (the new version runs as its child); the new version finishes the
// deployment. A package that crashes at boot, or never reports ready, is given up after 3 launches:
// the launcher goes back to the previous version, which reports the deployment FAILED, once.
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { processesWith, repoRoot, runTendril as tendril } from '../support/daemon.js';
import {
  componentDetails,
  createDeployment,
  nucleusStarts,
  startDaemon,
  storedStatuses,
  terminalStatus,
  type Daemon,
} from '../support/restart-daemon.js';

const RUNNING_VERSION = (
  JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string }
).version;

/**
 * Builds a Tendril package (ZIP of package.json + dist/) from this checkout's dist/ as version
 * `version` of component `component`, with its recipe, under `dir`/recipes and `dir`/artifacts.
 * `boot` replaces the entry script's body (a deliberate crash or hang).
 */
function buildPackage(dir: string, component: string, version: string, boot?: string): void {
  const pkg = join(dir, `pkg-${version}`);
  mkdirSync(pkg, { recursive: true });
  cpSync(join(repoRoot, 'dist'), join(pkg, 'dist'), { recursive: true });
  const manifest = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as Record<
    string,
    unknown
  >;
  writeFileSync(join(pkg, 'package.json'), JSON.stringify({ ...manifest, version }, null, 2));
  if (boot) writeFileSync(join(pkg, 'dist', 'cli', 'tendril.js'), `${boot}\n`);
  const art = join(dir, 'artifacts', component, version);
  mkdirSync(art, { recursive: true });
  execFileSync('python3', ['-m', 'zipfile', '-c', join(art, 'tendril.zip'), 'package.json', 'dist'], {
    cwd: pkg,
  });
  rmSync(pkg, { recursive: true, force: true });
  mkdirSync(join(dir, 'recipes'), { recursive: true });
  writeFileSync(
    join(dir, 'recipes', `${component}-${version}.yaml`),
    [
      'RecipeFormatVersion: "2020-01-25"',
      `ComponentName: ${component}`,
      `ComponentVersion: ${version}`,
      'ComponentType: aws.greengrass.nucleus',
      'Manifests:',
      '  - Platform: { os: linux }',
      '    Artifacts:',
      '      - Uri: s3://tendril-packages/tendril.zip',
    ].join('\n'),
  );
}

/** The nucleus process holding the root's lock: its pid, parent and command line. */
function lockHolder(root: string): { pid: number; ppid: number; cmdline: string } {
  const pid = Number(readFileSync(join(root, 'alts', 'tendril.pid'), 'utf8').trim());
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  return { pid, ppid, cmdline: readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ') };
}

const altsEntries = (root: string) => readdirSync(join(root, 'alts')).sort();

function setup(prefix: string): { dir: string; root: string; init: string; marker: string } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  chmodSync(dir, 0o755);
  const marker = `${prefix}${randomBytes(4).toString('hex')}`;
  const init = join(dir, 'init.yaml');
  writeFileSync(
    init,
    `setenv: { TENDRIL_TEST_MARKER: ${marker} }\nservices:\n  aws.greengrass.Nucleus:\n    configuration: { runWithDefault: { posixUser: "nobody:nogroup" } }\n`,
  );
  return { dir, root: join(dir, 'root'), init, marker };
}

async function teardown(
  daemon: Daemon | undefined,
  dir: string,
  marker: string,
  cgroups: string[],
): Promise<void> {
  const end = await daemon?.stop();
  const left = processesWith(marker);
  for (const p of left) process.kill(p, 'SIGKILL');
  for (const ctl of ['memory', 'cpu', 'cpuacct', 'freezer'])
    for (const n of cgroups)
      try {
        rmdirSync(join('/sys/fs/cgroup', ctl, 'tendril', n));
      } catch {
        /* not there */
      }
  if (dir && !process.env.KEEP_TEST_DIRS) rmSync(dir, { recursive: true, force: true });
  if (daemon) expect(end, daemon.output()).to.deep.equal({ code: 0, signal: null });
  expect(left, 'processes left after the daemon stopped').to.deep.equal([]);
}

function needsRootAndBuild(ctx: Mocha.Context): void {
  if (process.getuid?.() !== 0) {
    console.log('      skipped: needs root to run components as nobody');
    ctx.skip();
  }
  if (!existsSync(join(repoRoot, 'dist', 'cli', 'tendril.js'))) {
    console.log('      skipped: needs dist/ (npm run build) to build a Tendril package from');
    ctx.skip();
  }
}

describe('e2e: nucleus self-update through a local deployment', function () {
  this.timeout(300_000);
  const hex = randomBytes(4).toString('hex');
  const APP = `com.selfupdate${hex}.App`;
  const NEW = `${RUNNING_VERSION}-selftest.${hex}`;
  const CRASH = `${RUNNING_VERSION}-crash.${hex}`;
  const FAILS = `${RUNNING_VERSION}-fails.${hex}`;
  const BROKEN = `com.selfupdate${hex}.Broken`;
  let s: ReturnType<typeof setup>;
  let daemon: Daemon | undefined;
  let updateId = '';

  before(async function () {
    needsRootAndBuild(this);
    s = setup('tendril-selfupdate-');
    buildPackage(s.dir, 'aws.greengrass.Nucleus', NEW);
    buildPackage(
      s.dir,
      'aws.greengrass.Nucleus',
      CRASH,
      'console.error("deliberate crash at boot");\nprocess.exit(3);',
    );
    buildPackage(s.dir, 'aws.greengrass.Nucleus', FAILS);
    writeFileSync(
      join(s.dir, 'recipes', `${BROKEN}-1.0.0.yaml`),
      [
        'RecipeFormatVersion: "2020-01-25"',
        `ComponentName: ${BROKEN}`,
        'ComponentVersion: 1.0.0',
        'Manifests:',
        '  - Platform: { os: linux }',
        '    Lifecycle:',
        '      Run: "echo broken-run; exit 1"',
      ].join('\n'),
    );
    writeFileSync(
      join(s.dir, 'recipes', `${APP}-1.0.0.yaml`),
      [
        'RecipeFormatVersion: "2020-01-25"',
        `ComponentName: ${APP}`,
        'ComponentVersion: 1.0.0',
        'Manifests:',
        '  - Platform: { os: linux }',
        '    Lifecycle:',
        '      Run: "echo app-run; exec sleep 100000"',
      ].join('\n'),
    );
    daemon = await startDaemon(['--root', s.root, '--init-config', s.init], process.env);
  });

  after(async () => {
    if (s) await teardown(daemon, s.dir, s.marker, [APP, BROKEN]);
  });

  it('[CF-96][CF-87][CF-99] installs the new version under alts/, restarts into it, and the new version finishes the deployment', async () => {
    const starts = nucleusStarts(s.root).length;
    updateId = await createDeployment(s.root, [
      '--recipe-dir',
      join(s.dir, 'recipes'),
      '--artifact-dir',
      join(s.dir, 'artifacts'),
      '--merge',
      `${APP}=1.0.0`,
      '--merge',
      `aws.greengrass.Nucleus=${NEW}`,
    ]);
    const end = await terminalStatus(s.root, updateId);
    expect(end, end.cause).to.include({ status: 'SUCCEEDED', detailed: 'SUCCESSFUL' });
    // the nucleus that finished it is the new version, launched from its launch directory
    const launchDir = join(s.root, 'alts', updateId);
    const log = nucleusStarts(s.root);
    expect(log).to.have.length(starts + 1);
    expect(log.at(-1)).to.include(`Tendril ${NEW} from ${launchDir},`);
    const holder = lockHolder(s.root);
    expect(holder.ppid, 'the new nucleus runs as the launcher’s child').to.equal(daemon!.child.pid);
    expect(holder.cmdline).to.include(join(launchDir, 'dist', 'cli', 'tendril.js'));
    expect(daemon!.output()).to.include(`tendril: launching Tendril ${NEW} from ${launchDir}`);
    // [CF-99] committed: current -> the new launch directory, no old link left
    expect(readlinkSync(join(s.root, 'alts', 'current'))).to.equal(updateId);
    expect(altsEntries(s.root)).to.deep.equal([updateId, 'current', 'init', 'tendril.pid'].sort());
    const status = await tendril(['status', '--root', s.root, '--json']);
    expect(status.code, status.stderr).to.equal(0);
    const components = (JSON.parse(status.stdout) as { components: Array<{ name: string; version: string }> })
      .components;
    expect(components.find((c) => c.name === 'aws.greengrass.Nucleus')?.version).to.equal(NEW);
    expect(await componentDetails(s.root, APP)).to.include({ version: '1.0.0', state: 'RUNNING' });
    expect(storedStatuses(s.root, updateId).filter((x) => x !== 'IN_PROGRESS')).to.deep.equal(['SUCCEEDED']);
  });

  it('[CF-89][CF-98][CF-99] a version that crashes at boot is launched 3 times, then the previous one runs again and reports FAILED once', async () => {
    const previous = lockHolder(s.root);
    const id = await createDeployment(s.root, [
      '--recipe-dir',
      join(s.dir, 'recipes'),
      '--artifact-dir',
      join(s.dir, 'artifacts'),
      '--merge',
      `aws.greengrass.Nucleus=${CRASH}`,
    ]);
    const end = await terminalStatus(s.root, id);
    expect(end).to.include({ status: 'FAILED', detailed: 'FAILED_ROLLBACK_COMPLETE' });
    expect(end.errors).to.include('NUCLEUS_RESTART_FAILURE');
    expect(end.cause).to.include(`aws.greengrass.Nucleus@${CRASH} did not start`);
    const out = daemon!.output();
    expect(out.split('deliberate crash at boot').length - 1).to.equal(3);
    expect(out).to.include('3 failed launches');
    // the previous version (itself launched from alts/) runs again; the failed one is gone
    const holder = lockHolder(s.root);
    expect(holder.pid).to.not.equal(previous.pid);
    expect(holder.cmdline).to.include(join(s.root, 'alts', updateId, 'dist', 'cli', 'tendril.js'));
    expect(nucleusStarts(s.root).at(-1)).to.include(`Tendril ${NEW} from`);
    expect(readlinkSync(join(s.root, 'alts', 'current'))).to.equal(updateId);
    expect(altsEntries(s.root)).to.deep.equal([updateId, 'current', 'init', 'tendril.pid'].sort());
    expect(existsSync(join(s.root, 'work', 'aws.greengrass.Nucleus', 'restart_panic'))).to.equal(false);
    const nucleus = await componentDetails(s.root, 'aws.greengrass.Nucleus');
    expect(nucleus?.version).to.equal(NEW);
    expect(await componentDetails(s.root, APP)).to.include({ version: '1.0.0', state: 'RUNNING' });
    expect(storedStatuses(s.root, id).filter((x) => x !== 'IN_PROGRESS')).to.deep.equal(['FAILED']);
  });

  it('[CF-99] a new version that starts but fails the deployment (a component goes BROKEN) hands back to the previous one, which rolls it back and reports why', async () => {
    const id = await createDeployment(s.root, [
      '--recipe-dir',
      join(s.dir, 'recipes'),
      '--artifact-dir',
      join(s.dir, 'artifacts'),
      '--merge',
      `aws.greengrass.Nucleus=${FAILS}`,
      '--merge',
      `${BROKEN}=1.0.0`,
    ]);
    const end = await terminalStatus(s.root, id);
    expect(end).to.include({ status: 'FAILED', detailed: 'FAILED_ROLLBACK_COMPLETE' });
    expect(end.errors).to.include('COMPONENT_BROKEN');
    expect(end.cause).to.include(`service ${BROKEN} is broken`);
    // the failing version ran and activated the deployment; the previous one finished it
    const starts = nucleusStarts(s.root);
    expect(starts.at(-2)).to.include(`Tendril ${FAILS} from ${join(s.root, 'alts', id)},`);
    expect(starts.at(-1)).to.include(`Tendril ${NEW} from ${join(s.root, 'alts', updateId)},`);
    expect(readlinkSync(join(s.root, 'alts', 'current'))).to.equal(updateId);
    expect(altsEntries(s.root)).to.deep.equal([updateId, 'current', 'init', 'tendril.pid'].sort());
    expect((await componentDetails(s.root, 'aws.greengrass.Nucleus'))?.version).to.equal(NEW);
    expect(await componentDetails(s.root, BROKEN)).to.equal(undefined);
    expect(await componentDetails(s.root, APP)).to.include({ version: '1.0.0', state: 'RUNNING' });
    expect(storedStatuses(s.root, id).filter((x) => x !== 'IN_PROGRESS')).to.deep.equal(['FAILED']);
  });
});

describe('e2e: nucleus self-update to a version that never becomes ready', function () {
  this.timeout(300_000);
  const hex = randomBytes(4).toString('hex');
  const HANG = `${RUNNING_VERSION}-hang.${hex}`;
  let s: ReturnType<typeof setup>;
  let daemon: Daemon | undefined;

  before(async function () {
    needsRootAndBuild(this);
    s = setup('tendril-selfhang-');
    buildPackage(s.dir, 'tendril.Nucleus', HANG, 'setInterval(() => undefined, 1000);');
    daemon = await startDaemon(['--root', s.root, '--init-config', s.init], {
      ...process.env,
      TENDRIL_LAUNCH_READY_TIMEOUT_SEC: '2',
    });
  });

  after(async () => {
    if (s) await teardown(daemon, s.dir, s.marker, []);
  });

  it('[CF-89] tendril.Nucleus at a version that does not report ready in time: 3 launches, back to the running version, FAILED', async () => {
    const id = await createDeployment(s.root, [
      '--recipe-dir',
      join(s.dir, 'recipes'),
      '--artifact-dir',
      join(s.dir, 'artifacts'),
      '--merge',
      `tendril.Nucleus=${HANG}`,
    ]);
    const end = await terminalStatus(s.root, id);
    expect(end).to.include({ status: 'FAILED', detailed: 'FAILED_ROLLBACK_COMPLETE' });
    expect(end.errors).to.include('NUCLEUS_RESTART_FAILURE');
    expect(daemon!.output().split('did not report ready in').length - 1).to.equal(3);
    // back in the launcher's own process, on the version that runs the tests
    expect(lockHolder(s.root).pid).to.equal(daemon!.child.pid);
    expect(nucleusStarts(s.root).at(-1)).to.include(`Tendril ${RUNNING_VERSION} from ${repoRoot},`);
    expect(readlinkSync(join(s.root, 'alts', 'current'))).to.equal('init');
    expect(altsEntries(s.root)).to.deep.equal(['current', 'init', 'tendril.pid']);
    expect(await componentDetails(s.root, 'tendril.Nucleus')).to.equal(undefined);
    expect(storedStatuses(s.root, id).filter((x) => x !== 'IN_PROGRESS')).to.deep.equal(['FAILED']);
  });
});
