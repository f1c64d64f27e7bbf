// The nucleus end to end: a local deployment of the example components (two of them written with the
// official aws-iot-device-sdk-v2 IPC client), run as real processes that talk over the real socket.
import { expect } from 'chai';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Nucleus } from '../../src/nucleus/index.js';
import { repoRoot, waitFor } from '../support/daemon.js';
import { stageNodeModules } from '../../src/cli/stage-node-modules.js';

const examples = join(repoRoot, 'examples', 'components');

describe('e2e: local deployment of the example components', function () {
  this.timeout(90000);
  let dir: string;
  let nucleus: Nucleus | undefined;

  beforeEach(function () {
    if (process.getuid?.() !== 0) {
      console.log('      skipped: needs root to run components as nobody');
      this.skip();
    }
    dir = mkdtempSync(join(tmpdir(), 'tendril-e2e-'));
    chmodSync(dir, 0o755); // the component user (nobody) must reach the root's artifacts
  });
  afterEach(async () => {
    await nucleus?.stop();
    nucleus = undefined;
    if (!process.env.KEEP_TEST_DIRS) rmSync(dir, { recursive: true, force: true });
  });

  it('[DP-01][IPC-114][RC-31] deploys HelloWorld, Publisher and Subscriber; the SDK components exchange messages and the deployment is SUCCESSFUL', async () => {
    const init = join(dir, 'init.yaml');
    writeFileSync(
      init,
      'system: { thingName: e2e-thing }\nservices:\n  aws.greengrass.Nucleus:\n    configuration: { runWithDefault: { posixUser: "nobody:nogroup" } }\n',
    );
    const root = join(dir, 'root');
    nucleus = await Nucleus.start({ root, initConfigFile: init });
    const nodePath = stageNodeModules(
      join(repoRoot, 'node_modules'),
      ['aws-iot-device-sdk-v2'],
      join(dir, 'node_modules'),
    );
    const outcome = await nucleus.queue.offer({
      id: 'local-e2e-1',
      type: 'LOCAL',
      stage: 'DEFAULT',
      document: {
        requestId: 'local-e2e-1',
        recipeDirectoryPath: join(examples, 'recipes'),
        artifactsDirectoryPath: join(examples, 'artifacts'),
        rootComponentVersionsToAdd: {
          'com.example.HelloWorld': '1.0.0',
          'com.example.Publisher': '1.0.0',
          'com.example.Subscriber': '1.0.0',
        },
        componentToConfiguration: {
          'com.example.HelloWorld': { MERGE: { Message: 'Hi from the e2e test' } },
          'com.example.Publisher': { MERGE: { NodePath: nodePath, IntervalMs: 300 } },
          'com.example.Subscriber': { MERGE: { NodePath: nodePath } },
        },
      },
    });
    expect(outcome).to.equal('queued');
    const done = await waitFor(
      'a terminal deployment status',
      () => {
        const r = nucleus!.history.get('local-e2e-1');
        return r && r.status !== 'IN_PROGRESS' ? r : undefined;
      },
      60000,
    );
    expect(done.status, JSON.stringify(done)).to.equal('SUCCEEDED');

    const log = (c: string) => {
      const f = join(root, 'logs', `${c}.log`);
      return existsSync(f) ? readFileSync(f, 'utf8') : '';
    };
    // configuration MERGE reached the interpolated lifecycle [RC-31], and the component runs as nobody
    await waitFor('hello line', () =>
      log('com.example.HelloWorld').includes('Hi from the e2e test (thing e2e-thing, running as nobody)'),
    );
    // the subscriber reported RUNNING itself over IPC (startup still running) and received the publisher's messages
    expect(nucleus.manager.get('com.example.Subscriber')!.status().state).to.equal('RUNNING');
    await waitFor('a delivered message', () =>
      /received on tendril\/demo\/counter: \{"n":\d+/.test(log('com.example.Subscriber')),
    );
    expect(log('com.example.Publisher')).to.match(/published \d+ on tendril\/demo\/counter/);
  });

  it('[DP-59][DP-62] a crash-looping component goes BROKEN, the deployment rolls back, and HelloWorld keeps running', async () => {
    const init = join(dir, 'init.yaml');
    writeFileSync(
      init,
      'services:\n  aws.greengrass.Nucleus:\n    configuration: { runWithDefault: { posixUser: "nobody:nogroup" } }\n',
    );
    nucleus = await Nucleus.start({ root: join(dir, 'root'), initConfigFile: init });
    const recipes = join(dir, 'recipes');
    mkdirSync(recipes);
    writeFileSync(
      join(recipes, 'com.example.Crasher-1.0.0.yaml'),
      [
        'RecipeFormatVersion: "2020-01-25"',
        'ComponentName: com.example.Crasher',
        'ComponentVersion: 1.0.0',
        'Manifests:',
        '  - Lifecycle:',
        '      Run: "echo crashing; exit 3"',
      ].join('\n'),
    );
    const deploy = async (id: string, roots: Record<string, string>, recipeDir: string) => {
      await nucleus!.queue.offer({
        id,
        type: 'LOCAL',
        stage: 'DEFAULT',
        document: {
          requestId: id,
          recipeDirectoryPath: recipeDir,
          artifactsDirectoryPath: join(examples, 'artifacts'),
          rootComponentVersionsToAdd: roots,
          failureHandlingPolicy: 'ROLLBACK',
        },
      });
      return waitFor(
        `${id} terminal`,
        () => {
          const r = nucleus!.history.get(id);
          return r && r.status !== 'IN_PROGRESS' ? r : undefined;
        },
        60000,
      );
    };
    const first = await deploy('hello', { 'com.example.HelloWorld': '1.0.0' }, join(examples, 'recipes'));
    expect(first.status).to.equal('SUCCEEDED');
    const second = await deploy('crash', { 'com.example.Crasher': '1.0.0' }, recipes);
    expect(second.status).to.equal('FAILED');
    expect(second.details['detailed-deployment-status']).to.equal('FAILED_ROLLBACK_COMPLETE');
    // the crasher is gone from the tree and from the lifecycle; the earlier component still runs
    expect(nucleus.store.config.find(['services', 'com.example.Crasher'])).to.equal(undefined);
    expect(nucleus.manager.get('com.example.Crasher')).to.equal(undefined);
    expect(nucleus.manager.get('com.example.HelloWorld')!.status().state).to.equal('RUNNING');
  });
});
