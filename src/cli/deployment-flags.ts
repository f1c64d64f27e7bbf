// Flag parsing shared by `greengrass-cli deployment create` and `tendril deployment create`: the two
// differ only in how they spell things (the Greengrass CLI's "componentName=version" and file paths,
// Tendril's NAME=VERSION and @FILE), not in what a valid request is.
import { resolve } from 'node:path';
import { UsageError } from './command.js';

type Values = Record<string, string | boolean | string[] | undefined>;

const isMap = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** A directory flag as an absolute path (the nucleus has another working directory). */
export function directoryFlag(values: Values, flag: string): string | undefined {
  const v = values[flag] as string | undefined;
  if (v === undefined) return undefined;
  if (v.trim() === '') throw new UsageError(`--${flag} must not be empty`);
  return resolve(v);
}

/** `--merge` items `name=version` -> a map; `label` is how the error spells the expected form. */
export function mergeFlag(
  items: string[],
  o: { label: string; duplicates: 'refuse' | 'last-wins' },
): Map<string, string> {
  const out = new Map<string, string>();
  for (const item of items) {
    const eq = item.indexOf('=');
    const name = item.slice(0, eq).trim();
    const version = item.slice(eq + 1).trim();
    if (eq < 0 || name === '' || version === '')
      throw new UsageError(`--merge must be ${o.label}, got "${item}"`);
    if (o.duplicates === 'refuse' && out.has(name)) throw new UsageError(`--merge names ${name} twice`);
    out.set(name, version);
  }
  return out;
}

/** The JSON text of `--update-config`: `{name: {MERGE?, RESET?}}` -> a map, or a precise refusal. */
export function updateConfigFlag(text: string, nameLabel: string): Map<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw new UsageError(`--update-config is not valid JSON: ${(e as Error).message}`);
  }
  const shape = '{"MERGE": {...}, "RESET": [...]}';
  if (!isMap(parsed))
    throw new UsageError(`--update-config must be a JSON object {"${nameLabel}": ${shape}}`);
  for (const [name, update] of Object.entries(parsed))
    if (!isMap(update))
      throw new UsageError(`--update-config: the value for ${name} must be an object ${shape}`);
  return new Map(Object.entries(parsed));
}
