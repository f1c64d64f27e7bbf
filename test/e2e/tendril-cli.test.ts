// The `tendril deployment ...` and `tendril component ...` commands as separate processes against
// the real daemon (`tendril run`), over its IPC socket only [CF-75][IPC-68..IPC-75]: tables by
// default, --json, --wait progress and exit codes, usage errors that never reach the daemon.
import { expect } from 'chai';
import type { ChildProcess } from 'node:child_process';
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
import { exitOf, processesWith, spawnTendril, waitFor, runTendril as tendril } from '../support/daemon.js';

describe('e2e: tendril deployment and tendril component against the daemon', function () {
  this.timeout(90_000);
  const hex = randomBytes(4).toString('hex');
  const SVC = `com.cli${hex}.Svc`;
  const marker = `tendril-cli-${hex}`;
  let dir: string;
  let root: string;
  let recipes: string;
  let daemon: ChildProcess | undefined;
  let deploymentId = '';
  const runs = () => {
    const f = join(root, 'logs', `${SVC}.log`);
    return existsSync(f) ? readFileSync(f, 'utf8').split('run-svc').length - 1 : 0;
  };

  before(async function () {
    if (process.getuid?.() !== 0) {
      console.log('      skipped: needs root to run components as nobody');
      this.skip();
    }
    dir = mkdtempSync(join(tmpdir(), 'tendril-cli-'));
    chmodSync(dir, 0o755); // the component user (nobody) must reach the root
    root = join(dir, 'root');
    recipes = join(dir, 'recipes');
    mkdirSync(recipes);
    writeFileSync(
      join(recipes, `${SVC}-1.0.0.yaml`),
      [
        'RecipeFormatVersion: "2020-01-25"',
        `ComponentName: ${SVC}`,
        'ComponentVersion: 1.0.0',
        'ComponentConfiguration:',
        '  DefaultConfiguration: { Message: hi }',
        'Manifests:',
        '  - Platform: { os: linux }',
        '    Lifecycle:',
        '      Run: "echo run-svc; exec sleep 100000"',
      ].join('\n'),
    );
    const init = join(dir, 'init.yaml');
    writeFileSync(
      init,
      `setenv: { TENDRIL_TEST_MARKER: ${marker} }\nservices:\n  aws.greengrass.Nucleus:\n    configuration: { runWithDefault: { posixUser: "nobody:nogroup" } }\n`,
    );
    daemon = spawnTendril(['run', '--root', root, '--init-config', init]);
    let out = '';
    daemon.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    await waitFor('the daemon', () => out.includes('nucleus running on'), 30_000);
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
    expect(left, 'component processes left after the daemon stopped').to.deep.equal([]);
  });

  it('[DP-01][DP-64][IPC-68][IPC-70] deployment create --wait prints each status change and the component states, exits 0 on SUCCEEDED', async () => {
    const r = await tendril([
      'deployment',
      'create',
      '--root',
      root,
      '--recipe-dir',
      recipes,
      '--merge',
      `${SVC}=1.0.0`,
      '--update-config',
      JSON.stringify({ [SVC]: { MERGE: { Message: 'from the cli' } } }),
      '--wait',
    ]);
    expect(r.code, r.stdout + r.stderr).to.equal(0);
    deploymentId = /Deployment ([0-9a-f-]{36}) submitted/.exec(r.stdout)?.[1] ?? '';
    expect(deploymentId).to.have.length(36);
    const lines = r.stdout.split('\n');
    const statusLines = lines
      .filter((l) => l.includes(`  ${deploymentId}  `))
      .map((l) => l.trim().split(/\s+/).at(-1));
    expect(statusLines.at(-1)).to.equal('SUCCEEDED');
    expect(statusLines).to.not.include('FAILED');
    expect(r.stdout).to.contain(`${SVC}: 1.0.0 RUNNING`);
    expect(r.stdout).to.match(/Status: +SUCCEEDED\nCreated: .*\nDetailed: +SUCCESSFUL/);
  });

  it('[IPC-70][IPC-71] deployment status and list: a table, and --json with the same facts', async () => {
    const table = await tendril(['deployment', 'list', '--root', root]);
    expect(table.code, table.stderr).to.equal(0);
    expect(table.stdout.split('\n')[0]).to.match(/^DEPLOYMENT +STATUS +DETAILED +CREATED$/);
    expect(table.stdout).to.match(new RegExp(`${deploymentId} +SUCCEEDED +SUCCESSFUL +\\d{4}-`));
    const json = await tendril(['deployment', 'list', '--root', root, '--json']);
    const all = JSON.parse(json.stdout) as Array<{ deploymentId: string; status: string }>;
    expect(all.find((d) => d.deploymentId === deploymentId)?.status).to.equal('SUCCEEDED');
    const status = await tendril(['deployment', 'status', deploymentId, '--root', root]);
    expect(status.code).to.equal(0);
    expect(status.stdout).to.contain(`Deployment: ${deploymentId}`).and.contain('Detailed:   SUCCESSFUL');
  });

  it('[IPC-72][IPC-73] component list and details: table and JSON', async () => {
    const list = await tendril(['component', 'list', '--root', root]);
    expect(list.code, list.stderr).to.equal(0);
    expect(list.stdout.split('\n')[0]).to.match(/^NAME +VERSION +STATE$/);
    expect(list.stdout).to.match(new RegExp(`${SVC.replace(/\./g, '\\.')} +1\\.0\\.0 +RUNNING`));
    const details = await tendril(['component', 'details', SVC, '--root', root, '--json']);
    expect(JSON.parse(details.stdout)).to.deep.include({
      componentName: SVC,
      version: '1.0.0',
      state: 'RUNNING',
      configuration: { Message: 'from the cli' },
    });
  });

  it('[IPC-74][IPC-75] component restart runs it again; stop ends it FINISHED; an unknown name fails first, exit 1', async () => {
    const before = runs();
    const restart = await tendril(['component', 'restart', SVC, '--root', root]);
    expect(restart.code, restart.stderr).to.equal(0);
    expect(restart.stdout).to.match(new RegExp(`${SVC.replace(/\./g, '\\.')} +SUCCEEDED`));
    await waitFor('a second run', () => runs() > before);
    const unknown = await tendril(['component', 'stop', SVC, `com.cli${hex}.Nope`, '--root', root]);
    expect(unknown.code).to.equal(1);
    expect(unknown.stderr).to.contain('ResourceNotFoundError').and.contain(`com.cli${hex}.Nope`);
    const stop = await tendril(['component', 'stop', SVC, '--root', root, '--json']);
    expect(stop.code, stop.stderr).to.equal(0);
    const results = JSON.parse(stop.stdout) as Array<{ componentName: string; status: string }>;
    expect(results.map((x) => [x.componentName, x.status])).to.deep.equal([[SVC, 'SUCCEEDED']]);
    for (;;) {
      const d = await tendril(['component', 'details', SVC, '--root', root, '--json']);
      if ((JSON.parse(d.stdout) as { state: string }).state === 'FINISHED') break;
    }
  });

  it('usage errors name the flag and exit 2 without reaching the daemon; --help lists the subcommands', async () => {
    const bad = await tendril(['deployment', 'create', '--merge', 'noversion', '--root', root]);
    expect(bad.code).to.equal(2);
    expect(bad.stderr).to.contain('--merge must be NAME=VERSION');
    const wrongFlag = await tendril(['deployment', 'list', '--merge', 'a=1', '--root', root]);
    expect(wrongFlag.code).to.equal(2);
    expect(wrongFlag.stderr).to.contain("--merge does not apply to 'deployment list'");
    const policy = await tendril([
      'deployment',
      'create',
      '--merge',
      'a=1',
      '--failure-policy',
      'MAYBE',
      '--root',
      root,
    ]);
    expect(policy.code).to.equal(2);
    expect(policy.stderr).to.contain('--failure-policy must be ROLLBACK or DO_NOTHING');
    const none = await tendril(['component', 'details', '--root', root]);
    expect(none.code).to.equal(2);
    const help = await tendril(['component', '--help']);
    expect(help.code).to.equal(0);
    expect(help.stdout).to.contain('restart NAME...').and.contain('details NAME');
    const absent = await tendril(['component', 'list', '--root', join(dir, 'nowhere')]);
    expect(absent.code).to.equal(1);
    expect(absent.stderr).to.contain(join(dir, 'nowhere', 'cli_ipc_info', 'info.json'));
  });
});
