// Reading and pruning the component store: installed versions, candidates for resolution (the local
// ComponentSource), and the deletion of stale versions after a deployment [DP-75, DP-76, RC-46].
import { readdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import semver from 'semver';
import {
  artifactsDir,
  componentNameHash,
  parseRecipe,
  parseRecipeFileName,
  recipeFileName,
  recipeMetadataFileName,
  recipesDir,
  unarchivedDir,
} from '../recipe/index.js';
import { importComponents, type ImportedComponent, type ImportOptions } from './component-store.js';
import type { ComponentCandidate, ComponentSource } from './resolve.js';

export interface StaleCleanupResult {
  /** `name@version` of each deleted version. */
  deleted: string[];
  /** [DP-76] cleanup errors are warnings only. */
  warnings: string[];
}

/** The store under `<root>/packages`, also the local ComponentSource for resolution. */
export class ComponentStore implements ComponentSource {
  constructor(readonly root: string) {}

  importComponents(opts: ImportOptions): Promise<ImportedComponent[]> {
    return importComponents(this.root, opts);
  }

  async listVersions(name: string): Promise<ComponentCandidate[]> {
    const prefix = `${componentNameHash(name)}@`;
    const out: ComponentCandidate[] = [];
    for (const r of await this.readRecipes((f) => f.startsWith(prefix))) {
      if (r.recipe.componentName === name) out.push({ version: r.recipe.componentVersion, recipe: r.recipe });
    }
    return out.sort((a, b) => semver.compare(a.version, b.version));
  }

  /** Component name -> installed versions (ascending). Unreadable recipe files are skipped. */
  async listInstalled(): Promise<Record<string, string[]>> {
    const out: Record<string, string[]> = {};
    for (const { recipe } of await this.readRecipes(() => true)) {
      (out[recipe.componentName] ??= []).push(recipe.componentVersion);
    }
    const sorted: Record<string, string[]> = {};
    for (const name of Object.keys(out).sort()) sorted[name] = out[name].sort(semver.compare);
    return sorted;
  }

  /**
   * Deletes every installed version not in `keep` (name -> versions): its recipe, recipe metadata,
   * artifacts and unarchived artifacts [DP-75]. Errors become warnings [DP-76].
   */
  async deleteStaleVersions(keep: Readonly<Record<string, readonly string[]>>): Promise<StaleCleanupResult> {
    const result: StaleCleanupResult = { deleted: [], warnings: [] };
    const installed = await this.listInstalled();
    for (const [name, versions] of Object.entries(installed)) {
      for (const version of versions) {
        if (keep[name]?.includes(version)) continue;
        const targets = [
          path.join(recipesDir(this.root), recipeFileName(name, version)),
          path.join(recipesDir(this.root), recipeMetadataFileName(name, version)),
          artifactsDir(this.root, name, version),
          unarchivedDir(this.root, name, version),
        ];
        let ok = true;
        // Artifacts first, the recipe last, so a half-done deletion still lists the version.
        for (const t of targets.reverse()) {
          try {
            await rm(t, { recursive: true, force: true });
          } catch (e) {
            ok = false;
            result.warnings.push(`${name}@${version}: cannot delete ${t}: ${(e as Error).message}`);
          }
        }
        if (ok) result.deleted.push(`${name}@${version}`);
      }
    }
    return result;
  }

  private async readRecipes(filter: (file: string) => boolean) {
    let files: string[];
    try {
      files = await readdir(recipesDir(this.root));
    } catch {
      return [];
    }
    const out = [];
    for (const f of files.sort()) {
      if (!filter(f) || parseRecipeFileName(f) === undefined) continue;
      const r = parseRecipe(await readFile(path.join(recipesDir(this.root), f)));
      if (r.ok && recipeFileName(r.recipe.componentName, r.recipe.componentVersion) === f)
        out.push({ file: f, recipe: r.recipe });
    }
    return out;
  }
}

/**
 * [DP-75] The versions to keep after a deployment: every service's `version` and `previousVersion`,
 * plus, when the deployment did not succeed, the versions it tried.
 */
export function versionsToKeep(
  services: Readonly<Record<string, { version?: string; previousVersion?: string }>>,
  attempted: Readonly<Record<string, string>> = {},
): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  const add = (name: string, v: string | undefined): void => {
    if (v === undefined) return;
    const list = (out[name] ??= []);
    if (!list.includes(v)) list.push(v);
  };
  for (const [name, s] of Object.entries(services)) {
    add(name, s.version);
    add(name, s.previousVersion);
  }
  for (const [name, v] of Object.entries(attempted)) add(name, v);
  return out;
}
