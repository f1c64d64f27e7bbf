// Pure parts of the configuration IPC operations: request validation naming each bad field, the
// leaf/map wrapping of GetConfiguration and the newer-wins pre-check of UpdateConfiguration
// [IPC-62, IPC-95, IPC-109, IPC-110; CF-03].
import { expect } from 'chai';
import { Configuration } from '../../../src/config/index.js';
import { configurationValue, IpcError, parseUpdateConfiguration, staleKeys } from '../../../src/ipc/index.js';

function refusal(fn: () => unknown): IpcError {
  try {
    fn();
  } catch (e) {
    if (e instanceof IpcError) return e;
    throw e;
  }
  throw new Error('expected a refusal');
}

describe('configuration IPC requests (pure)', () => {
  describe('parseUpdateConfiguration [IPC-62][IPC-110]', () => {
    const ok = { timestamp: 1700000000.123, valueToMerge: { a: 1 } };

    it('converts epoch seconds with a fraction to epoch ms without float noise [IPC-42]', () => {
      expect(parseUpdateConfiguration(ok)).to.deep.equal({
        keyPath: [],
        timestampMs: 1700000000123,
        valueToMerge: { a: 1 },
      });
      expect(parseUpdateConfiguration({ ...ok, keyPath: ['x', 'y'] }).keyPath).to.deep.equal(['x', 'y']);
    });

    const cases: [string, Record<string, unknown>, string][] = [
      ['missing timestamp', { valueToMerge: {} }, 'timestamp is required (epoch seconds)'],
      [
        'string timestamp',
        { ...ok, timestamp: 'now' },
        'timestamp must be a positive number of epoch seconds, got "now"',
      ],
      [
        'negative timestamp',
        { ...ok, timestamp: -5 },
        'timestamp must be a positive number of epoch seconds, got -5',
      ],
      ['missing valueToMerge', { timestamp: 1 }, 'valueToMerge is required (an object)'],
      ['list valueToMerge', { timestamp: 1, valueToMerge: [1] }, 'valueToMerge must be an object'],
      ['scalar valueToMerge', { timestamp: 1, valueToMerge: 'x' }, 'valueToMerge must be an object'],
      ['keyPath not a list', { ...ok, keyPath: 'a.b' }, 'keyPath must be a list of strings'],
      ['keyPath with an empty key', { ...ok, keyPath: ['a', ''] }, 'keyPath[1] must be a non-empty string'],
      ['keyPath with a number', { ...ok, keyPath: [3] }, 'keyPath[0] must be a non-empty string'],
      [
        'accessControl by keyPath (any case)',
        { ...ok, keyPath: ['ACCESSCONTROL', 'x'] },
        'Config update is not allowed for following fields [accessControl]',
      ],
      [
        'accessControl at the root of valueToMerge',
        { timestamp: 1, valueToMerge: { accessControl: {} } },
        'Config update is not allowed for following fields [accessControl]',
      ],
    ];
    for (const [name, req, message] of cases) {
      it(`refuses ${name} with InvalidArgumentsError naming the field`, () => {
        const e = refusal(() => parseUpdateConfiguration(req));
        expect(e.shape).to.equal('InvalidArgumentsError');
        expect(e.message).to.equal(message);
      });
    }

    it('accepts accessControl as a nested key below another container (only the top-level policy tree is protected)', () => {
      expect(
        parseUpdateConfiguration({ ...ok, keyPath: ['app'], valueToMerge: { accessControl: 1 } }).keyPath,
      ).to.deep.equal(['app']);
    });
  });

  describe('configurationValue [IPC-109]', () => {
    it('wraps a leaf as {storedKey: value} and returns a container as its map', () => {
      const c = new Configuration({ clock: () => 10 });
      c.merge({ cfg: { Leaf: [1, 2], box: { n: null } } });
      expect(configurationValue(c.find(['cfg', 'leaf'])!)).to.deep.equal({ Leaf: [1, 2] });
      expect(configurationValue(c.find(['cfg', 'box'])!)).to.deep.equal({ n: null });
      expect(configurationValue(c.find(['cfg', 'box', 'n'])!)).to.deep.equal({ n: null });
    });
  });

  describe('staleKeys [IPC-110][CF-03]', () => {
    const tree = () => {
      const c = new Configuration({ clock: () => 0 });
      c.merge({ a: 1, box: { old: 1 } }, { at: ['t'], timestamp: 100 });
      c.set(['t', 'box', 'newer'], 2, { timestamp: 500 });
      return c;
    };

    it('is empty when every key the merge writes is not newer than the request', () => {
      const c = tree();
      expect(staleKeys(c.findTopics(['t']), { a: 2, box: { newer: 3 }, fresh: 1 }, 500)).to.deep.equal([]);
      expect(staleKeys(undefined, { a: 1 }, 1)).to.deep.equal([]);
    });

    it('names each stored leaf newer than the request, and keys outside the merge do not count', () => {
      const c = tree();
      expect(staleKeys(c.findTopics(['t']), { a: 2, box: { newer: 3, old: 4 } }, 200)).to.deep.equal([
        ['box', 'newer'],
      ]);
      expect(staleKeys(c.findTopics(['t']), { a: 2 }, 200)).to.deep.equal([]);
      expect(staleKeys(c.findTopics(['t']), { a: 2 }, 50)).to.deep.equal([['a']]);
    });

    it('a container replaced by a leaf is stale when anything inside it is newer; a leaf replaced by a container by its own time', () => {
      const c = tree();
      expect(staleKeys(c.findTopics(['t']), { box: 'flat' }, 200)).to.deep.equal([['box']]);
      expect(staleKeys(c.findTopics(['t']), { box: 'flat' }, 600)).to.deep.equal([]);
      expect(staleKeys(c.findTopics(['t']), { a: { now: 'a map' } }, 50)).to.deep.equal([['a']]);
    });
  });
});
