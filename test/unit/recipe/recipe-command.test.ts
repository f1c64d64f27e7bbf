// The `tendril recipe` command, run in-process over real files in a temp dir.
import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import yaml from 'js-yaml';
import { runProgram } from '../../../src/cli/command.js';
import { commands } from '../../../src/cli/commands.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const recipes = path.resolve(repoRoot, '../shared/fixtures/recipes');

async function run(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const o = process.stdout.write.bind(process.stdout);
  const e = process.stderr.write.bind(process.stderr);
  process.stdout.write = ((s: string) => (out.push(s), true)) as typeof process.stdout.write;
  process.stderr.write = ((s: string) => (err.push(s), true)) as typeof process.stderr.write;
  try {
    const code = await runProgram('tendril', 'test', commands, argv);
    return { code, out: out.join(''), err: err.join('') };
  } finally {
    process.stdout.write = o;
    process.stderr.write = e;
  }
}

describe('tendril recipe', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'tendril-recipe-cli-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const good = `RecipeFormatVersion: '2020-01-25'
ComponentName: com.example.Multi
ComponentVersion: 1.0.0
ComponentDependencies:
  aws.greengrass.TokenExchangeService: { VersionRequirement: '^2.0.0', DependencyType: SOFT }
Manifests:
  - Platform: { os: linux, architecture: aarch64 }
    Lifecycle: { run: 'arm64 {artifacts:path} {iot:thingName}' }
  - Platform: { os: linux, architecture: '/amd64|x86/' }
    Lifecycle: { run: 'intel' }
`;

  it('[RC-01][RC-04] validate prints OK name@version for valid files and each problem for invalid ones, exit 1', async () => {
    const ok = path.join(dir, 'ok.yaml');
    const bad = path.join(dir, 'bad.yaml');
    writeFileSync(ok, good);
    writeFileSync(bad, good.replace('com.example.Multi', 'bad name').replace('^2.0.0', 'x.y'));
    const r = await run(['recipe', 'validate', ok, bad]);
    expect(r.code).to.equal(1);
    expect(r.out.split('\n')).to.deep.equal([
      'OK com.example.Multi@1.0.0',
      `${bad}: ComponentName: may contain only letters, digits, "-", "_" and ".", got "bad name"`,
      `${bad}: ComponentDependencies["aws.greengrass.TokenExchangeService"].VersionRequirement: is not a valid NPM-style semver range: "x.y"`,
      '',
    ]);
  });

  it('[RC-01] validate exits 0 when every file is valid, and reports a missing file', async () => {
    const ok = path.join(dir, 'ok2.yaml');
    writeFileSync(ok, good);
    expect(
      (await run(['recipe', 'validate', ok, path.join(recipes, 'aws-greengrass-nucleus__conf__recipe.yaml')]))
        .code,
    ).to.equal(0);
    const missing = await run(['recipe', 'validate', path.join(dir, 'nope.yaml')]);
    expect(missing.code).to.equal(1);
    expect(missing.out).to.match(/nope\.yaml: \(file\): ENOENT/);
  });

  it('[RC-21][RC-22][RC-28] show prints the selected manifest service config as YAML for --platform', async () => {
    const f = path.join(dir, 'show.yaml');
    writeFileSync(f, good);
    const r = await run([
      'recipe',
      'show',
      f,
      '--platform',
      'os=linux,architecture=aarch64',
      '--root',
      '/gg',
      '--thing-name',
      'T',
    ]);
    expect(r.code).to.equal(0);
    expect(yaml.load(r.out)).to.deep.equal({
      services: {
        'com.example.Multi': {
          componentType: 'GENERIC',
          version: '1.0.0',
          dependencies: ['aws.greengrass.TokenExchangeService:SOFT'],
          lifecycle: { run: 'arm64 /gg/packages/artifacts/com.example.Multi/1.0.0 T' },
          configuration: {},
        },
      },
    });
    const intel = await run(['recipe', 'show', f, '--platform', 'os=linux,architecture=x86']);
    expect(
      (yaml.load(intel.out) as { services: Record<string, { lifecycle: unknown }> }).services[
        'com.example.Multi'
      ].lifecycle,
    ).to.deep.equal({
      run: 'intel',
    });
  });

  it('[RC-24] show exits 1 naming NO_MATCHING_PLATFORM', async () => {
    const f = path.join(dir, 'show2.yaml');
    writeFileSync(f, good);
    const r = await run(['recipe', 'show', f, '--platform', 'os=windows']);
    expect(r.code).to.equal(1);
    expect(r.out).to.contain('NO_MATCHING_PLATFORM').and.contain('os=windows');
  });

  it('refuses bad usage with exit 2 and a message naming the problem', async () => {
    expect((await run(['recipe'])).err).to.contain('missing subcommand');
    const r = await run(['recipe', 'show', 'f.yaml', '--platform', 'linux']);
    expect(r.code).to.equal(2);
    expect(r.err).to.contain("--platform: expected key=value, got 'linux'");
    expect((await run(['recipe', 'frobnicate'])).err).to.contain("unknown subcommand 'frobnicate'");
    expect((await run(['recipe', 'validate'])).code).to.equal(2);
  });
});
