// The deployment plan: current -> target services diffed into typed, dependency-ordered steps.
import { expect } from 'chai';
import { planDeployment, type PlannedService, type ServicesMap } from '../../../src/deployment/index.js';

function svc(version: string, extra: Partial<PlannedService> = {}): PlannedService {
  return { version, lifecycle: { run: 'app' }, configuration: { k: 1 }, ...extra };
}

function kinds(current: ServicesMap, target: ServicesMap): string[] {
  const r = planDeployment(current, target);
  if (!r.ok) throw new Error(r.error);
  return r.steps.map((s) => `${s.kind} ${s.component}`);
}

describe('planDeployment', () => {
  it('no change, no steps', () => {
    expect(kinds({ A: svc('1.0.0') }, { A: svc('1.0.0') })).to.deep.equal([]);
  });

  it('installs new components dependencies first, removes dropped ones dependents first', () => {
    const current = { Old: svc('1.0.0', { dependencies: ['OldLib:HARD'] }), OldLib: svc('1.0.0') };
    const target = { App: svc('1.0.0', { dependencies: ['Lib:SOFT'] }), Lib: svc('2.0.0') };
    expect(kinds(current, target)).to.deep.equal([
      'stop-remove Old',
      'stop-remove OldLib',
      'install Lib',
      'install App',
    ]);
    const r = planDeployment(current, target);
    expect(r.ok && r.steps[0]).to.deep.equal({ kind: 'stop-remove', component: 'Old', version: '1.0.0' });
  });

  it('[LC-60] version, install step or user changes reinstall, with the reasons', () => {
    const r = planDeployment(
      {
        A: svc('1.0.0'),
        B: svc('1.0.0', { lifecycle: { install: 'x', run: 'app' } }),
        C: svc('1.0.0', { runWith: { posixUser: 'a' } }),
      },
      {
        A: svc('1.1.0'),
        B: svc('1.0.0', { lifecycle: { install: 'y', run: 'app' } }),
        C: svc('1.0.0', { runWith: { posixUser: 'b' } }),
      },
    );
    if (!r.ok) expect.fail(r.error);
    expect(
      r.steps.map((s) => (s.kind === 'reinstall' ? [s.component, s.fromVersion, s.reasons] : s.kind)),
    ).to.deep.equal([
      ['A', '1.0.0', ['version']],
      ['B', '1.0.0', ['lifecycle.install']],
      ['C', '1.0.0', ['runWith.posixUser']],
    ]);
  });

  it('[LC-61, LC-62] other lifecycle steps, setenv and dependencies restart; shutdown alone does not', () => {
    const r = planDeployment(
      { A: svc('1.0.0'), B: svc('1.0.0'), C: svc('1.0.0', { dependencies: ['A'] }), D: svc('1.0.0') },
      {
        A: svc('1.0.0', { lifecycle: { run: 'app2' } }),
        B: svc('1.0.0', { setenv: { X: '1' } }),
        C: svc('1.0.0', { dependencies: ['A:SOFT'] }),
        D: svc('1.0.0', { lifecycle: { run: 'app', shutdown: 'bye' } }),
      },
    );
    if (!r.ok) expect.fail(r.error);
    expect(r.steps.map((s) => (s.kind === 'restart' ? [s.component, s.reasons] : s.kind))).to.deep.equal([
      ['A', ['lifecycle.run']],
      ['B', ['setenv']],
      ['C', ['dependencies']],
    ]);
  });

  it('a dependency spelled "A" and "A:hard" is the same dependency', () => {
    expect(
      kinds(
        { A: svc('1.0.0'), B: svc('1.0.0', { dependencies: ['A'] }) },
        { A: svc('1.0.0'), B: svc('1.0.0', { dependencies: ['A:hard'] }) },
      ),
    ).to.deep.equal([]);
  });

  it('[LC-64, LC-63] configuration alone -> update-config; limits alone -> relimit; both -> both', () => {
    const limits = { memory: 1024 };
    const r = planDeployment(
      { A: svc('1.0.0'), B: svc('1.0.0'), C: svc('1.0.0') },
      {
        A: svc('1.0.0', { configuration: { k: 2 } }),
        B: svc('1.0.0', { runWith: { systemResourceLimits: limits } }),
        C: svc('1.0.0', { configuration: { k: 3 }, runWith: { systemResourceLimits: limits } }),
      },
    );
    expect(r).to.deep.equal({
      ok: true,
      steps: [
        { kind: 'update-config', component: 'A', configuration: { k: 2 } },
        { kind: 'relimit', component: 'B', systemResourceLimits: limits },
        { kind: 'update-config', component: 'C', configuration: { k: 3 } },
        { kind: 'relimit', component: 'C', systemResourceLimits: limits },
      ],
    });
  });

  it('changed components come in dependency order too', () => {
    expect(
      kinds(
        { App: svc('1.0.0', { dependencies: ['Lib'] }), Lib: svc('1.0.0') },
        { App: svc('2.0.0', { dependencies: ['Lib'] }), Lib: svc('2.0.0') },
      ),
    ).to.deep.equal(['reinstall Lib', 'reinstall App']);
  });

  it('a cycle in the target is refused, naming it', () => {
    expect(
      planDeployment(
        {},
        { A: svc('1.0.0', { dependencies: ['B'] }), B: svc('1.0.0', { dependencies: ['A:SOFT'] }) },
      ),
    ).to.deep.equal({
      ok: false,
      error: 'dependency cycle: A -> B -> A',
    });
  });
});
