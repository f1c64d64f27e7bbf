// An offline device for the families that need no cloud: the nucleus (dist/) on a root, components
// running as nobody, local deployments made with `tendril deployment create` from recipe files.
import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { NucleusProcess, tendril, type CliResult } from './proc.js';

export interface LocalDeployment {
  id?: string;
  status?: string;
  result: CliResult;
}

/** A recipe object, or `{ file, text }`: raw text written as that file. */
export type RecipeInput = Record<string, unknown>;

export class LocalDevice {
  readonly nucleus: NucleusProcess;
  private recipeDirs = 0;

  constructor(
    readonly dir: string,
    readonly root = join(dir, 'root'),
    extraInit = '',
  ) {
    chmodSync(dir, 0o755);
    const init = join(dir, 'init.yaml');
    writeFileSync(
      init,
      [
        'services:',
        '  aws.greengrass.Nucleus:',
        '    configuration:',
        '      runWithDefault: { posixUser: "nobody:nogroup" }',
        extraInit,
      ].join('\n'),
    );
    this.nucleus = new NucleusProcess(this.root, init);
  }

  /** A fresh directory of recipe files (JSON) and artifacts laid out as <name>/<version>/<file>. */
  stage(recipes: RecipeInput[], artifacts: Record<string, string | Buffer> = {}) {
    const dir = mkdtempSync(join(this.dir, `src${++this.recipeDirs}-`));
    chmodSync(dir, 0o755);
    mkdirSync(join(dir, 'recipes'));
    for (const r of recipes) {
      if (typeof r.file === 'string' && typeof r.text === 'string')
        writeFileSync(join(dir, 'recipes', r.file), r.text);
      else
        writeFileSync(
          join(dir, 'recipes', `${String(r.ComponentName)}-${String(r.ComponentVersion)}.json`),
          JSON.stringify(r),
        );
    }
    for (const [path, bytes] of Object.entries(artifacts)) {
      const file = join(dir, 'artifacts', path);
      mkdirSync(join(file, '..'), { recursive: true });
      writeFileSync(file, bytes);
    }
    return { recipeDir: join(dir, 'recipes'), artifactDir: join(dir, 'artifacts') };
  }

  /** `tendril deployment create ...`; with `wait`, follows it to its end. */
  async deploy(
    o: {
      recipes?: RecipeInput[];
      artifacts?: Record<string, string | Buffer>;
      merge?: string[];
      remove?: string[];
      config?: Record<string, unknown>;
      wait?: boolean;
      args?: string[];
    } = {},
  ): Promise<LocalDeployment> {
    const args = ['deployment', 'create', '--root', this.root, '--json'];
    if (o.recipes?.length || o.artifacts) {
      const s = this.stage(o.recipes ?? [], o.artifacts);
      args.push('--recipe-dir', s.recipeDir);
      if (o.artifacts) args.push('--artifact-dir', s.artifactDir);
    }
    for (const m of o.merge ?? []) args.push('--merge', m);
    for (const r of o.remove ?? []) args.push('--remove', r);
    if (o.config) {
      const text = JSON.stringify(o.config);
      if (text.length < 64 * 1024) args.push('--update-config', text);
      else {
        const file = join(this.dir, `config-${++this.recipeDirs}.json`);
        writeFileSync(file, text);
        args.push('--update-config', `@${file}`);
      }
    }
    if (o.wait) args.push('--wait', '--timeout', '300');
    args.push(...(o.args ?? []));
    const result = await tendril(args, 330_000);
    // with --wait the output is a stream of JSON objects: the id comes first, the end status last
    const id = /"deploymentId": "([^"]+)"/.exec(result.stdout)?.[1];
    const status = [...result.stdout.matchAll(/"status": "([A-Z_]+)"/g)].at(-1)?.[1];
    return { id, status, result };
  }

  async status(id: string): Promise<{ status: string; detail?: string; raw: Record<string, unknown> }> {
    const r = await tendril(['deployment', 'status', id, '--root', this.root, '--json']);
    if (r.code !== 0) throw new Error(`deployment status ${id}: ${r.stderr.trim()}`);
    const raw = JSON.parse(r.stdout) as Record<string, unknown>;
    const details = raw.deploymentStatusDetails as Record<string, unknown> | undefined;
    return { status: String(raw.status), detail: details ? JSON.stringify(details) : undefined, raw };
  }
}

/** A plain recipe: `run` as the run step (and an optional install step). */
export function recipe(
  name: string,
  version: string,
  run: string,
  extra: Record<string, unknown> = {},
  lifecycle: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    RecipeFormatVersion: '2020-01-25',
    ComponentName: name,
    ComponentVersion: version,
    Manifests: [{ Platform: { os: 'linux' }, Lifecycle: { Run: run, ...lifecycle } }],
    ...extra,
  };
}
