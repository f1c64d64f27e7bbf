// The component store's import from the cloud download folder: the artifact folder is moved (renamed)
// into the store rather than copied, and a digest the download already checked is not computed again,
// while a recipe's Algorithm is still validated (recipes.md section 7, cloud.md CL-38).
import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ComponentStore, ComponentStoreError } from '../../../src/deployment/index.js';
import { artifactsDir } from '../../../src/recipe/index.js';

const LINUX = { os: 'linux', architecture: 'amd64' };

describe('component store: import moved from a verified download', function () {
  let tmp: string;
  let store: ComponentStore;
  const content = Buffer.from('artifact bytes downloaded and checked already\n');

  /** recipes/ and downloads/<name>/<version>/a.bin under one root, as cloud-source lays them out. */
  function download(version: string, recipeArtifact: Record<string, string>) {
    const recipeDir = path.join(tmp, `recipes-${version}`);
    const artifactDir = path.join(tmp, 'root', 'packages', '.downloads', 'artifacts');
    mkdirSync(recipeDir, { recursive: true });
    mkdirSync(path.join(artifactDir, 'com.example.Moved', version), { recursive: true });
    writeFileSync(path.join(artifactDir, 'com.example.Moved', version, 'a.bin'), content);
    writeFileSync(
      path.join(recipeDir, `com.example.Moved-${version}.json`),
      JSON.stringify({
        RecipeFormatVersion: '2020-01-25',
        ComponentName: 'com.example.Moved',
        ComponentVersion: version,
        Manifests: [
          {
            Platform: { os: 'linux' },
            Lifecycle: { run: 'true' },
            Artifacts: [{ URI: 's3://bucket/a.bin', ...recipeArtifact }],
          },
        ],
      }),
    );
    return { recipeDir, artifactDir, platform: LINUX, moveArtifacts: true, digestsVerified: true };
  }

  beforeEach(() => {
    tmp = mkdtempSync(path.join(tmpdir(), 'tendril-store-move-'));
    store = new ComponentStore(path.join(tmp, 'root'));
  });
  afterEach(() => rmSync(tmp, { recursive: true, force: true }));

  it('[DP-35] [CL-38] moves the folder (same inode, nothing left behind) and stores the file with its permission', async () => {
    const digest = createHash('sha256').update(content).digest('base64');
    const opts = download('1.0.0', { Digest: digest, Algorithm: 'SHA-256' });
    const from = path.join(opts.artifactDir, 'com.example.Moved', '1.0.0', 'a.bin');
    const inode = statSync(from).ino;
    const imported = await store.importComponents(opts);
    expect(imported.map((c) => c.artifacts)).to.deep.equal([['a.bin']]);
    const stored = path.join(artifactsDir(path.join(tmp, 'root'), 'com.example.Moved', '1.0.0'), 'a.bin');
    expect(readFileSync(stored).equals(content)).to.equal(true);
    expect(statSync(stored).ino, 'renamed, not copied').to.equal(inode);
    expect(statSync(stored).mode & 0o777).to.equal(0o440); // [RC-42] default: owner read, group read
    expect(existsSync(path.join(opts.artifactDir, 'com.example.Moved', '1.0.0'))).to.equal(false);
  });

  it('[RC-40] an Algorithm it does not know is still refused and nothing enters the store', async () => {
    const opts = download('1.0.1', { Digest: 'abc=', Algorithm: 'CRC-32' });
    const e = await store.importComponents(opts).catch((x: unknown) => x);
    expect(e).to.be.instanceOf(ComponentStoreError);
    expect((e as ComponentStoreError).code).to.equal('UNSUPPORTED_HASH_ALGORITHM');
    expect((e as Error).message).to.match(/unsupported Algorithm "CRC-32"/);
    expect(existsSync(artifactsDir(path.join(tmp, 'root'), 'com.example.Moved', '1.0.1'))).to.equal(false);
  });
});
