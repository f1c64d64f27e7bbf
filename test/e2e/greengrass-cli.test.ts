// The `greengrass-cli` binary (run from the sources through tsx, as a separate process) against a real
// nucleus: it authenticates with the token from <root>/cli_ipc_info [CF-75] and drives the CLI IPC
// operations [IPC-68..IPC-75] to deploy, inspect, restart and stop the HelloWorld example [DP-01].
import { expect } from 'chai';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Nucleus } from '../../src/nucleus/index.js';
import { repoRoot, waitFor, runCli } from '../support/daemon.js';

const examples = join(repoRoot, 'examples', 'components');
const HELLO = 'com.example.HelloWorld';

const greengrassCli = (args: string[], env?: NodeJS.ProcessEnv) => runCli('greengrass-cli', args, env);

describe('e2e: greengrass-cli against a running nucleus', function () {
  this.timeout(90000);
  let dir: string;
  let root: string;
  let nucleus: Nucleus | undefined;

  before(async function () {
    if (process.getuid?.() !== 0) {
      console.log('      skipped: needs root to run components as nobody');
      this.skip();
    }
    dir = mkdtempSync(join(tmpdir(), 'tendril-ggcli-'));
    chmodSync(dir, 0o755); // the component user (nobody) must reach the root's artifacts
    const init = join(dir, 'init.yaml');
    writeFileSync(
      init,
      'services:\n  aws.greengrass.Nucleus:\n    configuration: { runWithDefault: { posixUser: "nobody:nogroup" } }\n',
    );
    root = join(dir, 'root');
    nucleus = await Nucleus.start({ root, initConfigFile: init });
  });
  after(async () => {
    await nucleus?.stop();
    if (dir && !process.env.KEEP_TEST_DIRS) rmSync(dir, { recursive: true, force: true });
  });

  const helloLog = () => {
    const f = join(root, 'logs', `${HELLO}.log`);
    return existsSync(f) ? readFileSync(f, 'utf8') : '';
  };
  const greetings = () =>
    helloLog()
      .split('\n')
      .filter((l) => l.includes('Hi from greengrass-cli')).length;
  const details = async () => {
    const r = await greengrassCli(['component', 'details', '--name', HELLO, '--root', root]);
    expect(r.code, r.stderr).to.equal(0);
    return r.stdout;
  };

  it('[DP-01][IPC-68][IPC-70][IPC-72] deployment create deploys HelloWorld, deployment status reaches SUCCEEDED, component list shows it RUNNING', async () => {
    const created = await greengrassCli([
      '--root',
      root,
      'deployment',
      'create',
      '--recipeDir',
      join(examples, 'recipes'),
      '--artifactDir',
      join(examples, 'artifacts'),
      '--merge',
      `${HELLO}=1.0.0`,
      '--update-config',
      JSON.stringify({ [HELLO]: { MERGE: { Message: 'Hi from greengrass-cli' } } }),
    ]);
    expect(created.code, created.stderr).to.equal(0);
    const id = /Deployment Id: ([0-9a-f-]{36})/.exec(created.stdout)?.[1];
    expect(id, created.stdout).to.be.a('string');

    let status = '';
    let shown = '';
    for (;;) {
      const r = await greengrassCli(['deployment', 'status', '--deploymentId', id!, '--root', root]);
      expect(r.code, r.stderr).to.equal(0);
      shown = r.stdout;
      status = /: ([A-Z_]+)$/m.exec(r.stdout)?.[1] ?? '';
      if (status !== 'QUEUED' && status !== 'IN_PROGRESS') break;
    }
    expect(status, shown).to.equal('SUCCEEDED');

    const listed = await greengrassCli(['deployment', 'list'], { ...process.env, GGC_ROOT_PATH: root });
    expect(listed.code, listed.stderr).to.equal(0);
    expect(listed.stdout).to.contain(`${id}: SUCCEEDED`);

    const list = await greengrassCli(['component', 'list', '--root', root]);
    expect(list.code, list.stderr).to.equal(0);
    expect(list.stdout).to.match(
      new RegExp(
        `Component Name: ${HELLO.replace(/\./g, '\\.')}\\n {4}Version: 1\\.0\\.0\\n {4}State: RUNNING`,
      ),
    );
    expect(list.stdout).to.contain('"Message":"Hi from greengrass-cli"');
    await waitFor('the greeting', () => greetings() === 1);
  });

  it('[IPC-74] component restart restarts HelloWorld: it greets again and is RUNNING', async () => {
    const r = await greengrassCli(['component', 'restart', '--names', HELLO, '--root', root]);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.contain(`Restart ${HELLO}: SUCCEEDED`);
    await waitFor('a second greeting', () => greetings() === 2);
    expect(await details()).to.contain('State: RUNNING');
  });

  it('[IPC-75] component stop stops HelloWorld: it ends FINISHED', async () => {
    const r = await greengrassCli(['component', 'stop', '--names', HELLO, '--root', root]);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.contain(`Stop ${HELLO}: SUCCEEDED`);
    await waitFor('FINISHED', () => nucleus!.manager.get(HELLO)?.state === 'FINISHED');
    expect(await details()).to.contain('State: FINISHED');
  });

  it('[IPC-73][IPC-74] an unknown component is reported with the service error and exit 1; nothing is restarted', async () => {
    const r = await greengrassCli([
      'component',
      'restart',
      '--names',
      `${HELLO},com.example.Nope`,
      '--root',
      root,
    ]);
    expect(r.code).to.equal(1);
    expect(r.stderr).to.contain('ResourceNotFoundError').and.contain('com.example.Nope');
    expect(r.stdout).to.equal('');
    expect(nucleus!.manager.get(HELLO)?.state).to.equal('FINISHED');
  });

  it('[IPC-68] flag errors name the flag and exit 2 without contacting the nucleus; bad requests get the service error', async () => {
    const before = nucleus!.queue.size;
    const bad = await greengrassCli(['deployment', 'create', '--merge', 'noversion', '--root', root]);
    expect(bad.code).to.equal(2);
    expect(bad.stderr).to.contain('--merge');
    const json = await greengrassCli([
      'deployment',
      'create',
      '--update-config',
      '{not json',
      '--root',
      root,
    ]);
    expect(json.code).to.equal(2);
    expect(json.stderr).to.contain('--update-config');
    const missing = await greengrassCli(['deployment', 'status', '--root', root]);
    expect(missing.code).to.equal(2);
    expect(missing.stderr).to.contain('--deploymentId is required');
    const recipeDir = await greengrassCli([
      'deployment',
      'create',
      '--recipeDir',
      join(dir, 'absent'),
      '--merge',
      `${HELLO}=1.0.0`,
      '--root',
      root,
    ]);
    expect(recipeDir.code).to.equal(1);
    expect(recipeDir.stderr).to.contain('InvalidRecipeDirectoryPathError').and.contain('recipeDirectoryPath');
    expect(nucleus!.queue.size).to.equal(before);
  });

  it('[CF-75] without connection info the CLI says where it looked and exits 1', async () => {
    const r = await greengrassCli(['component', 'list', '--root', join(dir, 'not-a-root')]);
    expect(r.code).to.equal(1);
    expect(r.stderr).to.contain(join(dir, 'not-a-root', 'cli_ipc_info', 'info.json'));
  });
});
