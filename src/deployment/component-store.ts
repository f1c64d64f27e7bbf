// The on-disk component store (recipes.md section 7): import of a recipe directory plus an artifact
// directory laid out `artifacts/<name>/<version>/<file>` (the Greengrass CLI's --recipeDir and
// --artifactDir) [DP-35], with digest checks [RC-40], permissions [RC-42], safe ZIP extraction
// [RC-43] and optional ownership [RC-44]. Everything is staged under packages/ and moved into place
// only when every component of the import is complete; a failure leaves the store as it was.
import { randomBytes } from 'node:crypto';
import {
  chmod,
  chown,
  cp,
  lchown,
  mkdir,
  readdir,
  readFile,
  rename,
  rm,
  rmdir,
  stat,
  writeFile,
} from 'node:fs/promises';
import path from 'node:path';
import {
  artifactFileName,
  artifactsDir,
  formatProblems,
  parseRecipe,
  recipeFileName,
  recipeMetadataFileName,
  recipesDir,
  selectManifest,
  unarchivedDir,
  type DevicePlatform,
  type Recipe,
} from '../recipe/index.js';
import { fileDigest, hashAlgorithm, permissionMode } from './artifact-files.js';
import { ComponentStoreError } from './store-errors.js';
import { extractZipSafely, UnsafeArchiveError, type ZipLimits } from './unzip.js';

export interface ImportOptions {
  recipeDir: string;
  /** Holds `<name>/<version>/<file>`; optional for artifact-less components. */
  artifactDir?: string;
  /** The device platform: the matching manifest's artifacts are verified and unarchived. */
  platform: DevicePlatform;
  /** chown everything inside the imported artifact folders to this user [RC-44]. */
  owner?: { uid: number; gid: number };
  zipLimits?: ZipLimits;
  /** Written to `<hash>@<version>.metadata.json` when given [RC-37]. */
  componentVersionArn?: (name: string, version: string) => string | undefined;
  /**
   * Move each component's `<name>/<version>` folder out of `artifactDir` (a rename on the same file
   * system) instead of copying it: the caller's own download folder, which it no longer needs (after
   * a refusal the files are gone with the staging folder).
   */
  moveArtifacts?: boolean;
  /**
   * The caller checked every artifact's digest against this very recipe as it wrote the file (the
   * cloud download [CL-38]): the files are not hashed again. Algorithms are still validated.
   */
  digestsVerified?: boolean;
}

export interface ImportedComponent {
  name: string;
  version: string;
  recipeFile: string;
  /** Artifact files verified and stored (file names). */
  artifacts: string[];
}

interface Staged {
  recipe: Recipe;
  text: Buffer;
  artifacts: string[];
}

const RECIPE_EXTENSIONS = ['.yaml', '.yml', '.json'];

