import { mkdtemp, readFile, rm, writeFile, readdir, utimes } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import {
  ConfigStore,
  InitConfigError,
  dumpTlog,
  parseTlog,
  readTlogFile,
  Configuration,
} from '../../../src/config/index.js';

const JAVA_TLOG =
  [
    '{"TS":1,"TP":["system","rootpath"],"W":"changed","V":"/old/root"}',
    '{"TS":1700000000000,"TP":["services","main","lifecycle","run"],"W":"changed","V":"echo main"}',
    '{"TS":1700000000001,"TP":["services","main","dependencies"],"W":"changed","V":["HelloWorld"]}',
    '{"TS":1700000000002,"TP":["services","HelloWorld","version"],"W":"changed","V":"1.0.0"}',
  ].join('\n') + '\n';

describe('config store persistence', function () {
  this.timeout(20000);
  let root: string;
  const stores: ConfigStore[] = [];
  const open = async (opts: Partial<Parameters<typeof ConfigStore.open>[0]> = {}) => {
    const s = await ConfigStore.open({ root, effectiveConfigDebounceMs: 0, ...opts });
    stores.push(s);
    return s;
  };
  const cfg = (f: string) => path.join(root, 'config', f);

  beforeEach(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'tendril-config-'));
  });
  afterEach(async () => {
    for (const s of stores.splice(0)) await s.close();
    await rm(root, { recursive: true, force: true });
  });

  it('[CF-17] an existing Greengrass root with a Java-format config.tlog loads, and appends continue in that file', async () => {
    await (await import('node:fs/promises')).mkdir(path.join(root, 'config'), { recursive: true });
    await writeFile(cfg('config.tlog'), JAVA_TLOG);
    const s = await open();
    expect(s.source).to.equal('config.tlog');
    expect(s.config.get(['services', 'main', 'dependencies'])).to.deep.equal(['HelloWorld']);
    // [CF-83] the root actually in use is written with the default timestamp, so it replaces a ts-1 value
    expect(s.config.get(['system', 'rootpath'])).to.equal(root);
    await s.set(['services', 'HelloWorld', 'version'], '1.1.0');
    await s.close();
    const text = await readFile(cfg('config.tlog'), 'utf8');
    expect(text.startsWith(JAVA_TLOG)).to.equal(true);
    expect(text.trimEnd().split('\n').at(-1)).to.match(
      /^\{"TS":\d+,"TP":\["services","HelloWorld","version"\],"W":"changed","V":"1.1.0"\}$/,
    );
    expect(await readFile(cfg('bootstrap.tlog'), 'utf8')).to.contain('"V":"1.0.0"'); // [CF-17 step 4]
  });

  it('[CF-10] a write resolves only after its line is in the file; concurrent writes share batches (group commit)', async () => {
    const s = await open();
    const n = 500;
    await Promise.all(Array.from({ length: n }, (_, i) => s.set(['bench', `k${i}`], i)));
    const text = await readFile(cfg('config.tlog'), 'utf8');
    for (let i = 0; i < n; i++) expect(text).to.contain(`"TP":["bench","k${i}"],"W":"changed","V":${i}}`);
    expect(s.stats.batches).to.be.lessThan(n / 2);
    expect(s.stats.lines).to.be.at.least(n);
  });

  it('[CF-07] memory-only nodes are never written', async () => {
    const s = await open();
    await s.set(['services', '_AUTHENTICATION_TOKENS', 'TOKEN'], 'main');
    await s.set(['services', 'main', '_private', 'x'], 1);
    await s.set(['services', 'main', 'version'], '1');
    await s.close();
    const text = await readFile(cfg('config.tlog'), 'utf8');
    expect(text).to.not.contain('_AUTH');
    expect(text).to.not.contain('_private');
  });

  it('[CF-14] compaction after N entries rewrites the tlog as a dump and keeps every value', async () => {
    const s = await open({ maxTlogEntries: 50 });
    for (let round = 0; round < 5; round++)
      await Promise.all(Array.from({ length: 40 }, (_, i) => s.set(['c', `k${i}`], round)));
    await s.sync();
    await s.truncateNow();
    expect(s.stats.compactions).to.be.at.least(2);
    const lines = (await readTlogFile(cfg('config.tlog'))).lines;
    expect(lines.length).to.be.lessThan(60);
    const files = await readdir(path.join(root, 'config'));
    expect(files).to.not.include('config.tlog.old');
    expect(files).to.not.include('config.tlog+');
    await s.close();
    const again = await open();
    for (let i = 0; i < 40; i++) expect(again.config.get(['c', `k${i}`])).to.equal(4);
  });

  it('[CF-17] an interrupted compaction (config.tlog.old present) is recovered: .old moved back, + deleted', async () => {
    const s = await open();
    await s.set(['a'], 'acknowledged');
    await s.close();
    const { rename } = await import('node:fs/promises');
    await rename(cfg('config.tlog'), cfg('config.tlog.old'));
    await writeFile(cfg('config.tlog+'), '{"TS":1,"TP":["half"],"W":"chan');
    const r = await open();
    expect(r.source).to.equal('config.tlog');
    expect(r.config.get(['a'])).to.equal('acknowledged');
    const files = await readdir(path.join(root, 'config'));
    expect(files).to.not.include('config.tlog.old');
    expect(files).to.not.include('config.tlog+');
  });

  it('[CF-12][CF-17][CF-18] a NUL-filled config.tlog falls back to config.tlog~, then bootstrap.tlog', async () => {
    const s = await open({ initConfigFile: await initFile('services:\n  a:\n    version: "1.0.0"\n') });
    await s.close();
    // The boot dump went through `+` and rename, leaving the previous file as `~`.
    await writeFile(cfg('config.tlog~'), dumpTlogOf({ services: { a: { version: '0.9.0' } } }));
    await writeFile(cfg('config.tlog'), Buffer.alloc(8192));
    const r = await open();
    expect(r.source).to.equal('config.tlog~');
    expect(r.config.get(['services', 'a', 'version'])).to.equal('0.9.0');
    await r.close();
    stores.pop();
    await writeFile(cfg('config.tlog'), Buffer.alloc(10));
    await writeFile(cfg('config.tlog~'), 'garbage\n');
    const b = await open();
    expect(b.source).to.equal('bootstrap.tlog');
    expect(b.config.get(['services', 'a', 'version'])).to.equal('1.0.0');
    // the recovered config was dumped as a new, valid config.tlog
    expect(parseTlog(await readFile(cfg('config.tlog'))).lines.length).to.be.greaterThan(0);
  });

  it('[CF-17] a torn final line (never acknowledged) is cut off before appending resumes', async () => {
    const s = await open();
    await s.set(['x'], 1);
    await s.close();
    const { appendFile } = await import('node:fs/promises');
    await appendFile(cfg('config.tlog'), '{"TS":9,"TP":["x"],"W":"chan');
    const r = await open();
    expect(r.source).to.equal('config.tlog');
    await r.set(['y'], 2);
    await r.close();
    const p = parseTlog(await readFile(cfg('config.tlog')));
    expect(p.tornTail).to.equal(false);
    expect(p.lines.at(-1)!.path).to.deep.equal(['y']);
  });

  it('[CF-17] --init-config merges with the file mtime as timestamp; config.yaml is read only when no tlog is valid', async () => {
    const f = await initFile(
      'system:\n  thingName: dev1\nservices:\n  main:\n    lifecycle:\n      run: echo hi\n',
    );
    await utimes(f, 1_600_000_000, 1_600_000_000);
    const s = await open({ initConfigFile: f });
    expect(s.source).to.equal('init-config');
    expect(s.config.findLeaf(['system', 'thingName'])!.modtime).to.equal(1_600_000_000_000);
    expect(s.config.get(['system', 'rootpath'])).to.equal(root); // [CF-83]
    await s.close();
    await writeFile(cfg('config.yaml'), 'system:\n  thingName: ignored\n');
    const r = await open();
    expect(r.source).to.equal('config.tlog');
    expect(r.config.get(['system', 'thingName'])).to.equal('dev1');
  });

  it('[CF-17] --config replaces the config and ignores existing tlogs; bad files are refused and change nothing', async () => {
    const s = await open();
    await s.set(['old'], 1);
    await s.close();
    const before = await readFile(cfg('config.tlog'), 'utf8');
    const bad = await initFile('services:\n  a:\n    dependencies: 5\n');
    let err: unknown;
    await open({ configFile: bad }).catch((e) => (err = e));
    expect(err).to.be.instanceOf(InitConfigError);
    expect((err as InitConfigError).field).to.equal('services.a.dependencies');
    expect(await readFile(cfg('config.tlog'), 'utf8')).to.equal(before);
    const good = await initFile('services:\n  b:\n    version: "2.0.0"\n');
    const r = await open({ configFile: good });
    expect(r.source).to.equal('config-file');
    expect(r.config.get(['old'])).to.equal(undefined);
    expect(r.config.get(['services', 'b', 'version'])).to.equal('2.0.0');
  });

  it('[CF-19] effectiveConfig.yaml holds only services and system, rewritten after changes (debounced)', async () => {
    const s = await open({ effectiveConfigDebounceMs: 20 });
    await s.set(['setenv', 'X'], 'y');
    await s.set(['services', 'main', 'version'], '1.0.0');
    await s.set(['services', 'main', '_private', 'p'], 1);
    await s.close();
    const text = await readFile(cfg('effectiveConfig.yaml'), 'utf8');
    expect(text).to.match(/^system:/m);
    expect(text).to.match(/^services:\n {2}main:\n {4}version: 1\.0\.0/m);
    expect(text).to.not.contain('setenv');
    expect(text).to.not.contain('_private');
  });

  async function initFile(text: string): Promise<string> {
    const f = path.join(root, `init-${Math.random().toString(36).slice(2)}.yaml`);
    await writeFile(f, text);
    return f;
  }
});

function dumpTlogOf(map: Record<string, unknown>): string {
  const c = new Configuration({ clock: () => 5 });
  c.merge(map as never, { timestamp: 5 });
  return dumpTlog(c);
}
