// Deployment scenarios end to end through the `tendril` CLI (separate processes) against the real
// daemon (`tendril run`): upgrade, configuration-only update, removal, version conflict, bad recipe,
// digest mismatch, zip slip, failing install with ROLLBACK and with DO_NOTHING, and cancellation.
// The engine-level versions of these live in test/integration/deployment; here each goes through
// `tendril deployment create --wait` and is checked with `tendril component details`.
import { expect } from 'chai';
import type { ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  exitOf,
  processesWith,
  spawnTendril,
  waitFor,
  runTendril as tendril,
  type CliRun,
} from '../support/daemon.js';
import { makeZip } from '../integration/deployment/zip-helper.js';

interface Spec {
  install?: string;
  run?: string;
  deps?: Record<string, string>;
  artifacts?: string[];
  defaults?: Record<string, unknown>;
}

describe('e2e: deployment scenarios through the tendril CLI against the daemon', function () {
  this.timeout(120_000);
  const hex = randomBytes(4).toString('hex');
  const name = (n: string) => `com.scn${hex}.${n}`;
  const marker = `tendril-scn-${hex}`;
  let dir: string;
  let root: string;
  let daemon: ChildProcess | undefined;
  const used = new Set<string>();

  /** A recipe directory with the given components; returns its path. */
  function recipes(label: string, components: Record<string, Record<string, Spec>>): string {
    const d = join(dir, `recipes-${label}`);
    mkdirSync(d, { recursive: true });
    for (const [n, versions] of Object.entries(components))
      for (const [v, s] of Object.entries(versions)) {
        used.add(n);
        const lines = [
          'RecipeFormatVersion: "2020-01-25"',
          `ComponentName: ${n}`,
          `ComponentVersion: ${v}`,
          'ComponentConfiguration:',
          `  DefaultConfiguration: ${JSON.stringify(s.defaults ?? { Message: 'default' })}`,
          ...(s.deps
            ? [
                'ComponentDependencies:',
                ...Object.entries(s.deps).map(([d2, r]) => `  ${d2}: { VersionRequirement: "${r}" }`),
              ]
            : []),
          'Manifests:',
          '  - Platform: { os: linux }',
          '    Lifecycle:',
          ...(s.install ? [`      Install: ${JSON.stringify(s.install)}`] : []),
          `      Run: ${JSON.stringify(s.run ?? `echo run ${v} {configuration:/Message}; exec sleep 100000`)}`,
          ...(s.artifacts?.length ? ['    Artifacts:', ...s.artifacts.map((a) => `      - ${a}`)] : []),
        ];
        writeFileSync(join(d, `${n}-${v}.yaml`), lines.join('\n') + '\n');
      }
    return d;
  }

  const log = (n: string) => {
    const f = join(root, 'logs', `${n}.log`);
    return existsSync(f) ? readFileSync(f, 'utf8') : '';
  };

  async function deploy(args: string[]): Promise<{ run: CliRun; id: string; end: Record<string, unknown> }> {
    const run = await tendril(['deployment', 'create', '--root', root, '--wait', '--json', ...args]);
    const docs = run.stdout
      .split(/\n(?=\{)/)
      .filter((s) => s.trim())
      .map((s) => JSON.parse(s) as Record<string, unknown>);
    const id = String(docs[0]?.deploymentId);
    return { run, id, end: docs.at(-1) ?? {} };
  }

  async function details(
    n: string,
  ): Promise<{ code: number | null; d?: Record<string, unknown>; stderr: string }> {
    const r = await tendril(['component', 'details', n, '--root', root, '--json']);
    return {
      code: r.code,
      stderr: r.stderr,
      d: r.code === 0 ? (JSON.parse(r.stdout) as Record<string, unknown>) : undefined,
    };
  }

  const detailed = (end: Record<string, unknown>) =>
    (end.deploymentStatusDetails ?? {}) as {
      detailedDeploymentStatus?: string;
      deploymentErrorStack?: string[];
      deploymentFailureCause?: string;
    };

  before(async function () {
    if (process.getuid?.() !== 0) {
      console.log('      skipped: needs root to run components as nobody');
      this.skip();
    }
    dir = mkdtempSync(join(tmpdir(), 'tendril-scn-'));
    chmodSync(dir, 0o755); // the component user (nobody) must reach the root
    root = join(dir, 'root');
    const init = join(dir, 'init.yaml');
    writeFileSync(
      init,
      `setenv: { TENDRIL_TEST_MARKER: ${marker} }\nservices:\n  aws.greengrass.Nucleus:\n    configuration: { runWithDefault: { posixUser: "nobody:nogroup" } }\n`,
    );
    daemon = spawnTendril(['run', '--root', root, '--init-config', init]);
    let out = '';
    daemon.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    await waitFor('the daemon', () => out.includes('nucleus running on'), 30_000);
  });

  after(async () => {
    if (daemon) {
      daemon.kill('SIGTERM');
      await exitOf(daemon);
    }
    const left = marker ? processesWith(marker) : [];
    for (const p of left) process.kill(p, 'SIGKILL');
    for (const n of used)
      for (const ctl of ['memory', 'cpu', 'cpuacct', 'freezer'])
        try {
          rmdirSync(join('/sys/fs/cgroup', ctl, 'tendril', n));
        } catch {
          /* not there */
        }
    if (dir && !process.env.KEEP_TEST_DIRS) rmSync(dir, { recursive: true, force: true });
    expect(left, 'component processes left after the daemon stopped').to.deep.equal([]);
  });

  it('[DP-13][DP-55][DP-57] upgrade 1.0.0 -> 2.0.0: the new version runs, SUCCEEDED, exit 0', async () => {
    const up = name('Up');
    const d = recipes('up', { [up]: { '1.0.0': {}, '2.0.0': {} } });
    const one = await deploy(['--recipe-dir', d, '--merge', `${up}=1.0.0`]);
    expect(one.run.code, one.run.stdout + one.run.stderr).to.equal(0);
    const two = await deploy(['--recipe-dir', d, '--merge', `${up}=2.0.0`]);
    expect(two.run.code, two.run.stdout + two.run.stderr).to.equal(0);
    expect(two.end.status).to.equal('SUCCEEDED');
    // --wait showed the component's states as they changed
    expect(two.run.stdout).to.contain(`"component": "${up}"`).and.contain('"2.0.0 RUNNING"');
    const { d: det } = await details(up);
    expect({ version: det?.version, state: det?.state }).to.deep.equal({
      version: '2.0.0',
      state: 'RUNNING',
    });
    await waitFor('the 2.0.0 run line', () => log(up).includes('run 2.0.0 default'));
  });

  it('[DP-14][CF-23] configuration-only update: the new value is in the tree and the component is not restarted', async () => {
    const cfg = name('Cfg');
    const d = recipes('cfg', { [cfg]: { '1.0.0': { run: 'echo run-cfg; exec sleep 100000' } } });
    const first = await deploy(['--recipe-dir', d, '--merge', `${cfg}=1.0.0`]);
    expect(first.run.code, first.run.stderr).to.equal(0);
    await waitFor('the run line', () => log(cfg).includes('run-cfg'));
    const pidsBefore = processesWith(marker).filter((p) =>
      readFileSync(`/proc/${p}/environ`, 'latin1').includes(`SVCUID=`),
    );
    const update = await deploy([
      '--update-config',
      JSON.stringify({ [cfg]: { MERGE: { Message: 'changed' } } }),
    ]);
    expect(update.run.code, update.run.stdout + update.run.stderr).to.equal(0);
    const { d: det } = await details(cfg);
    expect(det?.configuration).to.deep.equal({ Message: 'changed' });
    expect(det?.state).to.equal('RUNNING');
    expect(log(cfg).split('run-cfg').length - 1, 'run started once').to.equal(1);
    const pidsAfter = processesWith(marker).filter((p) => pidsBefore.includes(p));
    expect(pidsAfter.length, 'the processes seen before are still there').to.be.greaterThan(0);
  });

  it('[DP-56] remove: the component stops and is gone from the nucleus', async () => {
    const up = name('Up');
    const r = await deploy(['--remove', up]);
    expect(r.run.code, r.run.stdout + r.run.stderr).to.equal(0);
    const gone = await details(up);
    expect(gone.code).to.equal(1);
    expect(gone.stderr).to.contain('ResourceNotFoundError').and.contain(up);
  });

  it('[DP-38][DP-45] version conflict: FAILED_NO_STATE_CHANGE naming the component, the requirement and what exists', async () => {
    const app = name('App');
    const lib = name('Lib');
    const d = recipes('conflict', {
      [app]: { '1.0.0': { deps: { [lib]: '>=2.0.0' } } },
      [lib]: { '1.0.0': {} },
    });
    const r = await deploy(['--recipe-dir', d, '--merge', `${app}=1.0.0`]);
    expect(r.run.code).to.equal(1);
    expect(r.end.status).to.equal('FAILED');
    const s = detailed(r.end);
    expect(s.detailedDeploymentStatus).to.equal('FAILED_NO_STATE_CHANGE');
    expect(s.deploymentErrorStack).to.include('COMPONENT_VERSION_REQUIREMENTS_NOT_MET');
    expect(s.deploymentFailureCause).to.contain(lib).and.contain('>=2.0.0').and.contain('1.0.0');
    expect((await details(app)).code).to.equal(1);
  });

  it('[DP-45] bad recipe: FAILED_NO_STATE_CHANGE naming the file and the field', async () => {
    const d = join(dir, 'recipes-bad');
    mkdirSync(d);
    writeFileSync(
      join(d, 'broken.yaml'),
      `RecipeFormatVersion: "2020-01-25"\nComponentName: ${name('Bad')}\n`,
    );
    const r = await deploy(['--recipe-dir', d, '--merge', `${name('Bad')}=1.0.0`]);
    expect(r.run.code).to.equal(1);
    expect(detailed(r.end).detailedDeploymentStatus).to.equal('FAILED_NO_STATE_CHANGE');
    expect(detailed(r.end).deploymentFailureCause).to.match(/broken\.yaml: ComponentVersion/);
  });

  it('[RC-40][DP-45] digest mismatch: FAILED_NO_STATE_CHANGE naming the artifact and both digests', async () => {
    const dg = name('Digest');
    const arts = join(dir, 'artifacts-digest');
    mkdirSync(join(arts, dg, '1.0.0'), { recursive: true });
    writeFileSync(join(arts, dg, '1.0.0', 'data.txt'), 'the real content');
    const wrong = createHash('sha256').update('something else').digest('base64');
    const d = recipes('digest', {
      [dg]: {
        '1.0.0': { artifacts: [`{ Uri: "greengrass:data.txt", Digest: "${wrong}", Algorithm: SHA-256 }`] },
      },
    });
    const r = await deploy(['--recipe-dir', d, '--artifact-dir', arts, '--merge', `${dg}=1.0.0`]);
    expect(r.run.code).to.equal(1);
    expect(detailed(r.end).detailedDeploymentStatus).to.equal('FAILED_NO_STATE_CHANGE');
    expect(detailed(r.end).deploymentFailureCause).to.contain('data.txt').and.contain(wrong);
    expect((await details(dg)).code).to.equal(1);
  });

  it('[RC-43][DP-45] zip slip: the archive is refused naming the entry, and nothing is written outside', async () => {
    const z = name('Zip');
    const arts = join(dir, 'artifacts-zip');
    mkdirSync(join(arts, z, '1.0.0'), { recursive: true });
    makeZip(join(arts, z, '1.0.0', 'a.zip'), [
      { name: 'fine.txt', text: 'ok' },
      { name: `../../../../slip-${hex}`, text: 'x' },
    ]);
    const d = recipes('zip', {
      [z]: { '1.0.0': { artifacts: ['{ Uri: "greengrass:a.zip", Unarchive: ZIP }'] } },
    });
    const r = await deploy(['--recipe-dir', d, '--artifact-dir', arts, '--merge', `${z}=1.0.0`]);
    expect(r.run.code).to.equal(1);
    expect(detailed(r.end).detailedDeploymentStatus).to.equal('FAILED_NO_STATE_CHANGE');
    expect(detailed(r.end).deploymentFailureCause).to.contain(`slip-${hex}`).and.contain('escapes');
    expect(existsSync(join(root, `slip-${hex}`))).to.equal(false);
    expect(existsSync(join(dir, `slip-${hex}`))).to.equal(false);
  });

  it('[DP-59][DP-62] failing install with ROLLBACK: the previous version runs again with its previous configuration', async () => {
    const rb = name('Rb');
    const d = recipes('rb', { [rb]: { '1.0.0': {}, '2.0.0': { install: 'echo failing-install; exit 1' } } });
    const ok = await deploy([
      '--recipe-dir',
      d,
      '--merge',
      `${rb}=1.0.0`,
      '--update-config',
      JSON.stringify({ [rb]: { MERGE: { Message: 'before' } } }),
    ]);
    expect(ok.run.code, ok.run.stdout + ok.run.stderr).to.equal(0);
    const bad = await deploy([
      '--recipe-dir',
      d,
      '--merge',
      `${rb}=2.0.0`,
      '--update-config',
      JSON.stringify({ [rb]: { MERGE: { Message: 'after' } } }),
    ]);
    expect(bad.run.code).to.equal(1);
    expect(detailed(bad.end).detailedDeploymentStatus).to.equal('FAILED_ROLLBACK_COMPLETE');
    const { d: det } = await details(rb);
    expect({ version: det?.version, state: det?.state, configuration: det?.configuration }).to.deep.equal({
      version: '1.0.0',
      state: 'RUNNING',
      configuration: { Message: 'before' },
    });
    expect(log(rb)).to.contain('failing-install');
    expect(
      log(rb)
        .trimEnd()
        .split('\n')
        .filter((l) => l.includes('run '))
        .at(-1),
    ).to.contain('run 1.0.0 before');
  });

  it('[DP-60] failing install with DO_NOTHING: FAILED_ROLLBACK_NOT_REQUESTED and the broken version stays', async () => {
    const dn = name('Dn');
    const d = recipes('dn', { [dn]: { '1.0.0': {}, '2.0.0': { install: 'exit 1' } } });
    expect((await deploy(['--recipe-dir', d, '--merge', `${dn}=1.0.0`])).run.code).to.equal(0);
    const bad = await deploy(['--recipe-dir', d, '--merge', `${dn}=2.0.0`, '--failure-policy', 'DO_NOTHING']);
    expect(bad.run.code).to.equal(1);
    expect(detailed(bad.end).detailedDeploymentStatus).to.equal('FAILED_ROLLBACK_NOT_REQUESTED');
    const { d: det } = await details(dn);
    expect({ version: det?.version, state: det?.state }).to.deep.equal({ version: '2.0.0', state: 'BROKEN' });
  });

  it('[DP-72][DP-74] cancel: a queued deployment is CANCELED and never applied', async () => {
    const slow = name('Slow');
    const never = name('Never');
    const d = recipes('cancel', {
      [slow]: { '1.0.0': { install: 'sleep 4' } },
      [never]: { '1.0.0': {} },
    });
    const create = async (n: string) => {
      const r = await tendril([
        'deployment',
        'create',
        '--root',
        root,
        '--json',
        '--recipe-dir',
        d,
        '--merge',
        `${n}=1.0.0`,
      ]);
      expect(r.code, r.stderr).to.equal(0);
      return (JSON.parse(r.stdout) as { deploymentId: string }).deploymentId;
    };
    const first = await create(slow);
    const second = await create(never);
    const c = await tendril(['deployment', 'cancel', second, '--root', root]);
    expect(c.code, c.stderr).to.equal(0);
    const status = async (id: string) => {
      for (;;) {
        const r = await tendril(['deployment', 'status', id, '--root', root, '--json']);
        const s = (JSON.parse(r.stdout) as { status: string }).status;
        if (s !== 'QUEUED' && s !== 'IN_PROGRESS') return s;
      }
    };
    expect(await status(second)).to.equal('CANCELED');
    expect(await status(first)).to.equal('SUCCEEDED');
    expect((await details(never)).code).to.equal(1);
  });
});