export async function importComponents(root: string, opts: ImportOptions): Promise<ImportedComponent[]> {
  const recipes = await readRecipeDirectory(opts.recipeDir);
  const packages = path.join(root, 'packages');
  const packagesExisted = await exists(packages);
  const staging = path.join(packages, `.staging-${randomBytes(6).toString('hex')}`);
  await mkdir(staging, { recursive: true, mode: 0o755 });
  try {
    const staged: Staged[] = [];
    for (const r of recipes) staged.push(await stageComponent(staging, r.recipe, r.text, opts));
    await commit(root, staging, staged, opts);
    return staged.map((s) => ({
      name: s.recipe.componentName,
      version: s.recipe.componentVersion,
      recipeFile: path.join(
        recipesDir(root),
        recipeFileName(s.recipe.componentName, s.recipe.componentVersion),
      ),
      artifacts: s.artifacts,
    }));
  } catch (e) {
    await rm(staging, { recursive: true, force: true });
    if (!packagesExisted) await rmdir(packages).catch(() => undefined);
    throw e;
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

async function readRecipeDirectory(dir: string): Promise<Array<{ recipe: Recipe; text: Buffer }>> {
  let names: string[];
  try {
    names = (await readdir(dir))
      .filter((f) => RECIPE_EXTENSIONS.includes(path.extname(f).toLowerCase()))
      .sort();
  } catch (e) {
    throw new ComponentStoreError(
      'RECIPE_DIRECTORY_INVALID',
      `recipe directory ${dir}: ${(e as Error).message}`,
    );
  }
  if (names.length === 0) {
    throw new ComponentStoreError(
      'RECIPE_DIRECTORY_INVALID',
      `recipe directory ${dir} holds no .yaml, .yml or .json recipe`,
    );
  }
  const out: Array<{ recipe: Recipe; text: Buffer }> = [];
  const problems: string[] = [];
  const seen = new Map<string, string>();
  for (const name of names) {
    const text = await readFile(path.join(dir, name));
    const r = parseRecipe(text);
    if (!r.ok) {
      problems.push(`${name}: ${formatProblems(r.problems).replace(/\n/g, `\n${name}: `)}`);
      continue;
    }
    const id = `${r.recipe.componentName}@${r.recipe.componentVersion}`;
    const prev = seen.get(id);
    if (prev !== undefined) problems.push(`${name}: ${id} is also defined by ${prev}`);
    seen.set(id, name);
    out.push({ recipe: r.recipe, text });
  }
  if (problems.length > 0) throw new ComponentStoreError('RECIPE_PARSE_ERROR', problems.join('\n'));
  return out;
}

async function stageComponent(
  staging: string,
  recipe: Recipe,
  text: Buffer,
  opts: ImportOptions,
): Promise<Staged> {
  const { componentName: name, componentVersion: version } = recipe;
  const id = `${name}@${version}`;
  const stagedArtifacts = artifactsDir(staging, name, version);
  const stagedUnarchived = unarchivedDir(staging, name, version);
  const source = opts.artifactDir === undefined ? undefined : path.join(opts.artifactDir, name, version);
  if (source !== undefined && (await exists(source))) {
    if (opts.moveArtifacts) await moveDirectory(source, stagedArtifacts);
    else await cp(source, stagedArtifacts, { recursive: true, dereference: true });
  }
  const artifacts: string[] = [];
  const sel = selectManifest(recipe, opts.platform);
  // A recipe without a manifest for this device is stored as is; resolution refuses it later.
  const manifestArtifacts = sel.ok ? sel.manifest.artifacts : [];
  for (const [j, artifact] of manifestArtifacts.entries()) {
    if (/^docker:/i.test(artifact.uri)) continue;
    const where = `${id} Manifests[${sel.ok ? sel.index : 0}].Artifacts[${j}]`;
    const fileName = artifactFileName(artifact.uri);
    const file = path.join(stagedArtifacts, fileName);
    if (!(await exists(file))) {
      throw new ComponentStoreError(
        'ARTIFACT_NOT_FOUND',
        `${where}: artifact ${JSON.stringify(fileName)} not found in ${source ?? '(no artifact directory given)'}`,
      );
    }
    if (artifact.digest !== undefined) {
      if (artifact.algorithm === undefined) {
        throw new ComponentStoreError(
          'RECIPE_MISSING_ARTIFACT_HASH_ALGORITHM',
          `${where}: Digest given without Algorithm`,
        );
      }
      const alg = hashAlgorithm(artifact.algorithm);
      if (alg === undefined) {
        throw new ComponentStoreError(
          'UNSUPPORTED_HASH_ALGORITHM',
          `${where}: unsupported Algorithm ${JSON.stringify(artifact.algorithm)}`,
        );
      }
      const actual = opts.digestsVerified ? artifact.digest : await fileDigest(file, alg);
      if (actual !== artifact.digest) {
        throw new ComponentStoreError(
          'ARTIFACT_CHECKSUM_MISMATCH',
          `${where}: ${fileName} has ${artifact.algorithm} digest ${actual}, the recipe says ${artifact.digest}`,
        );
      }
    }
    const mode = permissionMode(artifact.permission);
    await chmod(file, mode);
    if (artifact.unarchive === 'ZIP') {
      const base = fileName.lastIndexOf('.') > 0 ? fileName.slice(0, fileName.lastIndexOf('.')) : fileName;
      await mkdir(stagedUnarchived, { recursive: true, mode: 0o755 });
      try {
        await extractZipSafely(file, path.join(stagedUnarchived, base), {
          ...opts.zipLimits,
          fileMode: mode,
        });
      } catch (e) {
        if (e instanceof UnsafeArchiveError)
          throw new ComponentStoreError('UNSAFE_ARCHIVE', `${where}: ${e.message}`);
        throw e;
      }
    }
    artifacts.push(fileName);
  }
  if (opts.owner !== undefined) {
    for (const dir of [stagedArtifacts, stagedUnarchived]) {
      if (await exists(dir)) await chownInside(dir, opts.owner.uid, opts.owner.gid);
    }
  }
  return { recipe, text, artifacts };
}

async function commit(
  root: string,
  staging: string,
  staged: readonly Staged[],
  opts: ImportOptions,
): Promise<void> {
  await mkdir(recipesDir(root), { recursive: true, mode: 0o700 });
  await chmod(recipesDir(root), 0o700); // [RC-45]
  for (const s of staged) {
    const { componentName: name, componentVersion: version } = s.recipe;
    for (const dirOf of [artifactsDir, unarchivedDir]) {
      const from = dirOf(staging, name, version);
      const to = dirOf(root, name, version);
      if (await exists(to)) await rm(to, { recursive: true, force: true });
      if (await exists(from)) {
        await mkdir(path.dirname(to), { recursive: true, mode: 0o755 });
        await chmod(from, 0o755); // [RC-45] readable and traversable by others
        await rename(from, to);
      }
    }
    // The recipe last: a version exists in the store once its recipe does.
    const arn = opts.componentVersionArn?.(name, version);
    if (arn !== undefined) {
      await writeFile(
        path.join(recipesDir(root), recipeMetadataFileName(name, version)),
        JSON.stringify({ componentVersionArn: arn }),
        { mode: 0o600 },
      );
    }
    const tmp = path.join(staging, recipeFileName(name, version));
    await writeFile(tmp, s.text, { mode: 0o600 });
    await rename(tmp, path.join(recipesDir(root), recipeFileName(name, version)));
  }
}

/** rename(2), or a copy and removal when `from` is on another file system. */
async function moveDirectory(from: string, to: string): Promise<void> {
  await mkdir(path.dirname(to), { recursive: true, mode: 0o755 });
  try {
    await rename(from, to);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EXDEV') throw e;
    await cp(from, to, { recursive: true, dereference: true });
    await rm(from, { recursive: true, force: true });
  }
}

async function chownInside(dir: string, uid: number, gid: number): Promise<void> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) await chownInside(p, uid, gid);
    try {
      // A symlink itself, never what it points to.
      await (entry.isSymbolicLink() ? lchown(p, uid, gid) : chown(p, uid, gid));
    } catch (e) {
      throw new ComponentStoreError('IO_ERROR', `chown ${p} to ${uid}:${gid}: ${(e as Error).message}`);
    }
  }
}

export async function exists(p: string): Promise<boolean> {
  try {
    await stat(p);
    return true;
  } catch {
    return false;
  }
}
