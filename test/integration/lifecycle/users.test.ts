import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ShellProcessLauncher, stepCommand } from '../../../src/lifecycle/process/index.js';
import type { StepLaunch } from '../../../src/lifecycle/types.js';
import { UserDatabase, resolvePosixUser } from '../../../src/lifecycle/users.js';

const tag = `${process.pid % 100000}`;
const USER = `tdu${tag}`;
const GROUP = `tdg${tag}`;
const SUPP = `tds${tag}`;

function run(cmd: string, args: string[]): void {
  execFileSync(cmd, args, { stdio: 'ignore' });
}

describe('running a component as another user (setpriv)', function () {
  let dir: string;
  let created = false;

  before(function () {
    if (process.getuid?.() !== 0) {
      console.log('skipping user-switch tests: not root (useradd and setpriv need root)');
      this.skip();
    }
    if (!fs.existsSync('/usr/bin/setpriv') || !fs.existsSync('/usr/sbin/useradd')) {
      console.log('skipping user-switch tests: setpriv or useradd missing');
      this.skip();
    }
    run('groupadd', [GROUP]);
    run('groupadd', [SUPP]);
    run('useradd', ['-M', '-N', '-g', GROUP, '-G', SUPP, '-s', '/bin/sh', USER]);
    created = true;
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tendril-users-'));
  });

  after(() => {
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
    if (!created) return;
    try {
      run('userdel', [USER]);
    } finally {
      for (const g of [SUPP, GROUP]) {
        try {
          run('groupdel', [g]);
        } catch {
          // already gone
        }
      }
    }
  });

  it('[LC-66][LC-69] the process sees id -u, id -g and id -G of the user, group and supplementary groups', async () => {
    const db = await UserDatabase.load();
    const identity = await resolvePosixUser(USER);
    const gid = db.groupByName(GROUP)?.gid as number;
    const supp = db.groupByName(SUPP)?.gid as number;
    expect(identity.gid).to.equal(gid);
    expect(db.supplementaryGroups(identity.uid)).to.deep.equal([gid, supp].sort((a, b) => a - b));

    const lines: string[] = [];
    const launcher = new ShellProcessLauncher({
      output: (_l, stream, line) => lines.push(`${stream}:${line}`),
    });
    const launch: StepLaunch = {
      component: 'com.example.AsUser',
      step: 'run',
      script: 'id -u; id -g; id -G',
      shell: 'sh',
      cwd: dir,
      env: { PATH: '/usr/bin:/bin' },
      runAs: identity,
      useCgroup: false,
    };
    expect(stepCommand(launch, '/usr/bin/setpriv', true).slice(0, 5)).to.deep.equal([
      '/usr/bin/setpriv',
      `--reuid=${identity.uid}`,
      `--regid=${gid}`,
      '--init-groups',
      '--',
    ]);
    const p = await launcher.launch(launch);
    expect(await p.exit).to.deep.equal({ code: 0, signal: null });
    await p.outputDone;
    expect(lines.slice(0, 2)).to.deep.equal([`stdout:${identity.uid}`, `stdout:${gid}`]);
    const groups = lines[2]
      .replace('stdout:', '')
      .split(' ')
      .map(Number)
      .sort((a, b) => a - b);
    expect(groups).to.deep.equal([gid, supp].sort((a, b) => a - b));
  });

  it('[LC-66] user:group runs with the given primary group', async () => {
    const identity = await resolvePosixUser(`${USER}:${SUPP}`);
    const lines: string[] = [];
    const launcher = new ShellProcessLauncher({ output: (_l, _s, line) => lines.push(line) });
    const p = await launcher.launch({
      component: 'com.example.AsUser',
      step: 'install',
      script: 'id -u; id -g',
      shell: 'sh',
      cwd: dir,
      env: { PATH: '/usr/bin:/bin' },
      runAs: identity,
      useCgroup: false,
    });
    await p.exit;
    await p.outputDone;
    expect(lines).to.deep.equal([String(identity.uid), String(identity.gid)]);
  });

  it('[LC-46] runAs null runs as the nucleus user without setpriv', () => {
    const argv = stepCommand(
      {
        component: 'c',
        step: 'run',
        script: 'true',
        shell: 'sh',
        cwd: '/',
        env: {},
        runAs: null,
        useCgroup: false,
      },
      '/usr/bin/setpriv',
      true,
    );
    expect(argv).to.deep.equal(['sh', '-c', 'true']);
  });
});
