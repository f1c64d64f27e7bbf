// The systemd unit [CF-91] as `tendril setup` renders it, checked by systemd's own verifier, and the
// Type=notify readiness protocol of `tendril run` against a real Unix datagram socket (a Perl receiver:
// Node has no datagram Unix sockets).
import { expect } from 'chai';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findExecutable } from '../../../src/nucleus/index.js';
import { renderUnit, UNIT_TEMPLATE } from '../../../src/cli/setup-unit.js';
import { exitOf, spawnTendril, waitFor } from '../../support/daemon.js';

function directives(unit: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const line of unit.split('\n')) {
    const m = /^([A-Za-z]+)=(.*)$/.exec(line);
    if (m) out.set(m[1], [...(out.get(m[1]) ?? []), m[2]]);
  }
  return out;
}

describe('install: the systemd unit', function () {
  this.timeout(60000);
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'tendril-unit-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('[CF-91] the template keeps the reference service semantics, adapted: Type=notify, Restart=on-failure, KillMode=mixed, multi-user.target', () => {
    const d = directives(readFileSync(UNIT_TEMPLATE, 'utf8'));
    expect(d.get('Type')).to.deep.equal(['notify']);
    expect(d.get('NotifyAccess')).to.deep.equal(['all']);
    expect(d.get('Restart')).to.deep.equal(['on-failure']);
    expect(d.get('RestartSec')).to.deep.equal(['10']);
    expect(d.get('KillMode')).to.deep.equal(['mixed']);
    expect(d.get('After')).to.deep.equal(['network.target', 'time-sync.target']);
    expect(d.get('WantedBy')).to.deep.equal(['multi-user.target']);
    expect(d.get('ExecStart')).to.deep.equal(['@EXEC@ run --root ${TENDRIL_ROOT}']);
  });

  it('[CF-91] a rendered unit passes systemd-analyze verify without a warning, for a plain root and one with a space and %', function () {
    const analyze = findExecutable('systemd-analyze');
    if (!analyze) {
      console.log('      skipped: systemd-analyze is not installed (Debian package: systemd)');
      this.skip();
    }
    for (const root of [join(dir, 'root'), join(dir, 'a root %n')]) {
      const unitDir = join(dir, `units-${root.length}`);
      mkdirSync(unitDir);
      const unit = join(unitDir, 'tendril.service');
      writeFileSync(unit, renderUnit(root));
      const r = spawnSync(analyze!, ['verify', unit]);
      expect(r.stderr, r.stderr).to.equal('');
      expect(r.status).to.equal(0);
      // the root reaches the service verbatim: systemd unescapes %% and the quotes
      expect(readFileSync(unit, 'utf8')).to.include(`Environment="TENDRIL_ROOT=${root.replace(/%/g, '%%')}"`);
    }
  });

  it('[CF-91] systemd-analyze verify rejects a unit whose ExecStart binary does not exist (the check is real)', function () {
    const analyze = findExecutable('systemd-analyze');
    if (!analyze) {
      console.log('      skipped: systemd-analyze is not installed (Debian package: systemd)');
      this.skip();
    }
    const unit = join(dir, 'tendril.service');
    writeFileSync(unit, renderUnit(join(dir, 'root'), [join(dir, 'no-such-node'), 'x.js']));
    const r = spawnSync(analyze!, ['verify', unit]);
    expect(r.status).to.not.equal(0);
    expect(r.stderr).to.include('no-such-node');
  });
});

function spawnSync(cmd: string, args: string[]): { status: number; stderr: string } {
  try {
    execFileSync(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
    return { status: 0, stderr: '' };
  } catch (e) {
    const err = e as { status: number; stderr: string };
    return { status: err.status, stderr: err.stderr };
  }
}

// Binds a datagram socket at argv[0] and prints every message on one line, fields joined by '|'.
const RECEIVER = `
use Socket;
my $p = shift; unlink $p;
socket(my $s, AF_UNIX, SOCK_DGRAM, 0) or die "socket: $!";
bind($s, pack_sockaddr_un($p)) or die "bind: $!";
$| = 1; print "bound\\n";
while (1) { my $buf; defined(recv($s, $buf, 4096, 0)) or die "recv: $!"; print join("|", split(/\\n/, $buf)), "\\n"; }
`;

describe('install: readiness notification of tendril run (Type=notify)', function () {
  this.timeout(60000);
  let dir: string;
  let receiver: ChildProcess | undefined;
  let daemon: ChildProcess | undefined;
  const messages: string[] = [];

  before(function () {
    if (!findExecutable('systemd-notify') || !findExecutable('perl')) {
      console.log('      skipped: needs systemd-notify (Debian package: systemd) and perl (perl-base)');
      this.skip();
    }
    if (process.getuid?.() !== 0) {
      console.log('      skipped: needs root to run the probe component as nobody');
      this.skip();
    }
  });
  after(async () => {
    if (daemon && daemon.exitCode === null && daemon.signalCode === null) {
      daemon.kill('SIGKILL');
      await exitOf(daemon);
    }
    if (receiver && receiver.exitCode === null) {
      receiver.kill('SIGKILL');
      await exitOf(receiver);
    }
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('[CF-91] READY=1 with MAINPID once the components are started, STOPPING=1 on SIGTERM, and NOTIFY_SOCKET never reaches a component', async () => {
    dir = mkdtempSync(join(tmpdir(), 'tendril-notify-'));
    chmodSync(dir, 0o755);
    const socket = join(dir, 'notify.sock');
    receiver = spawn('perl', ['-e', RECEIVER, socket], { stdio: ['ignore', 'pipe', 'inherit'] });
    let buffer = '';
    receiver.stdout!.on('data', (d: Buffer) => {
      buffer += d.toString();
      const lines = buffer.split('\n');
      buffer = lines.pop()!;
      messages.push(...lines);
    });
    await waitFor('the receiver to bind', () => messages.includes('bound'));
    const init = join(dir, 'init.yaml');
    writeFileSync(
      init,
      [
        'services:',
        '  aws.greengrass.Nucleus:',
        '    configuration: { runWithDefault: { posixUser: "nobody:nogroup" } }',
        '  NotifyProbe:',
        '    lifecycle:',
        '      run: \'if [ -n "$NOTIFY_SOCKET" ]; then echo "probe: leaked $NOTIFY_SOCKET"; else echo "probe: clean"; fi; exec sleep 600\'',
        '',
      ].join('\n'),
    );
    const root = join(dir, 'root');
    daemon = spawnTendril(['run', '--root', root, '--init-config', init], {
      ...process.env,
      NOTIFY_SOCKET: socket,
    });
    let stderr = '';
    daemon.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const ready = await waitFor('READY=1', () => messages.find((m) => m.includes('READY=1')));
    expect(ready.split('|')).to.include(`MAINPID=${daemon.pid}`);
    expect(ready).to.match(/STATUS=nucleus running on /);
    const log = () => {
      try {
        return readFileSync(join(root, 'logs', 'NotifyProbe.log'), 'utf8');
      } catch {
        return '';
      }
    };
    await waitFor('the probe component to report', () => /probe: (clean|leaked)/.test(log()));
    expect(log()).to.include('probe: clean');
    expect(messages.some((m) => m.includes('STOPPING=1'))).to.equal(false);
    daemon.kill('SIGTERM');
    const exit = await exitOf(daemon);
    expect(exit.code, stderr).to.equal(0);
    expect(messages.find((m) => m.includes('STOPPING=1'))).to.include(`MAINPID=${daemon.pid}`);
    expect(stderr).to.not.include('systemd-notify');
  });
});
