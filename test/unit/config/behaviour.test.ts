import { expect } from 'chai';
import {
  ConfigValueError,
  Configuration,
  childBehaviour,
  deploymentMergeTree,
  rollbackMergeTree,
} from '../../../src/config/index.js';

describe('update behaviour trees', () => {
  it('[CF-20] MERGE keeps absent children, REPLACE removes them; timestamps come from the tree', () => {
    const c = new Configuration({ clock: () => 1 });
    c.merge({ keep: { a: 1, b: 2 }, repl: { a: 1, b: 2 } }, { timestamp: 10 });
    c.updateMap(
      { keep: { a: 5 }, repl: { a: 5 } },
      {
        behaviour: 'MERGE',
        timestamp: 20,
        children: { repl: { behaviour: 'REPLACE', timestamp: 30 } },
      },
    );
    expect(c.toMap()).to.deep.equal({ keep: { a: 5, b: 2 }, repl: { a: 5 } });
    expect(c.findLeaf(['keep', 'a'])!.modtime).to.equal(20);
    expect(c.findLeaf(['repl', 'a'])!.modtime).to.equal(30);
  });

  it('[CF-20] child behaviour: exact key (case-insensitive), else *, else inherited', () => {
    const tree = {
      behaviour: 'MERGE' as const,
      timestamp: 5,
      children: {
        Foo: { behaviour: 'REPLACE' as const, timestamp: 9 },
        '*': { behaviour: 'REPLACE' as const },
      },
    };
    expect(childBehaviour(tree, 'foo')).to.include({ behaviour: 'REPLACE', timestamp: 9 });
    expect(childBehaviour(tree, 'bar')).to.include({ behaviour: 'REPLACE', timestamp: 5 });
    expect(childBehaviour({ behaviour: 'MERGE', timestamp: 3 }, 'x')).to.include({
      behaviour: 'MERGE',
      timestamp: 3,
    });
  });

  it('[CF-20] REPLACE does not remove nodes written after the merge timestamp', () => {
    const c = new Configuration({ clock: () => 1 });
    c.merge({ a: 1 }, { timestamp: 10 });
    c.set(['local'], 'x', { timestamp: 50 });
    c.updateMap({ a: 2 }, { behaviour: 'REPLACE', timestamp: 20 });
    expect(c.toMap()).to.deep.equal({ a: 2, local: 'x' });
  });

  it('[CF-21] deployment merge: services replaced whole except runtime, _private and tokens; configuration at the deployment timestamp', () => {
    const c = new Configuration({ clock: () => 1 });
    c.merge(
      {
        services: {
          svc: {
            version: '1.0.0',
            lifecycle: { run: 'old', install: 'x' },
            runtime: { counter: 3 },
            _private: { state: 'RUNNING' },
            configuration: { a: 1, gone: true },
          },
          _AUTHENTICATION_TOKENS: { T1: 'svc' },
          other: { version: '2.0.0' },
        },
      },
      { timestamp: 100 },
    );
    c.set(['services', 'svc', 'configuration', 'local'], 'kept', { timestamp: 1500 });
    const tree = deploymentMergeTree({
      now: 2000,
      configurationTimestamp: 1000,
      builtinServicesNotInNewConfig: ['other'],
    });
    c.updateMap(
      {
        services: {
          svc: { version: '1.1.0', lifecycle: { run: 'new' }, configuration: { a: 2 } },
          other: {},
        },
      },
      tree,
    );
    expect(c.toMap().services).to.deep.equal({
      svc: {
        version: '1.1.0',
        lifecycle: { run: 'new' },
        runtime: { counter: 3 },
        _private: { state: 'RUNNING' },
        configuration: { a: 2, local: 'kept' },
      },
      _AUTHENTICATION_TOKENS: { T1: 'svc' },
      other: { version: '2.0.0' },
    });
    expect(c.findLeaf(['services', 'svc', 'version'])!.modtime).to.equal(2000);
    expect(c.findLeaf(['services', 'svc', 'configuration', 'a'])!.modtime).to.equal(1000);
  });

  it('[CF-22] rollback merge applies with forced timestamps and configuration at now', () => {
    const c = new Configuration({ clock: () => 1 });
    c.merge({ services: { svc: { configuration: { a: 'new' }, version: '2.0.0' } } }, { timestamp: 5000 });
    c.updateMap(
      { services: { svc: { configuration: { a: 'old' }, version: '1.0.0' } } },
      rollbackMergeTree({ now: 3000 }),
      { force: true },
    );
    expect(c.get(['services', 'svc'])).to.deep.equal({ configuration: { a: 'old' }, version: '1.0.0' });
    expect(c.findLeaf(['services', 'svc', 'configuration', 'a'])!.modtime).to.equal(3000);
  });

  it('bad behaviour trees and maps are refused before anything changes', () => {
    const c = new Configuration({ clock: () => 1 });
    c.set(['a'], 1);
    expect(() => c.updateMap({ a: 2 }, { behaviour: 'MERGE' })).to.throw(
      ConfigValueError,
      /behaviourTree.timestamp/,
    );
    expect(() =>
      c.updateMap(
        { a: 2 },
        { behaviour: 'MERGE', timestamp: 5, children: { a: { behaviour: 'KEEP' as 'MERGE' } } },
      ),
    ).to.throw(ConfigValueError, /behaviourTree.a.behaviour: must be MERGE or REPLACE/);
    expect(() =>
      c.updateMap({ a: 2, b: { c: Number.POSITIVE_INFINITY } }, { behaviour: 'MERGE', timestamp: 5 }),
    ).to.throw(ConfigValueError, /b.c: number Infinity is not finite/);
    expect(c.toMap()).to.deep.equal({ a: 1 });
  });
});
