import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRootLayout } from '../../../src/nucleus/root-layout.js';
import { acquireInstanceLock, InstanceLockedError } from '../../../src/nucleus/instance-lock.js';

describe('nucleus root layout and instance lock', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'tendril-root-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('[CF-60..CF-75] creates the Greengrass layout with owner-only modes where the spec asks', () => {
    const p = createRootLayout(join(dir, 'gg'));
    const mode = (d: string) => statSync(d).mode & 0o777;
    expect(mode(p.root)).to.equal(0o755);
    expect(mode(p.config)).to.equal(0o700);
    expect(mode(p.logs)).to.equal(0o700);
    expect(mode(p.recipes)).to.equal(0o700);
    expect(mode(p.artifacts)).to.equal(0o755);
    expect(mode(p.deployments)).to.equal(0o700);
    // idempotent, and repairs a loosened mode
    rmSync(p.telemetry, { recursive: true });
    createRootLayout(join(dir, 'gg'));
    expect(mode(p.telemetry)).to.equal(0o700);
  });

  it('refuses a second holder while the first lives, and takes over a stale lock', async () => {
    const lockFile = join(dir, 'lock.pid');
    const lock = acquireInstanceLock(lockFile);
    // a live process holding the lock (another "instance")
    lock.release();
    const child = spawn(process.execPath, ['-e', 'setTimeout(()=>{}, 30000)'], { stdio: 'ignore' });
    try {
      writeFileSync(lockFile, `${child.pid}\n`);
      expect(() => acquireInstanceLock(lockFile)).to.throw(InstanceLockedError, /already runs on this root/);
    } finally {
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
    }
    // its holder is dead now: the lock is stale and is taken over
    const again = acquireInstanceLock(lockFile);
    again.release();
  });
});
