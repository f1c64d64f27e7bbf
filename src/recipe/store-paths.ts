// Names and paths in the on-disk component store [RC-31, RC-36..RC-38]. Pure functions over an
// absolute root path; POSIX separators (Tendril runs on Linux).
import { createHash } from 'node:crypto';
import { posix } from 'node:path';

/** `base64url-nopad(SHA-256(name))`, the store's file-name-safe form of a component name [RC-36]. */
export function componentNameHash(name: string): string {
  return createHash('sha256').update(name, 'utf8').digest('base64url');
}

/** `<hash>@<version>.recipe.yaml` [RC-36]. */
export function recipeFileName(name: string, version: string): string {
  return `${componentNameHash(name)}@${version}.recipe.yaml`;
}

/** `<hash>@<version>.metadata.json` [RC-37]. */
export function recipeMetadataFileName(name: string, version: string): string {
  return `${componentNameHash(name)}@${version}.metadata.json`;
}

/** Splits a store recipe file name into the name hash and the version; undefined if not one. */
export function parseRecipeFileName(fileName: string): { nameHash: string; version: string } | undefined {
  const m = /^([A-Za-z0-9_-]{43})@(.+)\.recipe\.yaml$/.exec(fileName);
  return m ? { nameHash: m[1], version: m[2] } : undefined;
}

export function recipesDir(root: string): string {
  return posix.join(root, 'packages', 'recipes');
}

export function recipeFilePath(root: string, name: string, version: string): string {
  return posix.join(recipesDir(root), recipeFileName(name, version));
}

/** `<root>/packages/artifacts/<name>/<version>` [RC-38], the value of `{artifacts:path}`. */
export function artifactsDir(root: string, name: string, version: string): string {
  return posix.join(root, 'packages', 'artifacts', name, version);
}

/** `<root>/packages/artifacts-unarchived/<name>/<version>`, `{artifacts:decompressedPath}` [RC-31]. */
export function unarchivedDir(root: string, name: string, version: string): string {
  return posix.join(root, 'packages', 'artifacts-unarchived', name, version);
}

/** `<root>/work/<name>`, the value of `{work:path}` [RC-31]. */
export function workDir(root: string, name: string): string {
  return posix.join(root, 'work', name);
}

/** The file name an artifact is stored under: the last path segment of its URI. */
export function artifactFileName(uri: string): string {
  const withoutQuery = uri.replace(/[?#].*$/, '');
  const seg = withoutQuery.slice(withoutQuery.lastIndexOf('/') + 1);
  return seg.slice(seg.indexOf(':') + 1);
}

/** The folder a ZIP artifact unpacks into: its file name minus the last extension [RC-31, RC-38]. */
export function unarchivedArtifactDir(root: string, name: string, version: string, fileName: string): string {
  const dot = fileName.lastIndexOf('.');
  const base = dot > 0 ? fileName.slice(0, dot) : fileName;
  return posix.join(unarchivedDir(root, name, version), base);
}
