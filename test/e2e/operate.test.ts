// Operating a running nucleus: the new examples (a runWith user with a memory limit, configuration with
// an Install step, a three-component app with HARD/SOFT dependencies) are deployed through the CLI IPC
// operations with the CLI token [CF-75, IPC-68], and `tendril status` and `tendril logs` (-f, across
// rotation [LC-93]) show them.
import { expect } from 'chai';
import type { ChildProcess } from 'node:child_process';
import {
  appendFileSync,
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Nucleus } from '../../src/nucleus/index.js';
import { readCliIpcInfo } from '../../src/cli/greengrass-cli-client.js';
import { officialClient } from '../support/ipc-client.js';
import {
  exitOf,
  repoRoot,
  stateChanges,
  stateOf,
  waitFor,
  runTendril as run,
  spawnTendril,
} from '../support/daemon.js';

const examples = join(repoRoot, 'examples', 'components');
const APP = ['com.example.app.Store', 'com.example.app.Api', 'com.example.app.Frontend'];

/** Runs `tendril logs -f ...` and collects its output until stopped. */
function follow(args: string[]): { child: ChildProcess; output: () => string } {
  const child = spawnTendril(['logs', '-f', ...args]);
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  return { child, output: () => out };
}

describe('e2e: operate a nucleus (new examples, tendril status, tendril logs)', function () {
  this.timeout(120000);
  let dir: string;
  let root: string;
  let nucleus: Nucleus | undefined;
  let deploymentId: string;
  const log = (c: string) => {
    const f = join(root, 'logs', `${c}.log`);
    return existsSync(f) ? readFileSync(f, 'utf8') : '';
  };

  before(async function () {
    if (process.getuid?.() !== 0) {
      console.log('      skipped: needs root to run components as nobody');
      this.skip();
    }
    dir = mkdtempSync(join(tmpdir(), 'tendril-operate-'));
    chmodSync(dir, 0o755);
    const init = join(dir, 'init.yaml');
    writeFileSync(
      init,
      'services:\n  aws.greengrass.Nucleus:\n    configuration:\n      runWithDefault: { posixUser: "nobody:nogroup" }\n      telemetry: { localPublishIntervalSeconds: 1 }\n',
    );
    root = join(dir, 'root');
    nucleus = await Nucleus.start({ root, initConfigFile: init });
  });
  after(async () => {
    await nucleus?.stop();
    if (dir && !process.env.KEEP_TEST_DIRS) rmSync(dir, { recursive: true, force: true });
  });

  it('[DP-01][IPC-68][LC-65][LC-81] the new examples deploy with the CLI token: runWith user and memory limit, Install with configuration, the app in dependency order', async () => {
    const info = readCliIpcInfo(root);
    const client = officialClient(info.socketPath, info.token);
    await client.connect();
    try {
      const created = await client.createLocalDeployment({
        recipeDirectoryPath: join(examples, 'recipes'),
        artifactsDirectoryPath: join(examples, 'artifacts'),
        rootComponentVersionsToAdd: new Map([
          ['com.example.LimitedWorker', '1.0.0'],
          ['com.example.ConfiguredGreeter', '1.0.0'],
          ['com.example.app.Frontend', '1.0.0'],
        ]),
        componentToConfiguration: new Map([
          ['com.example.ConfiguredGreeter', { MERGE: { Name: 'operator', IntervalSeconds: '1' } }],
        ]),
        componentToRunWithInfo: new Map([
          [
            'com.example.LimitedWorker',
            { posixUser: 'nobody:nogroup', systemResourceLimits: { memory: 65536, cpus: 0.5 } },
          ],
        ]),
      });
      deploymentId = created.deploymentId!;
      let status = '';
      const deadline = Date.now() + 90000;
      while (status !== 'SUCCEEDED' && status !== 'FAILED' && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 200));
        const d = (await client.getLocalDeploymentStatus({ deploymentId })).deployment;
        status = String(d.status);
        if (status === 'FAILED') console.log(JSON.stringify(d.deploymentStatusDetails));
      }
      expect(status).to.equal('SUCCEEDED');
    } finally {
      await client.close();
    }
    await waitFor('LimitedWorker output', () => log('com.example.LimitedWorker').includes('memory limit:'));
    expect(log('com.example.LimitedWorker')).to.include('LimitedWorker running as nobody:nogroup');
    if (nucleus!.resources.version === 'none')
      console.log('      (no writable cgroupfs here: the memory limit itself is not checked)');
    else expect(log('com.example.LimitedWorker')).to.include('LimitedWorker memory limit: 67108864');
    await waitFor('ConfiguredGreeter output', () => log('com.example.ConfiguredGreeter').includes('says:'));
    expect(log('com.example.ConfiguredGreeter')).to.include('ConfiguredGreeter installed: Hello, operator!');
    expect(log('com.example.ConfiguredGreeter')).to.include('ConfiguredGreeter says: Hello, operator!');
    expect(
      readFileSync(join(root, 'work', 'com.example.ConfiguredGreeter', 'greeting.txt'), 'utf8'),
    ).to.equal('Hello, operator!\n');
    for (const c of APP) expect(stateOf(root, c), c).to.equal('RUNNING');
    const running = stateChanges(root)
      .filter(([s, , to]) => APP.includes(s) && to === 'RUNNING')
      .map(([s]) => s);
    expect(running.slice(0, 3)).to.deep.equal(APP); // Store, then Api (HARD on Store), then Frontend
  });

  it('[CF-75] tendril status shows every component with version, state, CPU and memory, and the last local deployment', async () => {
    type Status = {
      components: Array<{
        name: string;
        version: string;
        state: string;
        memoryBytes?: number;
        cpuPercent?: number | null;
      }>;
      lastDeployment: { deploymentId: string; status: string };
    };
    // telemetry samples every second here: wait for a sample that has the components, with CPU
    // (which needs two samples of a component)
    let s: Status | undefined;
    const names = ['com.example.LimitedWorker', 'com.example.ConfiguredGreeter', ...APP];
    const sampled = () =>
      names.every((n) => {
        const c = s?.components.find((x) => x.name === n);
        return c?.memoryBytes !== undefined && c.cpuPercent !== undefined && c.cpuPercent !== null;
      });
    for (let i = 0; i < 60 && !sampled(); i++) {
      const r = await run(['status', '--root', root, '--json']);
      expect(r.code, r.stderr).to.equal(0);
      s = JSON.parse(r.stdout) as Status;
      await new Promise((res) => setTimeout(res, 200));
    }
    for (const name of names) {
      const c = s!.components.find((x) => x.name === name);
      expect(c).to.include({ name, version: '1.0.0', state: 'RUNNING' });
      expect(c!.memoryBytes, name).to.be.greaterThan(0);
    }
    expect(s!.lastDeployment).to.include({ deploymentId, status: 'SUCCEEDED' });
    const text = await run(['status', '--root', root]);
    expect(text.stdout).to.include(`Last local deployment: ${deploymentId} SUCCEEDED`);
    expect(text.stdout).to.match(/com\.example\.app\.Api\s+1\.0\.0\s+RUNNING\s+[\d.]+%\s+[\d.]+ MB/);
  });

  it('tendril status names the missing connection info when no nucleus ever ran on the root', async () => {
    const r = await run(['status', '--root', join(dir, 'nowhere')]);
    expect(r.code).to.equal(1);
    expect(r.stderr).to.include(`${join(dir, 'nowhere', 'cli_ipc_info', 'info.json')}`);
    expect(r.stderr).to.include('is a Tendril nucleus running on this root?');
  });

  it('[LC-87] tendril logs prints a component log, -n keeps the last lines, an unknown component is named with the logs that exist', async () => {
    const all = await run(['logs', '--root', root, 'com.example.app.Store']);
    expect(all.code, all.stderr).to.equal(0);
    expect(all.stdout).to.include('Store tier up');
    const two = await run(['logs', '--root', root, '-n', '2', 'com.example.ConfiguredGreeter']);
    expect(two.stdout.trimEnd().split('\n')).to.have.length(2);
    const none = await run(['logs', '--root', root, 'com.example.Nope']);
    expect(none.code).to.equal(1);
    expect(none.stderr).to.include(`no log at ${join(root, 'logs', 'com.example.Nope.log')}`);
    expect(none.stderr).to.include('com.example.app.Store');
    const bad = await run(['logs', '--root', root, '../etc/passwd']);
    expect(bad.code).to.equal(2);
    expect(bad.stderr).to.include("COMPONENT '../etc/passwd' is not a component name");
  });

  it('[LC-87] tendril logs -f prints what a running component appends', async () => {
    const f = follow(['--root', root, 'com.example.ConfiguredGreeter']);
    try {
      const count = () =>
        f
          .output()
          .split('\n')
          .filter((l) => l.includes('says:')).length;
      await waitFor('the first lines', () => count() > 0, 20000);
      const first = count();
      await waitFor('newly appended lines', () => count() >= first + 2, 20000);
    } finally {
      f.child.kill('SIGINT');
      expect((await exitOf(f.child)).code).to.equal(0);
    }
  });

  it('[LC-93] tendril logs -f follows across rotation (rename + new file) and truncation', async () => {
    const fake = join(dir, 'fake');
    mkdirSync(join(fake, 'logs'), { recursive: true });
    const active = join(fake, 'logs', 'Rot.log');
    writeFileSync(active, 'line-1\n');
    const f = follow(['--root', fake, 'Rot']);
    try {
      await waitFor('line-1', () => f.output().includes('line-1'));
      appendFileSync(active, 'line-2\n');
      await waitFor('line-2', () => f.output().includes('line-2'));
      // rotation as the nucleus does it: the active file is renamed, written a last time through the
      // old name's inode, and a new active file is created
      renameSync(active, join(fake, 'logs', 'Rot_2024_01_01_00_0.log'));
      appendFileSync(join(fake, 'logs', 'Rot_2024_01_01_00_0.log'), 'line-3\n');
      writeFileSync(active, 'line-4\n');
      await waitFor('line-4', () => f.output().includes('line-4'));
      appendFileSync(active, 'line-5\n');
      await waitFor('line-5', () => f.output().includes('line-5'));
      writeFileSync(active, 'line-6\n'); // truncated and rewritten
      await waitFor('line-6', () => f.output().includes('line-6'));
      expect(f.output().match(/line-\d/g)).to.deep.equal([
        'line-1',
        'line-2',
        'line-3',
        'line-4',
        'line-5',
        'line-6',
      ]);
    } finally {
      f.child.kill('SIGINT');
      await exitOf(f.child);
    }
  });
});
