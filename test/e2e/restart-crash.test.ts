// The kernel-update path survives kill -9 of `tendril run` [CF-96][CF-98][DP-64][DP-68]: killed while a
// bootstrap step runs after a restart, the next start runs that step again but not the one recorded
// done; killed after a self-update installed alts/new and before the restart, the next start
// switches to the new version, which finishes the deployment. Each time one terminal status is stored.
import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  cpSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exitOf, processesWith, repoRoot, waitFor } from '../support/daemon.js';
import {
  componentDetails,
  createDeployment,
  nucleusStarts,
  startDaemon,
  storedStatuses,
  terminalStatus,
  type Daemon,
} from '../support/restart-daemon.js';

describe('e2e: kill -9 of tendril run on the kernel-update path', function () {
  this.timeout(300_000);
  const hex = randomBytes(4).toString('hex');
  const marker = `tendril-restart-crash-${hex}`;
  const FIRST = `com.rcrash${hex}.First`;
  const SLOW = `com.rcrash${hex}.Slow`;
  let dir: string;
  let root: string;
  let recipes: string;
  let marks: string;
  let daemon: Daemon | undefined;
  const lines = () =>
    existsSync(marks) ? readFileSync(marks, 'utf8').trim().split('\n').filter(Boolean) : [];
  const start = async (init?: string) => {
    daemon = await startDaemon(['--root', root, ...(init ? ['--init-config', init] : [])], process.env);
  };
  const kill9 = async () => {
    daemon!.child.kill('SIGKILL');
    await exitOf(daemon!.child);
    daemon = undefined;
  };

  before(async function () {
    if (process.getuid?.() !== 0) {
      console.log('      skipped: needs root to run components as nobody and privileged bootstrap steps');
      this.skip();
    }
    dir = mkdtempSync(join(tmpdir(), 'tendril-rcrash-'));
    chmodSync(dir, 0o755);
    root = join(dir, 'root');
    recipes = join(dir, 'recipes');
    marks = join(dir, 'marks');
    mkdirSync(recipes);
    const recipe = (name: string, bootstrap: string, deps: string[] = []) =>
      writeFileSync(
        join(recipes, `${name}-1.0.0.yaml`),
        [
          'RecipeFormatVersion: "2020-01-25"',
          `ComponentName: ${name}`,
          'ComponentVersion: 1.0.0',
          ...(deps.length
            ? ['ComponentDependencies:', ...deps.map((d) => `  ${d}: { VersionRequirement: "1.0.0" }`)]
            : []),
          'Manifests:',
          '  - Platform: { os: linux }',
          '    Lifecycle:',
          `      Bootstrap: { Script: ${JSON.stringify(bootstrap)}, RequiresPrivilege: true }`,
          '      Run: "exec sleep 100000"',
        ].join('\n'),
      );
    recipe(FIRST, `echo first >> ${marks}; exit 100`);
    recipe(SLOW, `echo slow-begin >> ${marks}; sleep 3; echo slow-end >> ${marks}`, [FIRST]);
    const init = join(dir, 'init.yaml');
    writeFileSync(
      init,
      `setenv: { TENDRIL_TEST_MARKER: ${marker} }\nservices:\n  aws.greengrass.Nucleus:\n    configuration: { runWithDefault: { posixUser: "nobody:nogroup" } }\n`,
    );
    await start(init);
  });

  after(async () => {
    const end = await daemon?.stop();
    const left = processesWith(marker);
    for (const p of left) process.kill(p, 'SIGKILL');
    for (const ctl of ['memory', 'cpu', 'cpuacct', 'freezer'])
      for (const n of [FIRST, SLOW])
        try {
          rmdirSync(join('/sys/fs/cgroup', ctl, 'tendril', n));
        } catch {
          /* not there */
        }
    if (dir && !process.env.KEEP_TEST_DIRS) rmSync(dir, { recursive: true, force: true });
    if (daemon) expect(end, daemon.output()).to.deep.equal({ code: 0, signal: null });
    expect(left, 'processes left after the daemon stopped').to.deep.equal([]);
  });

  it('[CF-96][DP-31] killed while the remaining bootstrap step runs after the restart: the next start runs it again, not the one recorded done', async () => {
    const id = await createDeployment(root, ['--recipe-dir', recipes, '--merge', `${SLOW}=1.0.0`]);
    await waitFor('the slow step after the restart', () => lines().includes('slow-begin'), 60_000);
    expect(nucleusStarts(root)).to.have.length(2);
    await kill9();
    await start();
    const end = await terminalStatus(root, id);
    expect(end, end.cause).to.include({ status: 'SUCCEEDED', detailed: 'SUCCESSFUL' });
    expect(lines().filter((l) => l === 'first')).to.have.length(1);
    expect(lines().filter((l) => l === 'slow-begin')).to.have.length(2);
    expect(lines().filter((l) => l === 'slow-end')).to.have.length(1);
    for (const n of [FIRST, SLOW])
      expect(await componentDetails(root, n), n).to.include({ state: 'RUNNING' });
    expect(storedStatuses(root, id).filter((s) => s !== 'IN_PROGRESS')).to.deep.equal(['SUCCEEDED']);
  });

  it('[CF-87][CF-96] killed after the self-update installed alts/new, before the restart: the next start switches to it and it finishes the deployment', async function () {
    if (!existsSync(join(repoRoot, 'dist', 'cli', 'tendril.js'))) {
      console.log('      skipped: needs dist/ (npm run build) to build a Tendril package from');
      this.skip();
    }
    const version = `0.0.1-rcrash.${hex}`;
    const pkg = join(dir, 'pkg');
    cpSync(join(repoRoot, 'dist'), join(pkg, 'dist'), { recursive: true });
    const manifest = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as Record<
      string,
      unknown
    >;
    writeFileSync(join(pkg, 'package.json'), JSON.stringify({ ...manifest, version }));
    const art = join(dir, 'artifacts', 'tendril.Nucleus', version);
    mkdirSync(art, { recursive: true });
    execFileSync('python3', ['-m', 'zipfile', '-c', join(art, 'tendril.zip'), 'package.json', 'dist'], {
      cwd: pkg,
    });
    writeFileSync(
      join(recipes, `tendril.Nucleus-${version}.yaml`),
      [
        'RecipeFormatVersion: "2020-01-25"',
        'ComponentName: tendril.Nucleus',
        `ComponentVersion: ${version}`,
        'ComponentType: aws.greengrass.nucleus',
        'Manifests:',
        '  - Platform: { os: linux }',
        '    Artifacts:',
        '      - Uri: s3://packages/tendril.zip',
      ].join('\n'),
    );
    const isLink = (p: string) => {
      try {
        return lstatSync(p).isSymbolicLink();
      } catch {
        return false;
      }
    };
    const id = await createDeployment(root, [
      '--recipe-dir',
      recipes,
      '--artifact-dir',
      join(dir, 'artifacts'),
      '--merge',
      `tendril.Nucleus=${version}`,
    ]);
    await waitFor('alts/new', () => isLink(join(root, 'alts', 'new')), 60_000);
    await kill9();
    await start();
    const end = await terminalStatus(root, id);
    expect(end, end.cause).to.include({ status: 'SUCCEEDED', detailed: 'SUCCESSFUL' });
    expect(nucleusStarts(root).at(-1)).to.include(`Tendril ${version} from ${join(root, 'alts', id)},`);
    expect(isLink(join(root, 'alts', 'new')) || isLink(join(root, 'alts', 'old'))).to.equal(false);
    for (const n of [FIRST, SLOW])
      expect(await componentDetails(root, n), n).to.include({ state: 'RUNNING' });
    expect(storedStatuses(root, id).filter((s) => s !== 'IN_PROGRESS')).to.deep.equal(['SUCCEEDED']);
  });
});
