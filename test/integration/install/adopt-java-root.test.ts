// Adopting a root laid out by the Java nucleus [CF-60..CF-71]: config/config.tlog in its JSON-lines
// format [CF-09], the component store as packages/recipes/<base64url(sha256(name))>@<ver>.recipe.yaml
// [RC-36, RC-37] and packages/artifacts/<name>/<ver>/ [CF-68], the loader's alts/ links [CF-62].
// `tendril run --root` starts on it and runs its components; `tendril status` and `tendril logs`
// read them.
import { expect } from 'chai';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { exitOf, repoRoot, spawnTendril, stateOf, waitFor, runTendril as run } from '../../support/daemon.js';

const NAME = 'com.example.Legacy';

/** A tlog line as the Java nucleus writes it: {"TS":..,"TP":[..],"W":..,"V":..} [CF-09]. */
function tlog(ts: number, path: string[], value: unknown, what = 'changed'): string {
  return JSON.stringify({ TS: ts, TP: path, W: what, V: value });
}

/** A root as Greengrass 2.x (Java) leaves it after deploying com.example.Legacy 1.0.0. */
function javaRoot(root: string): void {
  for (const d of [
    'config',
    'alts/init/distro/bin',
    'deployments',
    'logs',
    'packages/recipes',
    'work',
    'telemetry',
  ])
    mkdirSync(join(root, d), { recursive: true });
  chmodSync(root, 0o755);
  symlinkSync(join(root, 'alts', 'init'), join(root, 'alts', 'current'));
  const artifacts = join(root, 'packages', 'artifacts', NAME, '1.0.0');
  mkdirSync(artifacts, { recursive: true });
  for (const d of [
    join(root, 'packages'),
    join(root, 'packages', 'artifacts'),
    join(root, 'packages', 'artifacts', NAME),
    artifacts,
  ])
    chmodSync(d, 0o755);
  writeFileSync(join(artifacts, 'legacy.sh'), 'echo "legacy says $1 from $(pwd)"\nexec sleep 600\n', {
    mode: 0o644,
  });
  const hash = createHash('sha256').update(NAME).digest('base64url');
  const recipe = [
    'RecipeFormatVersion: "2020-01-25"',
    `ComponentName: ${NAME}`,
    'ComponentVersion: "1.0.0"',
    'ComponentConfiguration:',
    '  DefaultConfiguration: { Word: hello }',
    'Manifests:',
    '  - Platform: { os: linux }',
    '    Lifecycle:',
    '      Run: sh {artifacts:path}/legacy.sh {configuration:/Word}',
    '    Artifacts:',
    '      - Uri: s3://legacy-bucket/legacy.sh',
    '',
  ].join('\n');
  writeFileSync(join(root, 'packages', 'recipes', `${hash}@1.0.0.recipe.yaml`), recipe);
  writeFileSync(
    join(root, 'packages', 'recipes', `${hash}@1.0.0.metadata.json`),
    JSON.stringify({
      componentVersionArn: `arn:aws:greengrass:us-east-1:123456789012:components:${NAME}:versions:1.0.0`,
    }),
  );
  const t = 1_700_000_000_000;
  const lines = [
    tlog(1, ['system', 'rootpath'], root),
    tlog(t, ['system', 'thingName'], 'LegacyCore'),
    tlog(t, ['setenv', 'AWS_IOT_THING_NAME'], 'LegacyCore'),
    tlog(t, ['services', 'aws.greengrass.Nucleus', 'componentType'], 'NUCLEUS'),
    tlog(t, ['services', 'aws.greengrass.Nucleus', 'version'], '2.12.0'),
    tlog(t, ['services', 'aws.greengrass.Nucleus', 'lifecycle', 'bootstrap', 'requiresPrivilege'], 'true'),
    tlog(
      t,
      ['services', 'aws.greengrass.Nucleus', 'configuration', 'runWithDefault', 'posixUser'],
      'nobody:nogroup',
    ),
    tlog(t, ['services', 'aws.greengrass.Nucleus', 'configuration', 'awsRegion'], 'us-east-1'),
    tlog(t, ['services', 'aws.greengrass.Nucleus', 'configuration', 'jvmOptions'], '-Xmx64m'),
    tlog(t, ['services', 'aws.greengrass.Nucleus', 'dependencies'], []),
    tlog(t, ['services', 'aws.greengrass.LegacyPlugin', 'componentType'], 'PLUGIN'),
    tlog(t, ['services', 'aws.greengrass.LegacyPlugin', 'version'], '1.0.0'),
    tlog(t, ['services', 'DeploymentService', 'GroupToRootComponents'], null, 'interiorAdded'),
    tlog(
      t,
      ['services', 'DeploymentService', 'GroupToRootComponents', 'thinggroup/Legacy', NAME, 'groupConfigArn'],
      'arn:aws:greengrass:us-east-1:123456789012:configuration:thinggroup/Legacy:1',
    ),
    tlog(t, ['services', 'FleetStatusService', 'sequenceNumber'], 42),
    tlog(t, ['services', NAME, 'componentType'], 'GENERIC'),
    tlog(t, ['services', NAME, 'version'], '1.0.0'),
    tlog(t, ['services', NAME, 'dependencies'], []),
    tlog(t, ['services', NAME, 'configuration', 'Word'], 'hello'),
    // the Java nucleus stores the lifecycle interpolated at deployment time
    tlog(t, ['services', NAME, 'lifecycle', 'run'], `sh ${join(artifacts, 'legacy.sh')} hello`),
    tlog(t, ['services', NAME, 'lifecycle', 'stale'], 'x'),
    tlog(t + 1, ['services', NAME, 'lifecycle', 'stale'], null, 'removed'),
    tlog(t, ['services', 'main', 'dependencies'], [NAME, 'aws.greengrass.LegacyPlugin']),
    tlog(t, ['services', 'main', 'lifecycle'], null, 'interiorAdded'),
  ];
  writeFileSync(join(root, 'config', 'config.tlog'), lines.join('\n') + '\n');
  writeFileSync(
    join(root, 'logs', 'greengrass.log'),
    '2024-01-01T00:00:00.000Z [INFO] (main) com.aws.greengrass.lifecyclemanager.Kernel: java-era line\n',
  );
}

