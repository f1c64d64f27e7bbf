import { readFileSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { ConfigValueError, resolveComponentConfiguration } from '../../../src/config/index.js';
import { fixturesDir } from './fixtures.js';

const fixtures = path.join(fixturesDir, 'deployments');
const doc = (n: number) =>
  JSON.parse(
    readFileSync(
      path.join(
        fixtures,
        `aws-greengrass-nucleus__src__integrationtests__resources__com__aws__greengrass__integrationtests__deployment__ComponentConfigTest_DeployDocument_${n}.json`,
      ),
      'utf8',
    ),
  );

describe('component configuration MERGE/RESET', () => {
  const defaults = { singleLevelKey: 'default', listKey: ['a', 'b'], path: { leafKey: 'dflt' } };

  it('[CF-23][CF-24] RESET pointers from a real deployment document restore defaults', () => {
    const d = doc(4);
    const update = d.Packages[0].ConfigurationUpdate;
    const r = resolveComponentConfiguration({
      current: {
        newSingleLevelKey: 'x',
        path: { leafKey: 'mine', newLeafKey: 'y' },
        listKey: ['z'],
        singleLevelKey: 'c',
      },
      defaults,
      update: { merge: update.MERGE, reset: update.RESET },
      timestamp: d.Timestamp,
    });
    expect(r.rejectedResets).to.deep.equal([]);
    expect(r.configuration).to.deep.equal({
      path: { leafKey: 'mine' },
      listKey: ['a', 'b'],
      singleLevelKey: 'c',
    });
  });

  it('[CF-24] RESET [""] resets the whole document (real deployment document)', () => {
    const d = doc(5);
    const r = resolveComponentConfiguration({
      current: { singleLevelKey: 'changed', extra: 1 },
      defaults,
      update: { reset: d.Packages[0].ConfigurationUpdate.RESET },
      timestamp: d.Timestamp,
    });
    expect(r.configuration).to.deep.equal(defaults);
  });

  it('[CF-24] pointers into arrays are rejected with a reason and skipped', () => {
    const r = resolveComponentConfiguration({
      current: { list: [1, 2, 3], keep: 1, gone: 2 },
      update: { reset: ['/list/0', '/gone', '/missing/deep'] },
      timestamp: 10,
    });
    expect(r.rejectedResets).to.deep.equal([
      { pointer: '/list/0', reason: '"/list" is a list: pointers into arrays cannot be reset' },
    ]);
    expect(r.configuration).to.deep.equal({ list: [1, 2, 3], keep: 1 });
  });

  it('[CF-25] MERGE is level by level; lists wholesale; null merged; type changes allowed', () => {
    const r = resolveComponentConfiguration({
      current: { a: { b: 1, c: 2 }, list: [1, 2], leaf: 'x', obj: { y: 1 } },
      update: { merge: { a: { b: 10 }, list: [3], leaf: { now: 'map' }, obj: 'now leaf', nothing: null } },
      timestamp: 10,
    });
    expect(r.configuration).to.deep.equal({
      a: { b: 10, c: 2 },
      list: [3],
      leaf: { now: 'map' },
      obj: 'now leaf',
      nothing: null,
    });
  });

  it('[CF-24] defaults fill only missing keys; MERGE beats defaults; JSON pointer escapes work', () => {
    const r = resolveComponentConfiguration({
      current: { 'a/b': 1, 'c~d': 2, present: 'mine' },
      defaults: { present: 'dflt', absent: 'dflt', nested: { k: 'dflt' } },
      update: { reset: ['/a~1b', '/c~0d'], merge: { nested: { k: 'merged' } } },
      timestamp: 10,
    });
    expect(r.configuration).to.deep.equal({ present: 'mine', absent: 'dflt', nested: { k: 'merged' } });
  });

  it('[CF-24] a value changed locally after the deployment timestamp is not overwritten by MERGE', () => {
    const r = resolveComponentConfiguration({
      current: { local: 'ipc-update', old: 'v0' },
      currentModtime: (p) => (p[0] === 'local' ? 2000 : 500),
      update: { merge: { local: 'deployment', old: 'v1' } },
      timestamp: 1000,
    });
    expect(r.configuration).to.deep.equal({ local: 'ipc-update', old: 'v1' });
  });

  it('bad updates are refused with the field named', () => {
    const bad = (update: unknown, re: RegExp) =>
      expect(() => resolveComponentConfiguration({ update: update as never, timestamp: 1 })).to.throw(
        ConfigValueError,
        re,
      );
    bad({ merge: [1] }, /configurationUpdate.merge: must be a map/);
    bad({ reset: '/a' }, /configurationUpdate.reset: must be a list/);
    bad({ reset: ['a'] }, /configurationUpdate.reset\[0\]: JSON pointer "a" must be "" or start with "\/"/);
    bad({ reset: ['/a~2'] }, /configurationUpdate.reset\[0\]: .*bad "~" escape/);
    bad({ reset: [5] }, /configurationUpdate.reset\[0\]: a RESET entry must be a string/);
    expect(() => resolveComponentConfiguration({ timestamp: -1 })).to.throw(ConfigValueError, /timestamp/);
  });
});
