import { expect } from 'chai';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { exitOf, processesWith, spawnTendril, stateChanges, stateOf, waitFor } from '../../support/daemon.js';

describe('tendril run (the nucleus daemon)', function () {
  this.timeout(60000);
  let dir: string;
  const children: Array<ReturnType<typeof spawnTendril>> = [];
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'tendril-daemon-'))));
  afterEach(async () => {
    // a failed test may leave a daemon running: stop it gracefully so its components go too
    for (const c of children.splice(0)) {
      if (c.exitCode === null && c.signalCode === null) {
        c.kill('SIGTERM');
        const timer = setTimeout(() => c.kill('SIGKILL'), 30000);
        await exitOf(c);
        clearTimeout(timer);
      }
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it('[CF-85][LC-56][LC-59] runs 3 components of the init config in dependency order; SIGTERM stops them in reverse, exits 0, leaves nothing running', async function () {
    if (process.getuid?.() !== 0) {
      console.log('      skipped: needs root to run components as nobody');
      this.skip();
    }
    const marker = `tendril-daemon-test-${randomBytes(4).toString('hex')}`;
    const root = join(dir, 'root');
    const init = join(dir, 'init.yaml');
    writeFileSync(
      init,
      [
        'system: { thingName: daemon-test }',
        `setenv: { TEST_MARKER: ${marker} }`,
        'services:',
        '  aws.greengrass.Nucleus:',
        '    configuration: { runWithDefault: { posixUser: "nobody:nogroup" } }',
        '  Base:',
        '    lifecycle: { run: "exec sleep 1000" }',
        '  Middle:',
        '    dependencies: [ "Base:HARD" ]',
        // a grandchild that ignores SIGTERM and leaves the process group: stop must still reach it
        `    lifecycle: { run: "setsid sh -c 'trap \\"\\" TERM; sleep 1000; sleep 1000' & exec sleep 1000" }`,
        '  Top:',
        '    dependencies: [ "Middle" ]',
        '    lifecycle: { run: "exec sleep 1000" }',
      ].join('\n'),
    );
    const child = spawnTendril(['run', '--root', root, '--init-config', init]);
    children.push(child);
    await waitFor('all three RUNNING', () =>
      ['Base', 'Middle', 'Top'].every((s) => stateOf(root, s) === 'RUNNING'),
    );
    const running = stateChanges(root)
      .filter(([, , to]) => to === 'RUNNING')
      .map(([s]) => s);
    expect(running).to.deep.equal(['Base', 'Middle', 'Top']);
    // Base, Middle, its setsid grandchild (which may still be forking), Top
    await waitFor('4 component processes', () => processesWith(marker).length >= 4);

    child.kill('SIGTERM');
    const exit = await exitOf(child);
    expect(exit).to.deep.equal({ code: 0, signal: null });
    const stopped = stateChanges(root)
      .filter(([, , to]) => to === 'STOPPING')
      .map(([s]) => s);
    expect(stopped).to.deep.equal(['Top', 'Middle', 'Base']);
    expect(processesWith(marker)).to.deep.equal([]);
  });

  it('refuses a second instance on the same root, and refuses bad flags naming them', async () => {
    const root = join(dir, 'root');
    const first = spawnTendril(['run', '--root', root]);
    children.push(first);
    let out = '';
    first.stdout!.on('data', (d) => (out += d));
    await waitFor('first nucleus up', () => out.includes('nucleus running'));
    const second = spawnTendril(['run', '--root', root]);
    let err = '';
    second.stderr!.on('data', (d) => (err += d));
    expect((await exitOf(second)).code).to.equal(1);
    expect(err).to.match(/already runs on this root/);

    const bad = spawnTendril(['run', '--root', root, '--bogus']);
    let badErr = '';
    bad.stderr!.on('data', (d) => (badErr += d));
    expect((await exitOf(bad)).code).to.equal(2);
    expect(badErr).to.match(/Unknown option '--bogus'/);
  });

  it('[CF-17] a bad init config is refused with the field named, and no config is written', async () => {
    const root = join(dir, 'root');
    const init = join(dir, 'bad.yaml');
    writeFileSync(
      init,
      'services:\n  X:\n    lifecycle:\n      run:\n        skipif: sometimes git\n        script: echo\n',
    );
    const child = spawnTendril(['run', '--root', root, '--init-config', init]);
    let err = '';
    child.stderr!.on('data', (d) => (err += d));
    expect((await exitOf(child)).code).to.equal(1);
    expect(err).to.contain('services.X.lifecycle.run.skipif');
    expect(existsSync(join(root, 'config', 'config.tlog'))).to.equal(false);
  });

  it('[LC-85] a SIGTERM arriving while the components are still starting stops them all and exits 0', async function () {
    if (process.getuid?.() !== 0) this.skip();
    const marker = `tendril-early-term-${randomBytes(4).toString('hex')}`;
    const root = join(dir, 'root');
    const init = join(dir, 'init.yaml');
    writeFileSync(
      init,
      [
        `setenv: { TEST_MARKER: ${marker} }`,
        'services:',
        '  aws.greengrass.Nucleus:',
        '    configuration: { runWithDefault: { posixUser: "nobody:nogroup" } }',
        '  Early:',
        '    lifecycle: { run: "exec sleep 1000" }',
      ].join('\n'),
    );
    const child = spawnTendril(['run', '--root', root, '--init-config', init]);
    children.push(child);
    // the moment the component runs, before the daemon has finished starting up
    await waitFor('Early RUNNING', () => stateOf(root, 'Early') === 'RUNNING');
    child.kill('SIGTERM');
    expect(await exitOf(child)).to.deep.equal({ code: 0, signal: null });
    expect(processesWith(marker)).to.deep.equal([]);
  });
});
