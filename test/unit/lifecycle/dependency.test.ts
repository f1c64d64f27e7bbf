import { expect } from 'chai';
import {
  DependencyCycleError,
  DependencyError,
  areDependenciesReady,
  dependencyEditNeedsRestart,
  dependencyOrder,
  dependersIndex,
  dependersOf,
  isDependencyReady,
  parseDependencies,
  parseDependency,
  shouldCascadeRestart,
  type ServiceDependency,
} from '../../../src/lifecycle/dependency.js';

const graph = (o: Record<string, string[]>) =>
  new Map(Object.entries(o).map(([k, v]) => [k, parseDependencies(v, `services.${k}.dependencies`)]));

describe('lifecycle dependencies (pure)', () => {
  it('[LC-54] parses name[:HARD|SOFT], prefix and case-insensitive, default HARD', () => {
    expect(parseDependency('a', 'f')).to.deep.equal({ name: 'a', type: 'HARD' });
    expect(parseDependency('a:soft', 'f')).to.deep.equal({ name: 'a', type: 'SOFT' });
    expect(parseDependency('a:S', 'f')).to.deep.equal({ name: 'a', type: 'SOFT' });
    expect(parseDependency('a:Ha', 'f')).to.deep.equal({ name: 'a', type: 'HARD' });
  });

  it('[LC-54] a bad entry names the field and the reason', () => {
    expect(() => parseDependencies(['a', 'b:WEAK'], 'services.x.dependencies')).to.throw(
      DependencyError,
      /services\.x\.dependencies\[1\]: unknown dependency type 'WEAK'/,
    );
    expect(() => parseDependencies([':HARD'], 'd')).to.throw(DependencyError, /d\[0\]: empty component name/);
    expect(() => parseDependencies(5, 'd')).to.throw(DependencyError, /^d: must be a list/);
  });

  it('[LC-56] orders dependencies before dependers', () => {
    const order = dependencyOrder(graph({ main: ['a', 'b:SOFT'], a: ['b'], b: [], c: ['main'] }));
    expect(order).to.deep.equal(['b', 'a', 'main', 'c']);
  });

  it('[LC-56] a cycle is an error naming it', () => {
    const g = graph({ x: [], a: ['b'], b: ['c:SOFT'], c: ['a'] });
    try {
      dependencyOrder(g);
      expect.fail('no error');
    } catch (e) {
      expect(e).to.be.instanceOf(DependencyCycleError);
      const cycle = (e as DependencyCycleError).cycle;
      expect(cycle[0]).to.equal(cycle[cycle.length - 1]);
      expect([...cycle].sort()).to.deep.equal(['a', 'a', 'b', 'c']);
      expect((e as Error).message).to.match(/dependency cycle: a -> b -> c -> a/);
    }
  });

  it('[LC-56] a self-dependency is a cycle', () => {
    expect(() => dependencyOrder(graph({ a: ['a'] }))).to.throw(/a -> a/);
  });

  it('[LC-55] HARD readiness: RUNNING, FINISHED, STOPPING without startup error; SOFT always', () => {
    const st = (state: 'RUNNING' | 'FINISHED' | 'STOPPING' | 'INSTALLED' | 'ERRORED', sfse = false) => ({
      state,
      stoppingFromStartupError: sfse,
    });
    expect(isDependencyReady(st('RUNNING'), 'HARD')).to.equal(true);
    expect(isDependencyReady(st('FINISHED'), 'HARD')).to.equal(true);
    expect(isDependencyReady(st('STOPPING'), 'HARD')).to.equal(true);
    expect(isDependencyReady(st('STOPPING', true), 'HARD')).to.equal(false);
    expect(isDependencyReady(st('INSTALLED'), 'HARD')).to.equal(false);
    expect(isDependencyReady(st('ERRORED'), 'SOFT')).to.equal(true);
    expect(isDependencyReady(undefined, 'HARD')).to.equal(false);
    const deps: ServiceDependency[] = [
      { name: 'a', type: 'HARD' },
      { name: 'b', type: 'SOFT' },
    ];
    expect(areDependenciesReady(deps, (n) => (n === 'a' ? st('RUNNING') : st('ERRORED')))).to.equal(true);
    expect(areDependenciesReady(deps, (n) => (n === 'a' ? st('INSTALLED') : st('RUNNING')))).to.equal(false);
  });

  it('[LC-57] a running depender restarts when a HARD dependency errors or restarts, never for SOFT', () => {
    const errored = { state: 'ERRORED' as const, stoppingFromStartupError: false };
    const installed = { state: 'INSTALLED' as const, stoppingFromStartupError: false };
    expect(shouldCascadeRestart('RUNNING', errored, 'HARD')).to.equal(true);
    expect(shouldCascadeRestart('STARTING', installed, 'HARD')).to.equal(true);
    expect(shouldCascadeRestart('RUNNING', errored, 'SOFT')).to.equal(false);
    expect(shouldCascadeRestart('INSTALLED', errored, 'HARD')).to.equal(false);
    expect(
      shouldCascadeRestart('RUNNING', { state: 'RUNNING', stoppingFromStartupError: false }, 'HARD'),
    ).to.equal(false);
  });

  it('[LC-58] adding a dependency restarts; a type change restarts only if it leaves it not ready', () => {
    const installed = () => ({ state: 'INSTALLED' as const, stoppingFromStartupError: false });
    const a = (type: 'HARD' | 'SOFT') => [{ name: 'a', type }];
    expect(dependencyEditNeedsRestart([], a('SOFT'), installed)).to.equal(true);
    expect(dependencyEditNeedsRestart(a('SOFT'), a('HARD'), installed)).to.equal(true);
    expect(dependencyEditNeedsRestart(a('HARD'), a('SOFT'), installed)).to.equal(false);
    expect(dependencyEditNeedsRestart(a('HARD'), [], installed)).to.equal(false);
  });

  it('lists dependers with their dependency type', () => {
    expect(dependersOf(graph({ a: ['c'], b: ['c:SOFT'], c: [] }), 'c')).to.deep.equal([
      { name: 'a', type: 'HARD' },
      { name: 'b', type: 'SOFT' },
    ]);
  });

  it('indexes the dependers of every service as dependersOf lists them', () => {
    const g = graph({ a: ['c', 'd:SOFT'], b: ['c:SOFT', 'd'], c: ['d'], d: [] });
    g.set('e', [
      { name: 'c', type: 'SOFT' },
      { name: 'c', type: 'HARD' },
    ]);
    const index = dependersIndex(g);
    for (const name of ['a', 'b', 'c', 'd', 'e'])
      expect(index.get(name) ?? [], name).to.deep.equal(dependersOf(g, name));
  });
});
