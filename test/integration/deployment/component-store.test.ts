// The component store against real files and real ZIP archives (recipes.md section 7).
import { expect } from 'chai';
import { createHash } from 'node:crypto';
import {
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  ComponentStore,
  ComponentStoreError,
  versionsToKeep,
  type ImportOptions,
} from '../../../src/deployment/index.js';
import { artifactsDir, recipeFilePath, unarchivedDir } from '../../../src/recipe/index.js';
import { makeZip, type ZipEntrySpec } from './zip-helper.js';

const LINUX = { os: 'linux', architecture: 'amd64' };

interface ArtifactSpec {
  file: string;
  content?: Buffer;
  zip?: ZipEntrySpec[];
  digest?: string | 'auto';
  algorithm?: string;
  unarchive?: 'ZIP';
  permission?: { Read?: string; Execute?: string };
}

function sha256(b: Buffer): string {
  return createHash('sha256').update(b).digest('base64');
}

/** A CLI-style source: recipes/<name>-<ver>.json and artifacts/<name>/<ver>/<file>. */
function source(base: string, name: string, version: string, artifacts: ArtifactSpec[]): ImportOptions {
  const recipeDir = path.join(base, 'recipes');
  const artifactDir = path.join(base, 'artifacts');
  const dir = path.join(artifactDir, name, version);
  mkdirSync(recipeDir, { recursive: true });
  mkdirSync(dir, { recursive: true });
  const recipeArtifacts = artifacts.map((a) => {
    const file = path.join(dir, a.file);
    if (a.zip) makeZip(file, a.zip);
    else writeFileSync(file, a.content ?? Buffer.from(`content of ${a.file}`));
    const bytes = readFileSync(file);
    return {
      URI: `s3://bucket/${name}/${a.file}`,
      ...(a.digest !== undefined && { Digest: a.digest === 'auto' ? sha256(bytes) : a.digest }),
      ...(a.algorithm !== undefined && { Algorithm: a.algorithm }),
      ...(a.unarchive && { Unarchive: a.unarchive }),
      ...(a.permission && { Permission: a.permission }),
    };
  });
  writeFileSync(
    path.join(recipeDir, `${name}-${version}.json`),
    JSON.stringify({
      RecipeFormatVersion: '2020-01-25',
      ComponentName: name,
      ComponentVersion: version,
      Manifests: [{ Platform: { os: 'linux' }, Lifecycle: { run: 'true' }, Artifacts: recipeArtifacts }],
    }),
  );
  return { recipeDir, artifactDir, platform: LINUX };
}

/** Every path under `dir` with its type, mode and content digest: equal snapshots = unchanged store. */
function snapshot(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const p = path.join(d, e.name);
      const st = lstatSync(p);
      const what = e.isFile() ? sha256(readFileSync(p)) : e.isDirectory() ? 'dir' : 'other';
      out.push(`${path.relative(dir, p)} ${(st.mode & 0o7777).toString(8)} ${what}`);
      if (e.isDirectory()) walk(p);
    }
  };
  walk(dir);
  return out;
}

async function expectRefusal(p: Promise<unknown>, code: string, message: RegExp): Promise<void> {
  try {
    await p;
  } catch (e) {
    expect(e).to.be.instanceOf(ComponentStoreError);
    expect((e as ComponentStoreError).code).to.equal(code);
    expect((e as Error).message).to.match(message);
    return;
  }
  expect.fail(`expected ${code}`);
}

