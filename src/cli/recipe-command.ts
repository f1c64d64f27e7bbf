// `tendril recipe validate FILE...` and `tendril recipe show FILE [--platform k=v,...]`: offline
// checks of recipe files with the same parser the nucleus and the local cloud use.
import { readFile } from 'node:fs/promises';
import yaml from 'js-yaml';
import {
  devicePlatform,
  parseRecipe,
  recipeToServiceConfig,
  type RecipeParseResult,
} from '../recipe/index.js';
import { UsageError, type Command } from './command.js';

const options = {
  platform: { type: 'string' },
  root: { type: 'string' },
  'thing-name': { type: 'string' },
} as const;

export const recipeCommand: Command<typeof options> = {
  name: 'recipe',
  summary: 'Validate recipe files, or show the service configuration a recipe yields on a platform',
  usage: 'recipe validate FILE... | recipe show FILE [--platform os=linux,architecture=aarch64]',
  options,
  optionHelp: {
    platform: 'show: platform attributes as k=v,k=v, overriding this host (default: this host)',
    root: 'show: the Greengrass root path used for {kernel:rootPath} and {artifacts:path} (default /greengrass/v2)',
    'thing-name': 'show: the thing name used for {iot:thingName}',
  },
  details:
    'validate prints "OK name@version" per valid file, or "FILE: PATH: REASON" per problem, and exits 1 if any file is invalid.',
  async run(values, positionals) {
    const [sub, ...files] = positionals;
    if (sub === 'validate') {
      if (files.length === 0) throw new UsageError('validate needs at least one FILE');
      if (values.platform !== undefined) throw new UsageError('--platform applies to show only');
      return validate(files);
    }
    if (sub === 'show') {
      if (files.length !== 1) throw new UsageError('show needs exactly one FILE');
      return show(files[0], values);
    }
    throw new UsageError(
      sub === undefined ? 'missing subcommand: validate or show' : `unknown subcommand '${sub}'`,
    );
  },
};

async function load(file: string): Promise<RecipeParseResult> {
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (e) {
    return { ok: false, problems: [{ path: '(file)', reason: (e as NodeJS.ErrnoException).message }] };
  }
  return parseRecipe(bytes);
}

async function validate(files: string[]): Promise<number> {
  let bad = false;
  for (const file of files) {
    const r = await load(file);
    if (r.ok) {
      process.stdout.write(`OK ${r.recipe.componentName}@${r.recipe.componentVersion}\n`);
      for (const w of r.warnings) process.stderr.write(`${file}: warning: ${w.path}: ${w.reason}\n`);
    } else {
      bad = true;
      for (const p of r.problems) process.stdout.write(`${file}: ${p.path}: ${p.reason}\n`);
    }
  }
  return bad ? 1 : 0;
}

/** Parses `os=linux,architecture=aarch64`; refuses entries without `=` or with an empty key. */
export function parsePlatformOption(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const entry of text.split(',')) {
    const eq = entry.indexOf('=');
    if (eq <= 0) throw new UsageError(`--platform: expected key=value, got '${entry}'`);
    out[entry.slice(0, eq).trim()] = entry.slice(eq + 1).trim();
  }
  return out;
}

async function show(
  file: string,
  values: Record<string, string | boolean | string[] | undefined>,
): Promise<number> {
  const override = typeof values.platform === 'string' ? parsePlatformOption(values.platform) : undefined;
  const r = await load(file);
  if (!r.ok) {
    for (const p of r.problems) process.stdout.write(`${file}: ${p.path}: ${p.reason}\n`);
    return 1;
  }
  const device = devicePlatform(override);
  const out = recipeToServiceConfig(r.recipe, device, {
    rootPath: typeof values.root === 'string' ? values.root : '/greengrass/v2',
    thingName: typeof values['thing-name'] === 'string' ? values['thing-name'] : undefined,
  });
  if (!out.ok) {
    process.stdout.write(`${file}: ${out.error}: ${out.message}\n`);
    return 1;
  }
  for (const w of out.warnings) process.stderr.write(`${file}: warning: ${w}\n`);
  const doc = { services: { [r.recipe.componentName]: out.config } };
  process.stdout.write(yaml.dump(doc, { lineWidth: -1, noRefs: true }));
  return 0;
}
