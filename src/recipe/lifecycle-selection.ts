// Which lifecycle a selected manifest runs [RC-25, RC-26].
import { isObject } from './fields.js';
import type { Json, JsonObject, Manifest, Recipe } from './types.js';

export interface LifecycleSelection {
  lifecycle: JsonObject;
  /** Non-keyword siblings that the selector filter ignored, as `path: reason` texts. */
  warnings: string[];
}

/**
 * The manifest's own non-empty Lifecycle verbatim [RC-25]; otherwise the global Lifecycle filtered
 * by the manifest's Selections [RC-26].
 */
export function selectLifecycle(recipe: Recipe, manifest: Manifest): LifecycleSelection {
  if (manifest.lifecycle && Object.keys(manifest.lifecycle).length > 0) {
    return { lifecycle: manifest.lifecycle, warnings: [] };
  }
  const keywords = new Set<string>(['all']);
  for (const m of recipe.manifests) for (const s of m.selections ?? []) keywords.add(s);
  const priority = [...(manifest.selections ?? []), 'all'];
  const warnings: string[] = [];

  const filter = (node: Json, path: string): Json | undefined => {
    if (!isObject(node)) return node;
    const keys = Object.keys(node);
    if (keys.some((k) => keywords.has(k))) {
      for (const k of keys) {
        if (!keywords.has(k))
          warnings.push(`${path}.${k}: ignored, not a selection keyword at a selection level`);
      }
      const chosen = priority.find((s) => Object.hasOwn(node, s));
      return chosen === undefined ? undefined : filter(node[chosen], path);
    }
    const out: JsonObject = {};
    for (const k of keys) {
      const v = filter(node[k], `${path}.${k}`);
      if (v !== undefined) out[k] = v;
    }
    return out;
  };

  const filtered = filter(recipe.lifecycle ?? {}, 'Lifecycle');
  return { lifecycle: isObject(filtered) ? filtered : {}, warnings };
}
