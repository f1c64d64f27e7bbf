// The stored recipe document: the recipe as submitted (its own property names, matched case-insensitively
// [RC-01]), rendered back as JSON or YAML, with each stored artifact's Digest and Algorithm (CP-66).
import yaml from 'js-yaml';

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The value of `key` in `obj`, matched case-insensitively. */
export function getKey(obj: Obj, key: string): unknown {
  const k = Object.keys(obj).find((x) => x.toLowerCase() === key.toLowerCase());
  return k === undefined ? undefined : obj[k];
}

function setKey(obj: Obj, key: string, value: unknown): void {
  const k = Object.keys(obj).find((x) => x.toLowerCase() === key.toLowerCase()) ?? key;
  obj[k] = value;
}

/** Parses recipe text as JSON, or else YAML (core schema, as src/recipe does); undefined when it is neither or not an object. */
export function parseRecipeDocument(text: string): Obj | undefined {
  let doc: unknown;
  const source = text.replace(/^\uFEFF/, '');
  try {
    doc = JSON.parse(source);
  } catch {
    try {
      doc = yaml.load(source, { schema: yaml.CORE_SCHEMA });
    } catch {
      return undefined;
    }
  }
  return isObj(doc) ? doc : undefined;
}

/** The artifact objects of every manifest, in order. */
export function artifactNodes(doc: Obj): Obj[] {
  const manifests = getKey(doc, 'Manifests');
  if (!Array.isArray(manifests)) return [];
  const out: Obj[] = [];
  for (const m of manifests) {
    if (!isObj(m)) continue;
    const arts = getKey(m, 'Artifacts');
    if (Array.isArray(arts)) for (const a of arts) if (isObj(a)) out.push(a);
  }
  return out;
}

export function artifactUri(node: Obj): string | undefined {
  const uri = getKey(node, 'Uri');
  return typeof uri === 'string' ? uri : undefined;
}

export function artifactDigest(node: Obj): string | undefined {
  const d = getKey(node, 'Digest');
  return typeof d === 'string' ? d : undefined;
}

/** Sets `Digest` and `Algorithm` on the artifact nodes whose URI is in `digests` (in place). */
export function setArtifactDigests(doc: Obj, digests: Map<string, string>): void {
  for (const node of artifactNodes(doc)) {
    const uri = artifactUri(node);
    const digest = uri === undefined ? undefined : digests.get(uri);
    if (digest === undefined) continue;
    setKey(node, 'Digest', digest);
    setKey(node, 'Algorithm', 'SHA-256');
  }
}

export function renderRecipe(doc: Obj, format: 'JSON' | 'YAML'): string {
  return format === 'JSON' ? JSON.stringify(doc) : yaml.dump(doc, { noRefs: true, lineWidth: -1 });
}