describe('install: adopting a root of the Java nucleus', function () {
  this.timeout(90000);
  let dir: string;
  let root: string;
  let daemon: ChildProcess | undefined;

  before(function () {
    if (process.getuid?.() !== 0) {
      console.log('      skipped: needs root to run the component as nobody');
      this.skip();
    }
    dir = mkdtempSync(join(tmpdir(), 'tendril-adopt-'));
    chmodSync(dir, 0o755);
    root = join(dir, 'greengrass', 'v2');
    mkdirSync(join(dir, 'greengrass'), { mode: 0o755 });
    javaRoot(root);
  });
  after(async () => {
    if (daemon && daemon.exitCode === null && daemon.signalCode === null) {
      daemon.kill('SIGKILL');
      await exitOf(daemon);
    }
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('[CF-09][CF-61][CF-67][CF-68] tendril run --root starts on it and runs its component from the Java-written config and store', async () => {
    daemon = spawnTendril(['run', '--root', root]);
    let stderr = '';
    daemon.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    await waitFor(`${NAME} RUNNING (stderr: ${stderr})`, () => stateOf(root, NAME) === 'RUNNING', 40000);
    const log = join(root, 'logs', `${NAME}.log`);
    await waitFor('its output', () => existsSync(log) && readFileSync(log, 'utf8').includes('legacy says'));
    expect(readFileSync(log, 'utf8')).to.include(`legacy says hello from ${join(root, 'work', NAME)}`);
    // the Java nucleus's own service and a plugin are not run as components
    expect(stateOf(root, 'aws.greengrass.Nucleus')).to.equal(undefined);
    expect(stateOf(root, 'aws.greengrass.LegacyPlugin')).to.equal(undefined);
    // the Java-era log is kept, Tendril appends
    expect(readFileSync(join(root, 'logs', 'greengrass.log'), 'utf8')).to.match(/^.*java-era line\n/);
  });

  it('[CF-75] tendril status lists the adopted component with its version and state', async () => {
    const r = await run(['status', '--root', root, '--json']);
    expect(r.code, r.stderr).to.equal(0);
    const s = JSON.parse(r.stdout) as { components: Array<{ name: string; version: string; state: string }> };
    expect(s.components.find((c) => c.name === NAME)).to.include({
      name: NAME,
      version: '1.0.0',
      state: 'RUNNING',
    });
    expect(s.components.map((c) => c.name)).to.not.include('aws.greengrass.LegacyPlugin');
    const text = await run(['status', '--root', root]);
    expect(text.stdout).to.match(new RegExp(`${NAME.replace(/\./g, '\\.')}\\s+1\\.0\\.0\\s+RUNNING`));
  });

  it('[CF-71] tendril logs prints the component log and the nucleus log', async () => {
    const comp = await run(['logs', '--root', root, NAME]);
    expect(comp.code, comp.stderr).to.equal(0);
    expect(comp.stdout).to.include('legacy says hello');
    const nucleus = await run(['logs', '--root', root, '-n', '1000']);
    expect(nucleus.stdout).to.include('java-era line');
    expect(nucleus.stdout).to.include('service-set-state');
  });

  it('[CF-67][CF-68] a local deployment reconfigures the adopted component from the recipe and artifact in the Java store', async () => {
    const r = await new Promise<{ code: number | null; out: string }>((resolve, reject) => {
      const child = spawn(
        process.execPath,
        [
          '--import',
          'tsx',
          join(repoRoot, 'src/cli/greengrass-cli.ts'),
          '--root',
          root,
          'deployment',
          'create',
          '--merge',
          `${NAME}=1.0.0`,
          '--update-config',
          JSON.stringify({ [NAME]: { MERGE: { Word: 'adopted' } } }),
        ],
        { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] },
      );
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr.on('data', (d: Buffer) => (out += d.toString()));
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, out }));
    });
    expect(r.code, r.out).to.equal(0);
    const log = join(root, 'logs', `${NAME}.log`);
    await waitFor(
      'the reconfigured component',
      () => readFileSync(log, 'utf8').includes('legacy says adopted'),
      40000,
    );
  });

  it('stops cleanly on SIGTERM and keeps the Java tlog format on disk', async () => {
    daemon!.kill('SIGTERM');
    expect((await exitOf(daemon!)).code).to.equal(0);
    const lines = readFileSync(join(root, 'config', 'config.tlog'), 'utf8')
      .trim()
      .split('\n');
    for (const l of lines) expect(Object.keys(JSON.parse(l))).to.include.members(['TS', 'TP', 'W']);
    expect(lines.some((l) => l.includes('"TP":["services","com.example.Legacy","version"]'))).to.equal(true);
  });
});