describe('component store (recipes.md section 7)', function () {
  let tmp: string;
  let root: string;
  let store: ComponentStore;
  let bomb: string;

  before(function () {
    this.timeout(60_000);
    bomb = mkdtempSync(path.join(tmpdir(), 'tendril-bomb-'));
    // 1 GiB of zeros, about 1 MB compressed.
    makeZip(path.join(bomb, 'bomb.zip'), [{ name: 'zeros.bin', zeros: 1024 ** 3 }]);
  });
  after(() => rmSync(bomb, { recursive: true, force: true }));

  beforeEach(async () => {
    tmp = mkdtempSync(path.join(tmpdir(), 'tendril-store-'));
    root = path.join(tmp, 'root');
    store = new ComponentStore(root);
    // A component already installed: every refused import must leave it, and everything else, intact.
    await store.importComponents(
      source(path.join(tmp, 'existing'), 'com.example.Existing', '1.0.0', [
        { file: 'x.txt', digest: 'auto', algorithm: 'SHA-256' },
      ]),
    );
  });
  afterEach(() => rmSync(tmp, { recursive: true, force: true }));

  it('[RC-36..RC-38, RC-40, RC-42, RC-43, RC-45] imports recipe, verified artifacts with permissions, and an unarchived ZIP', async () => {
    const opts = source(path.join(tmp, 'src'), 'com.example.App', '1.0.0', [
      {
        file: 'run.sh',
        digest: 'auto',
        algorithm: 'SHA-256',
        permission: { Read: 'OWNER', Execute: 'OWNER' },
      },
      {
        file: 'app.zip',
        zip: [
          { name: 'lib/', dir: true },
          { name: 'lib/a.txt', text: 'A' },
          { name: 'link', symlinkTo: 'lib/a.txt' },
        ],
        unarchive: 'ZIP',
        permission: { Read: 'ALL' },
      },
    ]);
    const imported = await store.importComponents({
      ...opts,
      componentVersionArn: (n, v) => `arn:aws:greengrass:us-east-1:1:components:${n}:versions:${v}`,
    });
    expect(imported).to.deep.equal([
      {
        name: 'com.example.App',
        version: '1.0.0',
        recipeFile: recipeFilePath(root, 'com.example.App', '1.0.0'),
        artifacts: ['run.sh', 'app.zip'],
      },
    ]);
    expect(existsSync(recipeFilePath(root, 'com.example.App', '1.0.0'))).to.equal(true);
    expect(
      JSON.parse(
        readFileSync(
          recipeFilePath(root, 'com.example.App', '1.0.0').replace('.recipe.yaml', '.metadata.json'),
          'utf8',
        ),
      ),
    ).to.deep.equal({
      componentVersionArn: 'arn:aws:greengrass:us-east-1:1:components:com.example.App:versions:1.0.0',
    });
    const art = artifactsDir(root, 'com.example.App', '1.0.0');
    expect(statSync(path.join(art, 'run.sh')).mode & 0o777).to.equal(0o550);
    expect(statSync(path.join(art, 'app.zip')).mode & 0o777).to.equal(0o444);
    expect(statSync(art).mode & 0o777).to.equal(0o755);
    const un = path.join(unarchivedDir(root, 'com.example.App', '1.0.0'), 'app');
    expect(readFileSync(path.join(un, 'lib/a.txt'), 'utf8')).to.equal('A');
    expect(statSync(path.join(un, 'lib/a.txt')).mode & 0o777).to.equal(0o444);
    expect(lstatSync(path.join(un, 'link')).isSymbolicLink()).to.equal(true);
    expect(statSync(path.join(root, 'packages/recipes')).mode & 0o777).to.equal(0o700);
    expect((await store.listVersions('com.example.App')).map((c) => c.version)).to.deep.equal(['1.0.0']);
    expect(readdirSync(path.join(root, 'packages')).filter((f) => f.startsWith('.'))).to.deep.equal([]);
  });

  it('[RC-42] permission levels map to modes: default Read OWNER, NONE -> owner read only, ALL -> everyone', async () => {
    const opts = source(path.join(tmp, 'src'), 'com.example.Perm', '1.0.0', [
      { file: 'default.bin' },
      { file: 'none.bin', permission: { Read: 'NONE' } },
      { file: 'all.bin', permission: { Read: 'ALL', Execute: 'ALL' } },
    ]);
    await store.importComponents(opts);
    const art = artifactsDir(root, 'com.example.Perm', '1.0.0');
    expect(statSync(path.join(art, 'default.bin')).mode & 0o777).to.equal(0o440);
    expect(statSync(path.join(art, 'none.bin')).mode & 0o777).to.equal(0o400);
    expect(statSync(path.join(art, 'all.bin')).mode & 0o777).to.equal(0o555);
  });

  describe('refusals leave the store unchanged', () => {
    let before: string[];
    beforeEach(() => {
      before = snapshot(root);
      expect(before.length).to.be.greaterThan(3);
    });
    afterEach(() => expect(snapshot(root)).to.deep.equal(before));

    it('[RC-40] a digest mismatch names the artifact, both digests and the code', async () => {
      const opts = source(path.join(tmp, 'src'), 'com.example.App', '1.0.0', [
        { file: 'ok.txt', digest: 'auto', algorithm: 'SHA-256' },
        { file: 'bad.txt', digest: sha256(Buffer.from('other')), algorithm: 'SHA-256' },
      ]);
      await expectRefusal(
        store.importComponents(opts),
        'ARTIFACT_CHECKSUM_MISMATCH',
        /^com\.example\.App@1\.0\.0 Manifests\[0\]\.Artifacts\[1\]: bad\.txt has SHA-256 digest \S+, the recipe says \S+$/,
      );
    });

    it('[RC-40] an unsupported Algorithm is refused', async () => {
      const opts = source(path.join(tmp, 'src'), 'com.example.App', '1.0.0', [
        { file: 'a.txt', digest: 'auto', algorithm: 'CRC-32' },
      ]);
      await expectRefusal(
        store.importComponents(opts),
        'UNSUPPORTED_HASH_ALGORITHM',
        /Artifacts\[0\]: unsupported Algorithm "CRC-32"/,
      );
    });

    it('a missing artifact file is named with where it was looked for', async () => {
      const opts = source(path.join(tmp, 'src'), 'com.example.App', '1.0.0', [{ file: 'a.txt' }]);
      rmSync(path.join(opts.artifactDir ?? '', 'com.example.App/1.0.0/a.txt'));
      await expectRefusal(
        store.importComponents(opts),
        'ARTIFACT_NOT_FOUND',
        /artifact "a\.txt" not found in .*com\.example\.App\/1\.0\.0$/,
      );
    });

    it('a bad recipe names its file and field; nothing of the good ones is written', async () => {
      const opts = source(path.join(tmp, 'src'), 'com.example.Good', '1.0.0', []);
      writeFileSync(
        path.join(opts.recipeDir, 'bad.yaml'),
        'RecipeFormatVersion: "2020-01-25"\nComponentName: x\n',
      );
      await expectRefusal(
        store.importComponents(opts),
        'RECIPE_PARSE_ERROR',
        /^bad\.yaml: ComponentVersion: /m,
      );
    });

    it('[RC-43] zip slip: an entry "../evil" is refused naming archive and entry, nothing escapes', async () => {
      const opts = source(path.join(tmp, 'src'), 'com.example.Zip', '1.0.0', [
        {
          file: 'a.zip',
          zip: [
            { name: 'fine.txt', text: 'ok' },
            { name: '../evil', text: 'x' },
          ],
          unarchive: 'ZIP',
        },
      ]);
      await expectRefusal(
        store.importComponents(opts),
        'UNSAFE_ARCHIVE',
        /archive a\.zip: entry "\.\.\/evil": escapes the extraction folder/,
      );
      expect(existsSync(path.join(unarchivedDir(root, 'com.example.Zip', '1.0.0'), 'evil'))).to.equal(false);
    });

    it('[RC-43] an absolute entry path is refused', async () => {
      const opts = source(path.join(tmp, 'src'), 'com.example.Zip', '1.0.0', [
        { file: 'a.zip', zip: [{ name: path.join(tmp, 'abs-evil'), text: 'x' }], unarchive: 'ZIP' },
      ]);
      await expectRefusal(
        store.importComponents(opts),
        'UNSAFE_ARCHIVE',
        /archive a\.zip: entry "\/.*abs-evil": escapes the extraction folder \(absolute path\)/,
      );
      expect(existsSync(path.join(tmp, 'abs-evil'))).to.equal(false);
    });

    it('[RC-43] a symlink entry to /etc is refused, and so is writing through it', async () => {
      const opts = source(path.join(tmp, 'src'), 'com.example.Zip', '1.0.0', [
        {
          file: 'a.zip',
          zip: [
            { name: 'ok.txt', text: 'ok' },
            { name: 'etc', symlinkTo: '/etc' },
            { name: 'etc/evil', text: 'x' },
          ],
          unarchive: 'ZIP',
        },
      ]);
      await expectRefusal(
        store.importComponents(opts),
        'UNSAFE_ARCHIVE',
        /archive a\.zip: entry "etc": symbolic link to "\/etc" points outside the extraction folder/,
      );
      expect(existsSync('/etc/evil')).to.equal(false);
    });

    it('[RC-43] a 1 GiB-of-zeros bomb is refused by its compression ratio before anything is written', async () => {
      const opts = source(path.join(tmp, 'src'), 'com.example.Zip', '1.0.0', []);
      const dir = path.join(opts.artifactDir ?? '', 'com.example.Zip/1.0.0');
      writeFileSync(path.join(dir, 'bomb.zip'), readFileSync(path.join(bomb, 'bomb.zip')));
      writeFileSync(
        path.join(opts.recipeDir, 'com.example.Zip-1.0.0.json'),
        JSON.stringify({
          RecipeFormatVersion: '2020-01-25',
          ComponentName: 'com.example.Zip',
          ComponentVersion: '1.0.0',
          Manifests: [
            { Platform: { os: 'linux' }, Artifacts: [{ URI: 's3://b/bomb.zip', Unarchive: 'ZIP' }] },
          ],
        }),
      );
      await expectRefusal(
        store.importComponents(opts),
        'UNSAFE_ARCHIVE',
        /archive bomb\.zip: entry "zeros\.bin": compression ratio \d+:1 \(1073741824 bytes from \d+\) is over the cap of 200:1/,
      );
    });

    it('[RC-43] the total uncompressed size cap is configurable', async () => {
      const opts = source(path.join(tmp, 'src'), 'com.example.Zip', '1.0.0', [
        {
          file: 'a.zip',
          zip: [
            { name: 'one.txt', text: 'x'.repeat(600) },
            { name: 'two.txt', text: 'y'.repeat(600) },
          ],
          unarchive: 'ZIP',
        },
      ]);
      await expectRefusal(
        store.importComponents({ ...opts, zipLimits: { maxTotalBytes: 1000 } }),
        'UNSAFE_ARCHIVE',
        /archive a\.zip: entry "two\.txt": total uncompressed size reaches 1200 bytes, over the cap of 1000/,
      );
    });
  });

  it('[RC-44] ownership: chowns everything inside the artifact folders when asked', async function () {
    if (process.getuid?.() !== 0) this.skip();
    const opts = source(path.join(tmp, 'src'), 'com.example.Own', '1.0.0', [
      {
        file: 'a.zip',
        zip: [
          { name: 'd/', dir: true },
          { name: 'd/f.txt', text: 'f' },
        ],
        unarchive: 'ZIP',
      },
    ]);
    await store.importComponents({ ...opts, owner: { uid: 65534, gid: 65534 } });
    const art = artifactsDir(root, 'com.example.Own', '1.0.0');
    const un = path.join(unarchivedDir(root, 'com.example.Own', '1.0.0'), 'a');
    for (const p of [path.join(art, 'a.zip'), un, path.join(un, 'd/f.txt')]) {
      expect([statSync(p).uid, statSync(p).gid]).to.deep.equal([65534, 65534]);
    }
    expect(statSync(art).uid).to.equal(0);
  });

  it('a re-import of a version replaces its artifacts', async () => {
    await store.importComponents(
      source(path.join(tmp, 's1'), 'com.example.App', '1.0.0', [{ file: 'old.txt' }]),
    );
    await store.importComponents(
      source(path.join(tmp, 's2'), 'com.example.App', '1.0.0', [{ file: 'new.txt' }]),
    );
    expect(readdirSync(artifactsDir(root, 'com.example.App', '1.0.0'))).to.deep.equal(['new.txt']);
  });

  it('[DP-75, DP-76, RC-46] lists installed versions and deletes the stale ones, keeping those in use', async () => {
    for (const v of ['1.0.0', '1.1.0', '2.0.0']) {
      await store.importComponents(
        source(path.join(tmp, `s${v}`), 'com.example.App', v, [
          { file: 'z.zip', zip: [{ name: 'f', text: v }], unarchive: 'ZIP' },
        ]),
      );
    }
    expect(await store.listInstalled()).to.deep.equal({
      'com.example.App': ['1.0.0', '1.1.0', '2.0.0'],
      'com.example.Existing': ['1.0.0'],
    });
    const keep = versionsToKeep({ 'com.example.App': { version: '2.0.0', previousVersion: '1.1.0' } });
    const r = await store.deleteStaleVersions(keep);
    expect(r).to.deep.equal({
      deleted: ['com.example.App@1.0.0', 'com.example.Existing@1.0.0'],
      warnings: [],
    });
    expect(await store.listInstalled()).to.deep.equal({ 'com.example.App': ['1.1.0', '2.0.0'] });
    expect(existsSync(artifactsDir(root, 'com.example.App', '1.0.0'))).to.equal(false);
    expect(existsSync(unarchivedDir(root, 'com.example.App', '1.0.0'))).to.equal(false);
    expect(existsSync(path.join(unarchivedDir(root, 'com.example.App', '1.1.0'), 'z/f'))).to.equal(true);
  });
});

describe('versionsToKeep [DP-75]', () => {
  it('keeps version and previousVersion of every service, plus attempted versions', () => {
    expect(
      versionsToKeep(
        { A: { version: '2.0.0', previousVersion: '1.0.0' }, B: { version: '1.0.0' }, main: {} },
        { A: '3.0.0', C: '1.0.0' },
      ),
    ).to.deep.equal({ A: ['2.0.0', '1.0.0', '3.0.0'], B: ['1.0.0'], C: ['1.0.0'] });
  });
});
