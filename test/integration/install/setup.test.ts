// `tendril setup` in a temporary root with a temporary unit directory and a temporary user and group
// (deleted afterwards): accounts, root layout, init config, unit [CF-84, CF-91, CF-92], idempotence,
// provisioning against a real local cloud and from AWS flags, precise flag errors, uninstall and purge.
import { expect } from 'chai';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import yaml from 'js-yaml';
import { parseSetupFlags } from '../../../src/cli/setup-command.js';
import { runLocalCloud } from '../../../src/cli/localcloud-command.js';
import { exitOf, repoRoot, waitFor, runTendril as tendril } from '../../support/daemon.js';

function getent(db: string, name: string): string[] | undefined {
  try {
    return execFileSync('getent', [db, name], { encoding: 'utf8' }).trim().split(':');
  } catch {
    return undefined;
  }
}

const suffix = `${process.pid % 100000}`;
const USER = `tdt_u${suffix}`;
const GROUP = `tdt_g${suffix}`;

describe('install: tendril setup', function () {
  this.timeout(90000);
  let dir: string;
  let root: string;
  let units: string;

  before(function () {
    if (process.getuid?.() !== 0) {
      console.log('      skipped: setup creates system accounts, which needs root');
      this.skip();
    }
    if (getent('passwd', USER) || getent('group', GROUP)) throw new Error(`${USER}/${GROUP} already exist`);
    dir = mkdtempSync(join(tmpdir(), 'tendril-setup-'));
    root = join(dir, 'root');
    units = join(dir, 'units');
    mkdirSync(units);
  });
  after(() => {
    if (getent('passwd', USER)) execFileSync('userdel', [USER]);
    if (getent('group', GROUP)) execFileSync('groupdel', [GROUP]);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const config = () => yaml.load(readFileSync(join(root, 'config', 'config.yaml'), 'utf8')) as any; // eslint-disable-line @typescript-eslint/no-explicit-any
  const setupArgs = () => ['setup', '--root', root, '--unit-dir', units, '--user', USER, '--group', GROUP];

  it('[CF-84][CF-91] creates the system group and user, the root layout, the init config with runWithDefault, and the unit', async () => {
    const r = await tendril(setupArgs());
    expect(r.code, r.stderr).to.equal(0);
    const u = getent('passwd', USER)!;
    const g = getent('group', GROUP)!;
    expect(u, 'user').to.not.equal(undefined);
    expect(g, 'group').to.not.equal(undefined);
    expect(u[3]).to.equal(g[2]); // primary group
    expect(Number(u[2])).to.be.below(1000); // --system
    expect(r.stdout).to.include(`group ${GROUP} (gid ${g[2]}): created`);
    for (const d of [
      'config',
      'packages/recipes',
      'packages/artifacts',
      'logs',
      'work',
      'deployments',
      'alts',
    ])
      expect(statSync(join(root, d)).isDirectory(), d).to.equal(true);
    expect(statSync(join(root, 'config', 'config.yaml')).mode & 0o777).to.equal(0o600);
    expect(config().services['aws.greengrass.Nucleus']).to.deep.equal({
      componentType: 'NUCLEUS',
      configuration: { runWithDefault: { posixUser: `${USER}:${GROUP}` } },
    });
    const unit = readFileSync(join(units, 'tendril.service'), 'utf8');
    expect(unit).to.include(`Environment="TENDRIL_ROOT=${root}"`);
    const settings = unit.split('\n').filter((l) => !l.startsWith('#'));
    expect(settings.join('\n')).to.not.match(/@ROOT@|@EXEC@/);
    expect(statSync(join(units, 'tendril.service')).mode & 0o777).to.equal(0o644);
    expect(r.stdout).to.include(`${units} is not /etc/systemd/system: systemctl is not run`);
  });

  it('[CF-92] re-running setup is safe: accounts exist, the unit is unchanged, the config is the same', async () => {
    const before = readFileSync(join(root, 'config', 'config.yaml'), 'utf8');
    const uid = getent('passwd', USER)![2];
    const r = await tendril(setupArgs());
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.include(`user ${USER} (uid ${uid}): exists`);
    expect(r.stdout).to.include(`unchanged: ${join(units, 'tendril.service')}`);
    expect(readFileSync(join(root, 'config', 'config.yaml'), 'utf8')).to.equal(before);
  });

  it('[CF-91] the unit ExecStart starts a nucleus on the root that runs a component as the set-up user', async () => {
    const unit = readFileSync(join(units, 'tendril.service'), 'utf8');
    const exec = /^ExecStart=(.*)$/m.exec(unit)![1].replace('${TENDRIL_ROOT}', root).split(' ');
    // a component in the config (as a deployment would add it) runs as runWithDefault
    const cfg = config();
    cfg.services.WhoAmI = { lifecycle: { run: 'echo "whoami: $(id -un):$(id -gn)"; exec sleep 600' } };
    writeFileSync(join(root, 'config', 'config.yaml'), yaml.dump(cfg));
    const env = { ...process.env };
    delete env.NOTIFY_SOCKET;
    const daemon = spawn(exec[0], exec.slice(1), { cwd: '/', env, stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      const log = join(root, 'logs', 'WhoAmI.log');
      await waitFor(
        'the component to run',
        () => existsSync(log) && readFileSync(log, 'utf8').includes('whoami:'),
      );
      expect(readFileSync(log, 'utf8')).to.include(`whoami: ${USER}:${GROUP}`);
      expect(statSync(join(root, 'work', 'WhoAmI')).uid).to.equal(Number(getent('passwd', USER)![2]));
    } finally {
      daemon.kill('SIGTERM');
      expect((await exitOf(daemon)).code).to.equal(0);
    }
    const r = await tendril(setupArgs());
    expect(r.stdout).to.include('config.tlog exists, so a restart keeps the saved config');
  });

  it('[CF-84] AWS provisioning flags write system paths and endpoints; a later run without them keeps them', async () => {
    for (const f of ['cert.pem', 'key.pem', 'ca.pem']) writeFileSync(join(dir, f), 'x');
    const r = await tendril([
      ...setupArgs(),
      '--thing-name',
      'AwsThing',
      '--cert',
      join(dir, 'cert.pem'),
      '--key',
      join(dir, 'key.pem'),
      '--root-ca',
      join(dir, 'ca.pem'),
      '--iot-data-endpoint',
      'abc-ats.iot.eu-west-1.amazonaws.com',
      '--iot-cred-endpoint',
      'abc.credentials.iot.eu-west-1.amazonaws.com',
      '--region',
      'eu-west-1',
      '--tes-role-alias-name',
      'MyAlias',
    ]);
    expect(r.code, r.stderr).to.equal(0);
    const expectAws = () => {
      const c = config();
      expect(c.system).to.include({
        thingName: 'AwsThing',
        certificateFilePath: join(dir, 'cert.pem'),
        privateKeyPath: join(dir, 'key.pem'),
        rootCaPath: join(dir, 'ca.pem'),
      });
      expect(c.services['aws.greengrass.Nucleus'].configuration).to.deep.include({
        awsRegion: 'eu-west-1',
        iotDataEndpoint: 'abc-ats.iot.eu-west-1.amazonaws.com',
        iotCredEndpoint: 'abc.credentials.iot.eu-west-1.amazonaws.com',
        iotRoleAlias: 'MyAlias',
        runWithDefault: { posixUser: `${USER}:${GROUP}` },
      });
    };
    expectAws();
    expect((await tendril(setupArgs())).code).to.equal(0);
    expectAws();
  });

  it('[CF-84] --localcloud provisions the thing (group membership, certificate) against a real local cloud; a re-run keeps the certificate', async () => {
    const cloudDir = join(dir, 'cloud');
    const ac = new AbortController();
    const running = runLocalCloud({ dataDir: cloudDir, host: '127.0.0.1', port: 0 }, ac.signal, () => {});
    try {
      await waitFor('endpoints.json', () => existsSync(join(cloudDir, 'endpoints.json')));
      const lcRoot = join(dir, 'lcroot');
      const args = ['setup', '--root', lcRoot, '--unit-dir', units, '--user', USER, '--group', GROUP];
      const r = await tendril([
        ...args,
        '--localcloud',
        cloudDir,
        '--thing-name',
        'LcThing',
        '--thing-group',
        'LcGroup',
      ]);
      expect(r.code, r.stderr).to.equal(0);
      expect(r.stdout).to.include('provisioned against the local cloud');
      const c = yaml.load(readFileSync(join(lcRoot, 'config', 'config.yaml'), 'utf8')) as any; // eslint-disable-line @typescript-eslint/no-explicit-any
      expect(c.system.thingName).to.equal('LcThing');
      expect(c.system.certificateFilePath).to.equal(join(lcRoot, 'certs', 'device.pem.crt'));
      const endpoints = JSON.parse(readFileSync(join(cloudDir, 'endpoints.json'), 'utf8'));
      expect(c.services['aws.greengrass.Nucleus'].configuration).to.deep.include({
        iotDataEndpoint: endpoints.deviceHost,
        greengrassDataPlanePort: endpoints.dataPlanePort,
        runWithDefault: { posixUser: `${USER}:${GROUP}` },
      });
      expect(existsSync(join(lcRoot, 'certs', 'config.yaml'))).to.equal(false);
      const cert = readFileSync(c.system.certificateFilePath, 'utf8');
      const again = await tendril([...args, '--localcloud', cloudDir, '--thing-name', 'LcThing']);
      expect(again.code, again.stderr).to.equal(0);
      expect(again.stdout).to.include('already provisioned for this thing: certificate kept');
      expect(readFileSync(c.system.certificateFilePath, 'utf8')).to.equal(cert);
      // the local cloud knows the thing and its group
      const { LocalCloudStore } = await import('../../../src/localcloud/index.js');
      ac.abort();
      await running;
      const store = new LocalCloudStore(cloudDir);
      try {
        expect(store.things.get('LcThing'), 'thing').to.not.equal(undefined);
        expect(store.things.members('LcGroup')).to.deep.equal(['LcThing']);
      } finally {
        store.close();
      }
    } finally {
      ac.abort();
      await running;
    }
  });

  it('[CF-92] --uninstall removes the unit and keeps the root; --purge removes the root; both are safe to repeat', async () => {
    let r = await tendril(['setup', '--uninstall', '--unit-dir', units]);
    expect(r.code, r.stderr).to.equal(0);
    expect(existsSync(join(units, 'tendril.service'))).to.equal(false);
    expect(existsSync(root)).to.equal(true);
    r = await tendril(['setup', '--uninstall', '--unit-dir', units, '--purge', '--root', root]);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.include(`not installed: ${join(units, 'tendril.service')}`);
    expect(existsSync(root)).to.equal(false);
    r = await tendril(['setup', '--uninstall', '--unit-dir', units, '--purge', '--root', root]);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.include(`no root at ${root}`);
  });

  it('--purge refuses a directory that is not a nucleus root', async () => {
    const other = join(dir, 'not-a-root');
    mkdirSync(other);
    const r = await tendril(['setup', '--uninstall', '--unit-dir', units, '--purge', '--root', other]);
    expect(r.code).to.equal(2);
    expect(r.stderr).to.include(`--root ${other} has no config/ directory`);
    expect(existsSync(other)).to.equal(true);
  });
});

describe('install: tendril setup flag errors (nothing is changed)', function () {
  this.timeout(30000);
  const bad = (values: Record<string, string | boolean>, positionals: string[] = []) => {
    try {
      parseSetupFlags(values, positionals);
    } catch (e) {
      expect((e as Error).name).to.equal('UsageError');
      return (e as Error).message;
    }
    throw new Error('accepted');
  };

  it('names the missing or conflicting flag', () => {
    expect(bad({})).to.equal('--root DIR is required');
    expect(bad({ root: '/' })).to.equal('--root must not be /');
    expect(bad({ root: '/r', purge: true })).to.equal('--purge applies to --uninstall only');
    expect(bad({ uninstall: true, purge: true })).to.equal('--purge needs --root DIR: the root to delete');
    expect(bad({ uninstall: true, user: 'x' })).to.include('not --user');
    expect(bad({ root: '/r', user: 'Bad User' })).to.include(
      "--user 'Bad User' is not a valid POSIX account name",
    );
    expect(bad({ root: '/r', localcloud: '/c', cert: '/x' })).to.include(
      '--localcloud conflicts with --cert',
    );
    expect(bad({ root: '/r', localcloud: '/c' })).to.equal('--localcloud needs --thing-name NAME');
    expect(bad({ root: '/r', 'thing-group': 'G' })).to.include('--thing-group applies to --localcloud only');
    expect(bad({ root: '/r', 'thing-name': 'T' })).to.include(
      '--thing-name needs --localcloud DIR or the AWS flags',
    );
    expect(bad({ root: '/r', 'thing-name': 'T', cert: '/c', region: 'us-east-1' })).to.match(
      /^provisioning against AWS needs --key, --root-ca, --iot-data-endpoint, --iot-cred-endpoint as well/,
    );
    expect(bad({ root: '/r', 'thing-name': '' })).to.equal('--thing-name must not be empty');
    expect(bad({ root: '/r' }, ['extra'])).to.equal("unexpected argument 'extra'");
  });

  it('names a missing file or directory', () => {
    const msg = bad({
      root: '/r',
      'thing-name': 'T',
      cert: '/nonexistent/c.pem',
      key: '/k',
      'root-ca': '/ca',
      'iot-data-endpoint': 'd',
      'iot-cred-endpoint': 'c',
      region: 'r',
    });
    expect(msg).to.equal('--cert /nonexistent/c.pem: no such file');
    expect(bad({ root: '/r', localcloud: '/nonexistent-cloud', 'thing-name': 'T' })).to.include(
      '--localcloud /nonexistent-cloud: no endpoints.json there',
    );
  });

  it('the CLI exits 2 with the message and the help hint', async () => {
    const r = await tendril(['setup', '--root', join(repoRoot, 'nowhere'), '--purge']);
    expect(r.code).to.equal(2);
    expect(r.stderr).to.include('tendril setup: --purge applies to --uninstall only');
    expect(r.stderr).to.include("Run 'tendril setup --help'");
  });
});
