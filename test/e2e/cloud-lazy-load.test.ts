// aws-crt (through aws-iot-device-sdk-v2) costs about 20 MB, so the nucleus loads it only when a cloud
// connection is configured (issue 7). Checked on the real daemon from the outside: its native module
// is mapped into the process (/proc/PID/maps) or it is not. The second case proves the check sees it.
import { GetCoreDeviceCommand } from '@aws-sdk/client-greengrassv2';
import { expect } from 'chai';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import yaml from 'js-yaml';
import { exitOf, spawnTendril, waitFor } from '../support/daemon.js';
import { eventually, startCloudHarness, type CloudHarness } from '../integration/iot/helpers.js';

/** The aws-crt native modules mapped into a process. */
const awsCrtMapped = (pid: number) =>
  [
    ...new Set(
      readFileSync(`/proc/${pid}/maps`, 'utf8')
        .split('\n')
        .map((l) => l.split(/\s+/)[5] ?? '')
        .filter((p) => /aws-crt.*\.node$/.test(p)),
    ),
  ].map((p) => p.slice(p.indexOf('aws-crt')));

async function stop(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const done = exitOf(child);
  child.kill('SIGTERM');
  await done;
}

describe('e2e: aws-crt is loaded only with a cloud connection (issue 7)', function () {
  this.timeout(60000);
  let dir: string;
  let daemon: ChildProcess | undefined;
  let h: CloudHarness | undefined;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'tendril-lazy-crt-'));
  });
  afterEach(async () => {
    await stop(daemon);
    daemon = undefined;
    await h?.close();
    h = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  it('a nucleus without cloud configuration never maps aws-crt, idle after start', async () => {
    const root = join(dir, 'root');
    writeFileSync(join(dir, 'init.yaml'), 'services:\n  aws.greengrass.Nucleus:\n    configuration: {}\n');
    daemon = spawnTendril(['run', '--root', root, '--init-config', join(dir, 'init.yaml')]);
    await waitFor('the IPC socket', () => existsSync(join(root, 'ipc.socket')));
    await new Promise((r) => setTimeout(r, 2000)); // anything loaded late after the start
    expect(daemon.exitCode).to.equal(null);
    expect(awsCrtMapped(daemon.pid!)).to.deep.equal([]);
  });

  it('a nucleus provisioned against the local cloud maps aws-crt once it connects', async () => {
    h = await startCloudHarness();
    const p = await h.cloud.provision({ thingName: 'lazy-core', thingGroup: 'lazy-fleet', outDir: dir });
    const init = yaml.load(readFileSync(p.configPath, 'utf8')) as Record<string, unknown>;
    writeFileSync(join(dir, 'init.yaml'), yaml.dump(init));
    daemon = spawnTendril(['run', '--root', join(dir, 'root'), '--init-config', join(dir, 'init.yaml')]);
    const client = h.client;
    await eventually(
      'the core device reporting to the cloud',
      async () =>
        (
          await client
            .send(new GetCoreDeviceCommand({ coreDeviceThingName: 'lazy-core' }))
            .catch(() => undefined)
        )?.status,
      45000,
    );
    expect(awsCrtMapped(daemon.pid!)).to.have.length.greaterThan(0);
  });
});
