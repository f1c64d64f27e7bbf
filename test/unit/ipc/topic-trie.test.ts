import { expect } from 'chai';
import { filterMatches, topicLevels } from '../../../src/ipc/index.js';
import { TopicTrie } from '../../../src/ipc/services/topic-trie.js';

describe('IPC pub/sub topic filters [IPC-103]', () => {
  const match: [string, string][] = [
    ['foo', 'foo'],
    ['foo/bar', 'foo/bar'],
    ['foo/+', 'foo/bar'],
    ['+/bar', 'foo/bar'],
    ['+', 'foo/'],
    ['foo/#', 'foo/bar'],
    ['foo/#', 'foo/bar/baz'],
    ['#', 'foo'],
    ['#', '$foo/bar'],
    ['foo/+/baz', 'foo/x/baz'],
    ['foo/bar', 'foo/bar/'],
  ];
  const noMatch: [string, string][] = [
    ['foo', 'bar'],
    ['foo/#', 'foo'],
    ['foo/#', 'foo/'],
    ['foo/+', 'foo'],
    ['foo/+', 'foo/bar/baz'],
    ['foo/ba+', 'foo/bar'],
    ['foo/b#', 'foo/b/c'],
    ['foo/bar', 'foo/baz'],
  ];
  for (const [filter, topic] of match) {
    it(`${filter} matches ${topic}`, () => {
      expect(filterMatches(filter, topic)).to.equal(true);
      const trie = new TopicTrie<string>();
      trie.add(filter, 'v');
      expect(trie.match(topic)).to.deep.equal(['v']);
    });
  }
  for (const [filter, topic] of noMatch) {
    it(`${filter} does not match ${topic}`, () => {
      expect(filterMatches(filter, topic)).to.equal(false);
      const trie = new TopicTrie<string>();
      trie.add(filter, 'v');
      expect(trie.match(topic)).to.deep.equal([]);
    });
  }

  it('splits like Java String.split: trailing empty levels dropped, inner ones kept', () => {
    expect(topicLevels('a/b/')).to.deep.equal(['a', 'b']);
    expect(topicLevels('a//b')).to.deep.equal(['a', '', 'b']);
    expect(topicLevels('/a')).to.deep.equal(['', 'a']);
  });

  it('[IPC-105] returns one entry per (filter, value), including several filters of one value', () => {
    const trie = new TopicTrie<string>();
    trie.add('a/b', 's1');
    trie.add('a/+', 's1');
    trie.add('#', 's2');
    expect(trie.match('a/b').sort()).to.deep.equal(['s1', 's1', 's2']);
  });

  it('[IPC-108] removal prunes empty nodes and keeps shared prefixes', () => {
    const trie = new TopicTrie<string>();
    trie.add('a/b/c', 'x');
    trie.add('a/b', 'y');
    expect(trie.nodeCount()).to.equal(3);
    trie.remove('a/b/c', 'x');
    expect(trie.nodeCount()).to.equal(2);
    expect(trie.match('a/b')).to.deep.equal(['y']);
    trie.remove('a/b', 'y');
    expect(trie.nodeCount()).to.equal(0);
    expect(trie.size).to.equal(0);
    trie.remove('a/b', 'y'); // removing twice changes nothing
    expect(trie.size).to.equal(0);
  });
});
