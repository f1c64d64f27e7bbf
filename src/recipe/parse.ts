// Recipe text -> Recipe [RC-01, RC-02]: size cap, UTF-8 decoding, JSON or YAML loading, then
// validation of every field (validate.ts).
import yaml from 'js-yaml';
import { DOCUMENT_PATH } from './fields.js';
import type { RecipeParseResult, RecipeProblem } from './types.js';
import { validateRecipeDocument } from './validate.js';

/**
 * Tendril's cap on a recipe's size: 1 MiB. Real recipes are a few KiB; the cap bounds the memory a
 * hostile or corrupt recipe can cost before any parsing happens. Override with `opts.maxBytes`.
 */
export const DEFAULT_MAX_RECIPE_BYTES = 1024 * 1024;

export { DOCUMENT_PATH };

export interface ParseRecipeOptions {
  maxBytes?: number;
}

export function parseRecipe(text: string | Buffer, opts: ParseRecipeOptions = {}): RecipeParseResult {
  const maxBytes = opts.maxBytes ?? DEFAULT_MAX_RECIPE_BYTES;
  const size = typeof text === 'string' ? Buffer.byteLength(text, 'utf8') : text.length;
  if (size > maxBytes) {
    return fail(`recipe is ${size} bytes, over the ${maxBytes}-byte limit; not parsed`);
  }
  let source: string;
  if (typeof text === 'string') source = text;
  else {
    try {
      source = new TextDecoder('utf-8', { fatal: true }).decode(text);
    } catch {
      return fail('recipe is not valid UTF-8 text');
    }
  }
  source = source.replace(/^\uFEFF/, '');
  const loaded = loadDocument(source);
  if (!loaded.ok) return fail(loaded.reason);
  return validateRecipeDocument(loaded.doc);
}

function fail(reason: string): RecipeParseResult {
  return { ok: false, problems: [{ path: DOCUMENT_PATH, reason }] };
}

/**
 * JSON first when the text looks like JSON; YAML otherwise, and also for JSON-looking text that is
 * not strict JSON but is valid YAML flow syntax (trailing commas). YAML uses the core schema: no
 * timestamps, so an unquoted `2020-01-25` stays the string it is written as.
 */
function loadDocument(source: string): { ok: true; doc: unknown } | { ok: false; reason: string } {
  const trimmed = source.trimStart();
  if (trimmed === '') return { ok: false, reason: 'recipe is empty' };
  let jsonError: string | undefined;
  if (trimmed.startsWith('{') || trimmed.startsWith('[')) {
    try {
      return { ok: true, doc: JSON.parse(source) };
    } catch (e) {
      jsonError = (e as Error).message;
    }
  }
  try {
    return { ok: true, doc: yaml.load(source, { schema: yaml.CORE_SCHEMA }) };
  } catch (e) {
    if (jsonError !== undefined) return { ok: false, reason: `JSON syntax error: ${jsonError}` };
    return { ok: false, reason: `YAML syntax error: ${yamlErrorText(e)}` };
  }
}

function yamlErrorText(e: unknown): string {
  if (e instanceof yaml.YAMLException) {
    const where = e.mark ? ` at line ${e.mark.line + 1}, column ${e.mark.column + 1}` : '';
    return `${e.reason}${where}`;
  }
  return (e as Error).message;
}

/** Renders problems one per line as `path: reason`. */
export function formatProblems(problems: readonly RecipeProblem[]): string {
  return problems.map((p) => (p.path === '' ? p.reason : `${p.path}: ${p.reason}`)).join('\n');
}
