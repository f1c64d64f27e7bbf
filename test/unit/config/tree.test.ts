import { expect } from 'chai';
import {
  ConfigValueError,
  Configuration,
  Topic,
  Topics,
  dumpTlog,
  type ConfigNode,
  type WhatHappened,
} from '../../../src/config/index.js';

function fixedClock(start = 1000) {
  let t = start;
  const clock = () => t;
  return { clock, set: (v: number) => (t = v) };
}

describe('config tree', () => {
  it('[CF-01] keys are case-insensitive and keep their first spelling; nodes carry modtimes', () => {
    const c = new Configuration({ clock: () => 5000 });
    c.set(['Services', 'Main', 'Lifecycle', 'Run'], 'echo hi');
    c.set(['services', 'MAIN', 'lifecycle', 'run'], 'echo bye');
    expect(c.toMap()).to.deep.equal({ Services: { Main: { Lifecycle: { Run: 'echo bye' } } } });
    expect(c.findLeaf(['SERVICES', 'main', 'LIFECYCLE', 'run'])?.modtime).to.equal(5000);
    expect(c.findTopics(['services'])).to.be.instanceOf(Topics);
  });

  it('[CF-01] leaves hold strings, numbers, booleans, lists and null; maps are refused as leaf values', () => {
    const c = new Configuration();
    c.set(['a'], 's');
    c.set(['b'], 1.5);
    c.set(['c'], true);
    c.set(['d'], [1, { x: 'y' }]);
    c.set(['e'], null);
    expect(c.toMap()).to.deep.equal({ a: 's', b: 1.5, c: true, d: [1, { x: 'y' }], e: null });
    expect(() => c.set(['f'], { x: 1 })).to.throw(ConfigValueError, /f: a map is not a leaf value/);
    expect(() => c.set(['g'], Number.NaN)).to.throw(ConfigValueError, /g: number NaN is not finite/);
    expect(() => c.set(['h'], () => 1)).to.throw(ConfigValueError, /h: unsupported value type function/);
    expect(() => c.set([], 1)).to.throw(ConfigValueError, /path must not be empty/);
    expect(() => c.set(['a', ''], 1)).to.throw(
      ConfigValueError,
      /\(path\)\[1\]: each key must be a non-empty string/,
    );
    expect(c.find(['f']) ?? c.find(['g']) ?? c.find(['h'])).to.equal(undefined);
  });

  it('[CF-13] integers beyond 2^53 are kept exactly as bigint', () => {
    const c = new Configuration();
    c.set(['big'], 9007199254740993n);
    c.set(['small'], 42n);
    expect(c.get(['big'])).to.equal(9007199254740993n);
    expect(c.get(['small'])).to.equal(42);
    expect(dumpTlog(c)).to.contain('"V":9007199254740993}');
  });

  it('[CF-02] defaults get timestamp 1 and lose to any real write', () => {
    const c = new Configuration({ clock: () => 2 });
    const leaf = c.setDefault(['x'], 'default');
    expect(leaf.modtime).to.equal(1);
    c.setDefault(['x'], 'other');
    expect(c.get(['x'])).to.equal('default');
    c.set(['x'], 'real');
    expect(c.get(['x'])).to.equal('real');
  });

  it('[CF-03] newer wins; older writes are ignored unless forced; equal values are no-ops', async () => {
    const clk = fixedClock(100);
    const c = new Configuration({ clock: clk.clock });
    const events: WhatHappened[] = [];
    expect(c.set(['k'], 'v1', { timestamp: 100 })).to.equal(true);
    c.findLeaf(['k'])!.subscribe((w) => events.push(w));
    expect(c.set(['k'], 'old', { timestamp: 50 })).to.equal(false);
    expect(c.get(['k'])).to.equal('v1');
    expect(c.set(['k'], 'v1', { timestamp: 200 })).to.equal(false);
    expect(c.findLeaf(['k'])!.modtime).to.equal(100);
    expect(c.set(['k'], 'forced', { timestamp: 10, force: true })).to.equal(true);
    expect(c.findLeaf(['k'])!.modtime).to.equal(10);
    await c.whenIdle();
    expect(events).to.deep.equal(['initialized', 'changed']);
  });

  it('[CF-03] an equal value with a newer timestamp fires timestampUpdated when bumping', async () => {
    const c = new Configuration({ clock: () => 1 });
    c.set(['k'], 'v', { timestamp: 100 });
    const leaf = c.findLeaf(['k'])!;
    const events: WhatHappened[] = [];
    leaf.subscribe((w) => events.push(w));
    expect(leaf.withNewerValue(300, 'v', { bumpTimestamp: true })).to.equal(false);
    expect(leaf.modtime).to.equal(300);
    await c.whenIdle();
    expect(events).to.deep.equal(['initialized', 'timestampUpdated']);
  });

  it('[CF-04][CF-05] watchers run in order on one publish queue; subtree watchers see child events', async () => {
    const c = new Configuration({ clock: () => 10 });
    c.set(['services', 'a', 'x'], 1);
    const log: string[] = [];
    const services = c.findTopics(['services'])!;
    services.subscribe((w, n) => log.push(`services:${w}:${n.path().join('.')}`));
    const leaf = c.findLeaf(['services', 'a', 'x'])!;
    leaf.subscribe((w, n) => log.push(`leaf:${w}:${n.path().join('.')}`));
    expect(log).to.deep.equal(['services:initialized:services', 'leaf:initialized:services.a.x']);
    c.set(['services', 'a', 'x'], 2);
    c.set(['services', 'b', 'y'], 3);
    c.remove(['services', 'a']);
    expect(log).to.have.length(2); // delivery is asynchronous, on the queue
    await c.whenIdle();
    expect(log.slice(2)).to.deep.equal([
      'leaf:changed:services.a.x',
      'services:childChanged:services.a.x',
      'services:interiorAdded:services.b',
      'services:childChanged:services.b.y',
      'leaf:removed:services.a.x',
      'services:childRemoved:services.a',
    ]);
  });

  it('[CF-04] a throwing watcher does not stop the queue', async () => {
    const errors: unknown[] = [];
    const c = new Configuration({ onWatcherError: (e) => errors.push(e) });
    c.set(['k'], 1);
    const seen: number[] = [];
    const leaf = c.findLeaf(['k'])!;
    leaf.subscribe((w) => {
      if (w === 'changed') throw new Error('boom');
    });
    leaf.subscribe((w, n) => w === 'changed' && seen.push((n as Topic).value as number));
    c.set(['k'], 2);
    await c.whenIdle();
    expect(seen).to.deep.equal([2]);
    expect(errors).to.have.length(1);
    expect(c.watcherErrors).to.equal(1);
  });

  it('[CF-06] validators rewrite proposed values or refuse them', () => {
    const c = new Configuration();
    c.set(['region'], 'us-east-1');
    const leaf = c.findLeaf(['region'])!;
    leaf.addValidator((v) => (v === '' ? 'us-east-1' : v));
    leaf.addValidator((v) => {
      if (typeof v !== 'string') throw new ConfigValueError('region', 'must be a string');
      return v.toLowerCase();
    });
    c.set(['region'], 'EU-WEST-1');
    expect(c.get(['region'])).to.equal('eu-west-1');
    c.set(['region'], '');
    expect(c.get(['region'])).to.equal('us-east-1');
    expect(() => c.set(['region'], 5)).to.throw(ConfigValueError, /region: must be a string/);
    expect(c.get(['region'])).to.equal('us-east-1');
  });

  it('[CF-07] `_` nodes anywhere in a path are memory-only', () => {
    const c = new Configuration({ clock: () => 7 });
    const lines: string[] = [];
    c.onChange((kind, n) => lines.push(`${kind}:${n.path().join('.')}:${n.isMemoryOnly()}`));
    c.set(['services', '_AUTHENTICATION_TOKENS', 'tok'], 'main');
    c.set(['services', 'main', '_private', 'state'], 'RUNNING');
    c.set(['services', 'main', 'version'], '1.0.0');
    expect(c.find(['services', 'main', '_private', 'state'])!.isMemoryOnly()).to.equal(true);
    expect(c.find(['services', 'main', 'version'])!.isMemoryOnly()).to.equal(false);
    const dump = dumpTlog(c);
    expect(dump).to.not.contain('_');
    expect(dump).to.contain('"TP":["services","main","version"]');
  });

  it('[CF-08] leaf <-> container changes replace the node and move its watchers', async () => {
    const c = new Configuration({ clock: () => 10 });
    c.set(['a', 'b'], 'leaf', { timestamp: 10 });
    const seen: [WhatHappened, string][] = [];
    const leaf = c.findLeaf(['a', 'b'])!;
    leaf.subscribe((w, n: ConfigNode) => seen.push([w, n.kind]));
    c.merge({ b: { inner: 1 } }, { at: ['a'], timestamp: 20 });
    expect(c.find(['a', 'b'])).to.be.instanceOf(Topics);
    expect(c.find(['a', 'b'])!.watchers).to.have.length(1);
    c.set(['a', 'b'], 'again', { timestamp: 30 });
    expect(c.get(['a', 'b'])).to.equal('again');
    expect(c.find(['a', 'b'])!.watchers).to.have.length(1);
    // an older write cannot replace a newer node
    expect(c.set(['a', 'b', 'deep'], 1, { timestamp: 5 })).to.equal(false);
    expect(c.get(['a', 'b'])).to.equal('again');
    await c.whenIdle();
    expect(seen[0]).to.deep.equal(['initialized', 'leaf']);
    expect(seen.some(([w, k]) => w === 'interiorAdded' && k === 'interior')).to.equal(true);
    expect(seen.at(-1)).to.deep.equal(['changed', 'leaf']);
  });

  it('removal is newer-wins too and the change feed sees the removal timestamp', () => {
    const c = new Configuration({ clock: () => 50 });
    c.set(['a', 'b'], 1, { timestamp: 100 });
    expect(c.remove(['a', 'b'], { timestamp: 99 })).to.equal(false);
    const feed: string[] = [];
    c.onChange((k, n) => feed.push(`${k}@${n.modtime}:${n.path().join('.')}`));
    expect(c.remove(['a', 'b'], { timestamp: 100 })).to.equal(true);
    expect(feed).to.deep.equal(['removed@100:a.b']);
    expect(c.get(['a'])).to.deep.equal({});
    expect(() => c.root.remove(1)).to.throw(ConfigValueError, /root cannot be removed/);
  });
});
