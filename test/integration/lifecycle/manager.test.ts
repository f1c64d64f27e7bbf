import { expect } from 'chai';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DependencyCycleError, DependencyError } from '../../../src/lifecycle/dependency.js';
import { LifecycleManager, type ServiceDefinitions } from '../../../src/lifecycle/manager.js';
import type { StateChangeEvent } from '../../../src/lifecycle/supervisor.js';
import type { LifecycleState } from '../../../src/lifecycle/types.js';
import { TestLauncher } from '../../support/lifecycle-launcher.js';

describe('lifecycle manager with real processes', function () {
  this.timeout(15000);
  let dir: string;
  let launcher: TestLauncher;
  let manager: LifecycleManager;
  let events: StateChangeEvent[];

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'tendril-mgr-'));
    launcher = new TestLauncher();
    events = [];
    manager = new LifecycleManager({
      launcher,
      workDir: (n) => {
        const d = join(dir, 'work', n);
        mkdirSync(d, { recursive: true });
        return d;
      },
      env: () => ({ PATH: process.env.PATH ?? '/usr/bin:/bin', TOP: dir }),
      killGraceMs: 300,
      backoff: { baseMs: 20, maxMs: 100 },
      stopTimeoutMs: 5000,
    });
    manager.onStateChange((e) => events.push(e));
  });
  afterEach(async () => {
    await manager.close();
    launcher.killAll();
    rmSync(dir, { recursive: true, force: true });
  });

  const at = (name: string, state: LifecycleState) =>
    events.findIndex((e) => e.component === name && e.newState === state);
  const until = (name: string, state: LifecycleState) =>
    manager.get(name)!.waitFor((s) => s.state === state && s.idle);
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

  it('[LC-55][LC-56] a HARD depender starts only after its dependency is RUNNING', async () => {
    const defs: ServiceDefinitions = {
      A: { dependencies: ['B'], lifecycle: { run: 'sleep 30' } },
      B: { lifecycle: { startup: 'sleep 0.2' } },
    };
    expect(manager.apply(defs).order).to.deep.equal(['B', 'A']);
    await until('A', 'RUNNING');
    expect(at('B', 'RUNNING')).to.be.greaterThan(-1);
    expect(at('A', 'STARTING')).to.be.greaterThan(at('B', 'RUNNING'));
  });

  it('[LC-55] a SOFT dependency does not gate start-up', async () => {
    manager.apply({
      A: { dependencies: ['B:SOFT'], lifecycle: { run: 'sleep 30' } },
      B: { lifecycle: { install: 'exit 1' } },
    });
    await until('A', 'RUNNING');
    expect(manager.get('B')!.state).to.not.equal('RUNNING');
  });

  it('[LC-57] a HARD dependency that crashes restarts its depender', async () => {
    manager.apply({
      A: { dependencies: ['B:HARD'], lifecycle: { run: 'echo x >> "$TOP/a.starts"; sleep 30' } },
      B: { lifecycle: { run: 'while [ ! -f "$TOP/crash" ]; do sleep 0.05; done; rm "$TOP/crash"; exit 1' } },
    });
    await eventually(lines('a.starts', 1));
    writeFileSync(join(dir, 'crash'), '');
    // A may restart twice: B's STOPPING counts as ready [LC-55], its INSTALLED does not.
    expect(await eventually(lines('a.starts', 2))).to.have.length.greaterThanOrEqual(2);
    const bErr = events.findIndex((e) => e.component === 'B' && e.newState === 'ERRORED');
    const aStop = events.findIndex((e) => e.component === 'A' && e.newState === 'STOPPING');
    expect(bErr).to.be.greaterThan(-1);
    expect(aStop).to.be.greaterThan(bErr);
  });

  it('[LC-59] stopAll stops dependers before their dependencies', async () => {
    const svc = (name: string, deps: string[]) => ({
      dependencies: deps,
      lifecycle: { run: 'sleep 30', shutdown: `echo ${name} >> "$TOP/order"` },
    });
    manager.apply({ C: svc('C', ['B']), A: svc('A', []), B: svc('B', ['A:HARD']) });
    await Promise.all(['A', 'B', 'C'].map((n) => until(n, 'RUNNING')));
    await manager.stopAll();
    expect(readFileSync(join(dir, 'order'), 'utf8').trim().split('\n')).to.deep.equal(['C', 'B', 'A']);
    expect(['A', 'B', 'C'].map((n) => manager.get(n)!.state)).to.deep.equal([
      'FINISHED',
      'FINISHED',
      'FINISHED',
    ]);
  });

  it('[LC-56] a set with a cycle is refused naming it, and nothing starts', () => {
    expect(() =>
      manager.apply({
        A: { dependencies: ['B'], lifecycle: { run: 'true' } },
        B: { dependencies: ['C:SOFT'], lifecycle: { run: 'true' } },
        C: { dependencies: ['A'], lifecycle: { run: 'true' } },
      }),
    ).to.throw(DependencyCycleError, /dependency cycle: A -> B -> C -> A/);
    expect(manager.get('A')).to.equal(undefined);
    expect(launcher.launched).to.have.length(0);
  });

  it('[LC-54] an unknown dependency or a bad type is refused naming the field', () => {
    expect(() => manager.apply({ A: { dependencies: ['Z'] } })).to.throw(
      DependencyError,
      "services.A.dependencies: depends on 'Z', which is not a service",
    );
    expect(() => manager.apply({ A: { dependencies: ['B:MAYBE'] }, B: {} })).to.throw(
      DependencyError,
      /services\.A\.dependencies\[0\]: unknown dependency type 'MAYBE'/,
    );
  });

  it('[LC-61][LC-64][LC-25] apply: configuration-only change is none, setenv restarts, removal uninstalls', async () => {
    const a = {
      setenv: { V: '1' },
      configuration: { k: 1 },
      lifecycle: { run: 'echo $V >> "$TOP/a.starts"; sleep 30', uninstall: 'touch "$TOP/a.uninstalled"' },
    };
    manager.apply({ A: a });
    await eventually(lines('a.starts', 1));
    expect(manager.apply({ A: { ...a, configuration: { k: 2 } } }).changed).to.deep.equal({});
    expect(manager.get('A')!.status().desired).to.deep.equal([]);
    expect(manager.apply({ A: { ...a, setenv: { V: '2' } } }).changed).to.deep.equal({ A: 'restart' });
    expect(await eventually(lines('a.starts', 2))).to.deep.equal(['1', '2']);
    const sup = manager.get('A')!;
    expect(manager.apply({}).removed).to.deep.equal(['A']);
    await sup.waitFor((s) => s.state === 'UNINSTALLED' && s.idle);
    expect(existsSync(join(dir, 'a.uninstalled'))).to.equal(true);
  });
});
