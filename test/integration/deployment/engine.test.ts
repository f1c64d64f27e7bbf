// The deployment engine against a real config store, component store and lifecycle manager running
// real processes (deployment.md sections 1, 3-8 and 10).
import { expect } from 'chai';
import type { JsonObject } from '../../../src/config/index.js';
import {
  ARN,
  cloudDoc,
  deploy,
  openHarness,
  reimport,
  removeRoot,
  started,
  stateOf,
  writeRecipe,
  type Harness,
} from '../../support/deployment-harness.js';

describe('deployment engine with real processes', function () {
  this.timeout(30_000);
  let h: Harness;
  beforeEach(async () => {
    h = await openHarness();
    writeRecipe(h, 'B', '1.0.0');
    writeRecipe(h, 'A', '1.0.0', { deps: { B: '^1.0.0' }, defaults: { message: 'hello', nested: { x: 1 } } });
    writeRecipe(h, 'A', '2.0.0', { deps: { B: '^1.0.0' }, defaults: { message: 'hello', nested: { x: 1 } } });
    writeRecipe(h, 'A', '3.0.0', { deps: { B: '^1.0.0' } });
    writeRecipe(h, 'C', '1.0.0');
    await reimport(h);
  });
  afterEach(async () => {
    await h.close();
    removeRoot(h);
  });

  it('[DP-55][DP-57][RC-28][RC-29] deploys A (depending on B): both RUNNING, main depends on the root, SUCCEEDED stored in order', async () => {
    const o = await deploy(h, cloudDoc('d1', { A: { version: '1.0.0' } }));
    expect(o.result).to.equal('SUCCESSFUL');
    expect(o.status).to.equal('SUCCEEDED');
    expect(o.details).to.deep.equal({ 'detailed-deployment-status': 'SUCCESSFUL' });
    expect(stateOf(h, 'A')).to.equal('RUNNING');
    expect(stateOf(h, 'B')).to.equal('RUNNING');
    expect(started(h)).to.deep.equal(['B@1.0.0', 'A@1.0.0']);
    const services = h.store.config.toMap(['services']);
    expect((services.A as JsonObject).dependencies).to.deep.equal(['B:HARD']);
    expect((services.main as JsonObject).dependencies).to.deep.equal(['A']);
    expect(
      h.store.config.get(['services', 'DeploymentService', 'GroupToRootComponents', 'thinggroup/G']),
    ).to.deep.equal({
      A: { version: '1.0.0', groupConfigName: 'thinggroup/G', groupConfigArn: ARN },
    });
    // [DP-64][DP-68] IN_PROGRESS then SUCCEEDED, durably in the outbox, oldest first
    expect(h.reported.map((p) => `${p.DeploymentId}:${p.DeploymentStatus}`)).to.deep.equal([
      'd1:IN_PROGRESS',
      'd1:SUCCEEDED',
    ]);
    expect(h.engine.outbox.pending()).to.deep.equal([]);
    expect(h.queue.size).to.equal(0);
    expect(h.reconcileErrors).to.deep.equal([]);
  });

  it('[RC-28][DP-75] a second deployment changing A version reinstalls A; a third cleans up the stale version', async () => {
    await deploy(h, cloudDoc('d1', { A: { version: '1.0.0' } }));
    expect(await h.components.listInstalled()).to.deep.equal({ A: ['1.0.0'], B: ['1.0.0'] });
    await reimport(h);
    const o = await deploy(h, cloudDoc('d2', { A: { version: '2.0.0' } }));
    expect(o.result).to.equal('SUCCESSFUL');
    expect(started(h)).to.deep.equal(['B@1.0.0', 'A@1.0.0', 'A@2.0.0']);
    expect(h.store.config.get(['services', 'A', 'version'])).to.equal('2.0.0');
    expect(h.store.config.get(['services', 'A', 'previousVersion'])).to.equal('1.0.0');
    expect(stateOf(h, 'A')).to.equal('RUNNING');
    expect(await h.components.listInstalled()).to.deep.equal({ A: ['1.0.0', '2.0.0'], B: ['1.0.0'] });
    await reimport(h);
    const o3 = await deploy(h, cloudDoc('d3', { A: { version: '3.0.0' } }));
    expect(o3.result).to.equal('SUCCESSFUL');
    expect(o3.cleanup?.deleted).to.include('A@1.0.0');
    expect(o3.cleanup?.deleted).to.not.include('A@2.0.0');
    expect((await h.components.listInstalled()).A).to.deep.equal(['2.0.0', '3.0.0']);
  });

  it('[DP-45][DP-65] an unresolvable version fails with FAILED_NO_STATE_CHANGE and leaves the services tree as it was', async () => {
    await deploy(h, cloudDoc('d1', { A: { version: '1.0.0' } }));
    await reimport(h);
    const withoutOutbox = () => {
      const s = h.store.config.toMap(['services']);
      delete ((s.DeploymentService as JsonObject).runtime as JsonObject | undefined)?.ProcessedDeployments;
      return s;
    };
    const before = withoutOutbox();
    const o = await deploy(h, cloudDoc('d2', { A: { version: '9.9.9' } }));
    expect(o.result).to.equal('FAILED_NO_STATE_CHANGE');
    expect(o.status).to.equal('FAILED');
    expect(o.details['deployment-error-stack']).to.equal(
      '["DEPLOYMENT_FAILURE","COMPONENT_VERSION_REQUIREMENTS_NOT_MET"]',
    );
    expect(o.details['deployment-error-types']).to.equal('["DEPENDENCY_ERROR"]');
    expect(o.details['deployment-failure-cause']).to.match(/A: no version satisfies "9\.9\.9"/);
    expect(withoutOutbox()).to.deep.equal(before);
    expect(stateOf(h, 'A')).to.equal('RUNNING');
  });

  it('[DP-65] a bad document fails with a precise cause, changes nothing and is dequeued', async () => {
    const before = h.store.config.toMap(['services']);
    const o = await deploy(h, {
      id: 'bad',
      type: 'IOT_JOBS',
      stage: 'DEFAULT',
      document: { deploymentId: 'bad' },
    });
    expect(o.status).to.equal('FAILED');
    expect(o.details['detailed-deployment-status']).to.equal(undefined);
    expect(o.details['deployment-failure-cause']).to.match(/configurationArn/);
    expect(h.store.config.toMap(['services']).A).to.equal(before.A);
    expect(h.queue.size).to.equal(0);
  });

  it('[CF-23][CF-24][CF-25] MERGE then RESET across two deployments', async () => {
    await deploy(
      h,
      cloudDoc('d1', {
        A: {
          version: '1.0.0',
          configurationUpdate: { merge: { message: 'hi', extra: [1, 2], nested: { y: 2 } } },
        },
      }),
    );
    expect(h.store.config.toMap(['services', 'A', 'configuration'])).to.deep.equal({
      message: 'hi',
      extra: [1, 2],
      nested: { x: 1, y: 2 },
    });
    await deploy(
      h,
      cloudDoc('d2', {
        A: { version: '1.0.0', configurationUpdate: { reset: ['/message', '/extra', '/nested/y'] } },
      }),
    );
    // reset keys come back from the defaults or disappear; a configuration-only change keeps A running
    expect(h.store.config.toMap(['services', 'A', 'configuration'])).to.deep.equal({
      message: 'hello',
      nested: { x: 1 },
    });
    expect(started(h)).to.deep.equal(['B@1.0.0', 'A@1.0.0']);
  });

  it('[DP-56] removing a root component stops it and removes it (and its now unused dependency) from the tree', async () => {
    await deploy(h, cloudDoc('d1', { A: { version: '1.0.0' }, C: { version: '1.0.0' } }));
    expect(stateOf(h, 'C')).to.equal('RUNNING');
    const o = await deploy(h, cloudDoc('d2', { C: { version: '1.0.0' } }));
    expect(o.result).to.equal('SUCCESSFUL');
    const services = h.store.config.toMap(['services']);
    expect(services).to.not.have.property('A');
    expect(services).to.not.have.property('B');
    expect((services.main as JsonObject).dependencies).to.deep.equal(['C']);
    expect(h.manager.get('A')).to.equal(undefined);
    expect(h.manager.get('B')).to.equal(undefined);
    expect(stateOf(h, 'C')).to.equal('RUNNING');
  });

  it('[DP-74] a queued deployment replaced by its cancellation never runs; IoT Jobs publish no CANCELED', async () => {
    await h.queue.offer(cloudDoc('d1', { A: { version: '1.0.0' } }));
    expect(await h.queue.offer({ id: 'd1', type: 'IOT_JOBS', stage: 'DEFAULT', cancelled: true })).to.equal(
      'replaced',
    );
    const o = await h.engine.runNext();
    expect(o?.status).to.equal('CANCELED');
    expect(h.store.config.find(['services', 'A'])).to.equal(undefined);
    expect(h.engine.outbox.pending()).to.deep.equal([]);
  });

  it('[DP-69] statuses are delivered in order and removed only once every consumer accepted them', async () => {
    const seen: string[] = [];
    let refuse = true;
    await h.close();
    h = await openHarness({
      root: h.root,
      engine: {
        reporters: [
          { name: 'jobs', report: async (s) => (seen.push(`jobs:${s.DeploymentStatus}`), true) },
          { name: 'fleet', report: async (s) => (seen.push(`fleet:${s.DeploymentStatus}`), !refuse) },
        ],
      },
    });
    await deploy(h, cloudDoc('d1', { A: { version: '1.0.0' } }));
    // IN_PROGRESS went out while the deployment ran and again after it (fleet refused both times);
    // jobs took it once and, the order kept, nothing after it
    expect(seen.filter((x) => x.startsWith('jobs:'))).to.deep.equal(['jobs:IN_PROGRESS']);
    expect(new Set(seen.filter((x) => x.startsWith('fleet:')))).to.deep.equal(new Set(['fleet:IN_PROGRESS']));
    expect(h.engine.outbox.pending()).to.have.length(2);
    refuse = false;
    const before = seen.length;
    expect(await h.engine.flushOutbox()).to.equal(2);
    expect(seen.slice(before)).to.deep.equal(['fleet:IN_PROGRESS', 'jobs:SUCCEEDED', 'fleet:SUCCEEDED']);
    expect(h.engine.outbox.pending()).to.deep.equal([]);
  });

  it('[DP-47][DP-49][DP-50] safe update: notification before the merge; REJECTED validation fails with no state change, no answer proceeds', async () => {
    const calls: string[] = [];
    let answer: 'REJECTED' | 'silent' = 'REJECTED';
    await h.close();
    h = await openHarness({
      root: h.root,
      engine: {
        hooks: {
          preUpdate: async (id) => void calls.push(`pre:${id}`),
          validateConfiguration: (c, config, id) => {
            calls.push(`validate:${c}:${JSON.stringify(config)}:${id}`);
            return answer === 'REJECTED'
              ? Promise.resolve({ status: 'REJECTED' as const, message: 'message must not be bad' })
              : new Promise(() => undefined);
          },
          postUpdate: async (id) => void calls.push(`post:${id}`),
        },
      },
    });
    const notify = { componentUpdatePolicy: { action: 'NOTIFY_COMPONENTS', timeout: 1 } };
    await deploy(h, cloudDoc('d1', { A: { version: '1.0.0' } }, notify));
    expect(calls).to.deep.equal(['pre:d1', 'post:d1']);
    const change = { A: { version: '1.0.0', configurationUpdate: { merge: { message: 'bad' } } } };
    const validation = { ...notify, configurationValidationPolicy: { timeout: 1 } };
    const rejected = await deploy(h, cloudDoc('d2', change, validation));
    expect(rejected.result).to.equal('FAILED_NO_STATE_CHANGE');
    expect(rejected.details['deployment-failure-cause']).to.equal(
      'A rejected the configuration: message must not be bad',
    );
    expect(h.store.config.get(['services', 'A', 'configuration', 'message'])).to.equal('hello');
    answer = 'silent';
    const silent = await deploy(h, cloudDoc('d3', change, validation));
    expect(silent.result).to.equal('SUCCESSFUL');
    expect(h.store.config.get(['services', 'A', 'configuration', 'message'])).to.equal('bad');
    expect(calls.slice(2)).to.deep.equal([
      'pre:d2',
      'validate:A:{"message":"bad","nested":{"x":1}}:d2',
      'pre:d3',
      'validate:A:{"message":"bad","nested":{"x":1}}:d3',
      'post:d3',
    ]);
  });
});
