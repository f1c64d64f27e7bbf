// The README's main-job command, run as a user runs it.
import { expect } from 'chai';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exitOf, spawnTendril } from '../support/daemon.js';

describe('e2e: tendril demo (the main job)', function () {
  this.timeout(90000);
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'tendril-demo-'));
    chmodSync(dir, 0o755);
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('registers the examples through the API, deploys them to a provisioned device over IoT Jobs, shows them RUNNING with messages flowing, and stops cleanly', async () => {
    const child = spawnTendril(['demo', '--dir', join(dir, 'demo'), '--seconds', '10']);
    let out = '';
    child.stdout!.on('data', (d) => (out += d));
    child.stderr!.on('data', (d) => (out += d));
    const exit = await exitOf(child);
    expect(exit.code, out).to.equal(0);
    for (const c of ['HelloWorld', 'Publisher', 'Subscriber'])
      expect(out).to.contain(`component com.example.${c} 1.0.0: DEPLOYABLE`);
    expect(out).to.contain('core device tendril-demo-core: HEALTHY');
    expect(out).to.match(/deployment [0-9a-f-]{36} as the cloud sees it: SUCCEEDED/);
    expect(out).to.match(/com\.example\.Subscriber\s+RUNNING\s+received on tendril\/demo\/counter/);
    expect(out).to.contain('stopped.');
    expect(out).not.to.contain('NodeVersionSupportWarning');
  });

  it('refuses a bad --seconds naming the flag', async () => {
    const child = spawnTendril(['demo', '--dir', join(dir, 'demo'), '--seconds', 'soon']);
    let err = '';
    child.stderr!.on('data', (d) => (err += d));
    expect((await exitOf(child)).code).to.equal(2);
    expect(err).to.contain("--seconds: expected a positive number, got 'soon'");
  });
});
