import { expect } from 'chai';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ComponentSupervisor, type StateChangeEvent } from '../../../src/lifecycle/supervisor.js';
import type { ServiceDefinition } from '../../../src/lifecycle/config-change.js';
import type { LifecycleState } from '../../../src/lifecycle/types.js';
import { TestLauncher } from '../../support/lifecycle-launcher.js';

describe('component supervisor with real processes', function () {
  this.timeout(15000);
  let dir: string;
  let launcher: TestLauncher;
  const sups: ComponentSupervisor[] = [];

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'tendril-sup-'));
    launcher = new TestLauncher();
  });
  afterEach(async () => {
    await Promise.all(sups.splice(0).map((s) => s.close()));
    launcher.killAll();
    rmSync(dir, { recursive: true, force: true });
  });

  function make(def: ServiceDefinition, name = 'comp') {
    const events: StateChangeEvent[] = [];
    const sup = new ComponentSupervisor(name, def, {
      launcher,
      workDir: dir,
      killGraceMs: 300,
      backoff: { baseMs: 20, maxMs: 100 },
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
    });
    sup.onStateChange((e) => events.push(e));
    sups.push(sup);
    sup.startLoop();
    const states = () => events.map((e) => e.newState);
    return { sup, events, states };
  }
  /** Polls until `read` returns a value (the mocha timeout bounds the wait). */
  async function eventually<T>(read: () => T | undefined): Promise<T> {
    for (;;) {
      const v = read();
      if (v !== undefined) return v;
      await new Promise((r) => setTimeout(r, 20));
    }
  }
  const lines = (file: string, n: number) => () => {
    const p = join(dir, file);
    const l = existsSync(p) ? readFileSync(p, 'utf8').trim().split('\n') : [];
    return l.length >= n ? l : undefined;
  };
  const until = (sup: ComponentSupervisor, state: LifecycleState) =>
    sup.waitFor((s) => s.state === state && s.idle);

  it('[LC-38] run is RUNNING on spawn and FINISHED after exit 0', async () => {
    const { sup, states } = make({ lifecycle: { run: 'exit 0' } });
    sup.requestStart();
    await until(sup, 'FINISHED');
    expect(states()).to.deep.equal(['INSTALLED', 'STARTING', 'RUNNING', 'STOPPING', 'FINISHED']);
  });

  it('[LC-32][LC-31] a crash loop goes BROKEN at the third error; an explicit restart recovers it [LC-33]', async () => {
    const { sup, states, events } = make({
      lifecycle: { run: 'if [ -f ok ]; then sleep 30; else exit 3; fi' },
    });
    sup.requestStart();
    await until(sup, 'BROKEN');
    expect(states()).to.deep.equal([
      'INSTALLED',
      'STARTING',
      'RUNNING',
      'ERRORED',
      'STOPPING',
      'INSTALLED',
      'STARTING',
      'RUNNING',
      'ERRORED',
      'STOPPING',
      'INSTALLED',
      'STARTING',
      'RUNNING',
      'BROKEN',
    ]);
    const broken = events[events.length - 1];
    expect(broken.statusCode).to.equal('RUN_ERROR');
    expect(broken.statusReason).to.equal('The run script exited with code 3.');
    writeFileSync(join(dir, 'ok'), '');
    sup.requestRestart();
    await until(sup, 'RUNNING');
    expect(states().slice(14)).to.deep.equal(['NEW', 'INSTALLED', 'STARTING', 'RUNNING']);
  });

  it('[LC-37] startup still running at its timeout -> ERRORED STARTUP_TIMEOUT', async () => {
    const { sup, events } = make({ lifecycle: { startup: { script: 'sleep 30', timeout: 0.3 } } });
    sup.requestStart();
    await sup.waitFor((s) => s.state === 'ERRORED');
    const e = events.find((x) => x.newState === 'ERRORED');
    expect(e?.oldState).to.equal('STARTING');
    expect(e?.statusCode).to.equal('STARTUP_TIMEOUT');
    sup.requestStop();
    await sup.waitFor(ComponentSupervisor.isSettledStopped);
  });

  it('[LC-37] startup exit 0 -> RUNNING; [LC-09] the component may report RUNNING but not STARTING', async () => {
    const { sup, states } = make({ lifecycle: { startup: 'sleep 30' } });
    sup.requestStart();
    await sup.waitFor((s) => s.state === 'STARTING' && s.idle);
    expect(sup.reportState('NEW')).to.equal(false);
    expect(sup.reportState('RUNNING')).to.equal(true);
    await until(sup, 'RUNNING');
    expect(sup.reportState('STARTING')).to.equal(false);
    const { sup: other } = make({ lifecycle: { startup: 'exit 0' } }, 'other');
    other.requestStart();
    await until(other, 'RUNNING');
    expect(states()).to.deep.equal(['INSTALLED', 'STARTING', 'RUNNING']);
  });

  it('[LC-39][LC-82] shutdown past its timeout is SIGKILLed -> ERRORED SHUTDOWN_TIMEOUT', async () => {
    const { sup, events } = make({
      lifecycle: {
        run: 'sleep 30',
        shutdown: { script: "trap '' TERM; echo $$ > shut.pid; sleep 30", timeout: 0.3 },
      },
    });
    sup.requestStart();
    await until(sup, 'RUNNING');
    sup.requestStop();
    await sup.waitFor(ComponentSupervisor.isSettledStopped);
    const e = events.find((x) => x.newState === 'ERRORED');
    expect(e?.oldState).to.equal('STOPPING');
    expect(e?.statusCode).to.equal('SHUTDOWN_TIMEOUT');
    const pid = Number(readFileSync(join(dir, 'shut.pid'), 'utf8'));
    expect(() => process.kill(pid, 0)).to.throw();
    expect(sup.state).to.equal('FINISHED');
  });

  it('[LC-36][LC-23] a failed install is retried (ERRORED -> NEW)', async () => {
    const { sup, states, events } = make({
      lifecycle: {
        install: 'n=$(cat count 2>/dev/null || echo 0); n=$((n+1)); echo $n > count; [ $n -ge 2 ]',
        run: 'sleep 30',
      },
    });
    sup.requestStart();
    await until(sup, 'RUNNING');
    expect(states()).to.deep.equal(['ERRORED', 'NEW', 'INSTALLED', 'STARTING', 'RUNNING']);
    expect(events[0].statusCode).to.equal('INSTALL_ERROR');
    expect(events[0].statusReason).to.equal('The install script exited with code 1.');
  });

  it('[LC-45] skipif exists skips install; skipif onpath skips run (-> FINISHED)', async () => {
    writeFileSync(join(dir, 'present'), '');
    const { sup, states } = make({
      lifecycle: {
        install: { script: 'touch installed', skipif: `exists ${join(dir, 'present')}` },
        run: { script: 'touch ran; sleep 30', skipif: 'onpath sh' },
      },
    });
    sup.requestStart();
    await until(sup, 'FINISHED');
    expect(states()).to.deep.equal(['INSTALLED', 'STARTING', 'FINISHED']);
    expect(existsSync(join(dir, 'installed'))).to.equal(false);
    expect(existsSync(join(dir, 'ran'))).to.equal(false);
  });

  it('[LC-45] a negated skipif that does not hold runs the step', async () => {
    const { sup } = make({
      lifecycle: { install: { script: 'touch installed', skipif: '!onpath sh' }, run: 'exit 0' },
    });
    sup.requestStart();
    await until(sup, 'FINISHED');
    expect(existsSync(join(dir, 'installed'))).to.equal(true);
  });

  it('[LC-45][LC-44] a bad skipif errors with the config-invalid code naming the field', async () => {
    const { sup, events } = make({ lifecycle: { install: { script: 'true', skipif: 'maybe /x' } } });
    sup.requestStart();
    await sup.waitFor((s) => s.state === 'ERRORED' || s.state === 'BROKEN');
    expect(events[0].statusCode).to.equal('INSTALL_CONFIG_NOT_VALID');
    expect(events[0].statusReason).to.match(
      /^services\.comp\.lifecycle\.install\.skipif: invalid skipif 'maybe \/x'/,
    );
  });

  it('[LC-71] setenv layers: service, lifecycle, step (later wins)', async () => {
    const { sup } = make({
      setenv: { A: 'svc', B: 'svc', C: 'svc' },
      lifecycle: {
        setenv: { B: 'lc', C: 'lc' },
        run: { script: 'echo "$A $B $C" > env.out', setenv: { C: 'step' } },
      },
    });
    sup.requestStart();
    await until(sup, 'FINISHED');
    expect(readFileSync(join(dir, 'env.out'), 'utf8').trim()).to.equal('svc lc step');
  });

  it('[LC-61][LC-64] a configuration-only change does not restart; a setenv change does', async () => {
    const def: ServiceDefinition = {
      setenv: { V: '1' },
      configuration: { x: 1 },
      lifecycle: { run: 'echo $V >> starts; sleep 30' },
    };
    const { sup } = make(def);
    sup.requestStart();
    await until(sup, 'RUNNING');
    await eventually(lines('starts', 1));
    expect(sup.changeDefinition({ ...def, configuration: { x: 2 } })).to.equal('none');
    expect(sup.status().desired).to.deep.equal([]);
    expect(sup.changeDefinition({ ...def, configuration: { x: 2 }, setenv: { V: '2' } })).to.equal('restart');
    expect(await eventually(lines('starts', 2))).to.deep.equal(['1', '2']);
    expect(sup.state).to.equal('RUNNING');
  });

  it('[LC-60] an install change reinstalls', async () => {
    const def: ServiceDefinition = { lifecycle: { install: 'echo a >> installs', run: 'sleep 30' } };
    const { sup, states } = make(def);
    sup.requestStart();
    await until(sup, 'RUNNING');
    expect(sup.changeDefinition({ lifecycle: { install: 'echo b >> installs', run: 'sleep 30' } })).to.equal(
      'reinstall',
    );
    await sup.waitFor((s) => s.state === 'RUNNING' && s.idle && s.generation > 3);
    expect(states()).to.deep.equal([
      'INSTALLED',
      'STARTING',
      'RUNNING',
      'STOPPING',
      'NEW',
      'INSTALLED',
      'STARTING',
      'RUNNING',
    ]);
    expect(readFileSync(join(dir, 'installs'), 'utf8').trim().split('\n')).to.deep.equal(['a', 'b']);
  });
});
