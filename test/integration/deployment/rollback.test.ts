// Failure handling with real processes: a crash-looping component goes BROKEN, then ROLLBACK restores
// the previous services and versions, DO_NOTHING leaves them (deployment.md section 7), and an
// enqueued deployment survives a restart.
import { expect } from 'chai';
import { existsSync } from 'node:fs';
import { readTlogFile } from '../../../src/config/index.js';
import path from 'node:path';
import { deploymentDir, ROLLBACK_SNAPSHOT } from '../../../src/deployment/index.js';
import {
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

describe('deployment failure handling and restart', function () {
  this.timeout(30_000);
  let h: Harness;
  beforeEach(async () => {
    h = await openHarness();
    writeRecipe(h, 'B', '1.0.0');
    writeRecipe(h, 'A', '1.0.0', { deps: { B: '^1.0.0' } });
    writeRecipe(h, 'A', '2.0.0', { deps: { B: '^1.0.0' }, run: 'echo A@2.0.0 >> "$TOP/started"; exit 1' });
    writeRecipe(h, 'C', '1.0.0');
    await reimport(h);
    const o = await deploy(h, cloudDoc('d1', { A: { version: '1.0.0' } }));
    expect(o.result).to.equal('SUCCESSFUL');
    await reimport(h);
  });
  afterEach(async () => {
    await h.close();
    removeRoot(h);
  });

  it('[DP-52][DP-55][DP-59][CF-16][CF-22] a crash-looping update goes BROKEN and ROLLBACK restores the previous services: FAILED_ROLLBACK_COMPLETE', async () => {
    const before = h.store.config.toMap(['services', 'A']);
    const o = await deploy(h, cloudDoc('d2', { A: { version: '2.0.0' }, C: { version: '1.0.0' } }));
    expect(o.result).to.equal('FAILED_ROLLBACK_COMPLETE');
    expect(o.status).to.equal('FAILED');
    expect(o.details['deployment-error-stack']).to.equal('["DEPLOYMENT_FAILURE","COMPONENT_BROKEN"]');
    expect(o.details['deployment-error-types']).to.equal('["COMPONENT_ERROR"]');
    expect(o.details['deployment-failure-cause']).to.match(/service A is broken/);
    // the snapshot was taken under deployments/<id>/
    expect(existsSync(path.join(deploymentDir(h.root, 'd2'), ROLLBACK_SNAPSHOT))).to.equal(true);
    // A@2.0.0 crashed, then A@1.0.0 was reinstalled and runs again; C, added by d2, is gone
    const runs = started(h);
    expect(runs.filter((r) => r === 'A@2.0.0').length).to.be.greaterThan(1);
    expect(runs[runs.length - 1]).to.equal('A@1.0.0');
    expect(stateOf(h, 'A')).to.equal('RUNNING');
    expect(stateOf(h, 'B')).to.equal('RUNNING');
    expect(h.manager.get('C')).to.equal(undefined);
    const services = h.store.config.toMap(['services']);
    expect(services).to.not.have.property('C');
    expect(h.store.config.toMap(['services', 'A'])).to.deep.equal(before);
    expect(h.store.config.get(['services', 'main', 'dependencies'])).to.deep.equal(['A']);
    expect(
      Object.keys(
        h.store.config.toMap(['services', 'DeploymentService', 'GroupToRootComponents', 'thinggroup/G']),
      ),
    ).to.deep.equal(['A']);
    // [CF-16] the tlog was truncated to the rolled-back tree: reading it back gives A@1.0.0 and no C
    const lines = (await readTlogFile(h.store.tlogFile)).lines;
    const at = (p: string[]) => lines.filter((l) => p.every((k, i) => l.path[i] === k));
    expect(at(['services', 'C'])).to.deep.equal([]);
    expect(at(['services', 'A', 'version']).map((l) => l.value)).to.deep.equal(['1.0.0']);
    // [DP-75] a failed deployment keeps the versions it tried
    expect((await h.components.listInstalled()).A).to.deep.equal(['1.0.0', '2.0.0']);
  });

  it('[DP-60] with DO_NOTHING the broken update stays: FAILED_ROLLBACK_NOT_REQUESTED', async () => {
    const o = await deploy(
      h,
      cloudDoc('d2', { A: { version: '2.0.0' } }, { failureHandlingPolicy: 'DO_NOTHING' }),
    );
    expect(o.result).to.equal('FAILED_ROLLBACK_NOT_REQUESTED');
    expect(o.details['deployment-error-stack']).to.equal('["DEPLOYMENT_FAILURE","COMPONENT_BROKEN"]');
    expect(stateOf(h, 'A')).to.equal('BROKEN');
    expect(h.store.config.get(['services', 'A', 'version'])).to.equal('2.0.0');
    expect(
      h.store.config.get([
        'services',
        'DeploymentService',
        'GroupToRootComponents',
        'thinggroup/G',
        'A',
        'version',
      ]),
    ).to.equal('2.0.0');
    // the snapshot is taken all the same, as the recovery point of a crash during the services write,
    // but the failure did not restore it
    expect(existsSync(path.join(deploymentDir(h.root, 'd2'), ROLLBACK_SNAPSHOT))).to.equal(true);
  });

  it('[DP-03][DP-33] an enqueued deployment survives a restart and runs after reopening', async () => {
    writeRecipe(h, 'C', '1.0.0');
    await reimport(h);
    expect(
      await h.queue.offer(cloudDoc('d3', { A: { version: '1.0.0' }, C: { version: '1.0.0' } })),
    ).to.equal('queued');
    const root = h.root;
    await h.close();
    h = await openHarness({ root });
    expect(h.queue.entries().map((e) => e.id)).to.deep.equal(['d3']);
    // the config tree comes back from the tlog; the reconciler starts the services it holds again
    expect(h.store.config.get(['services', 'A', 'version'])).to.equal('1.0.0');
    const o = await h.engine.runNext();
    expect(o?.result).to.equal('SUCCESSFUL');
    expect(stateOf(h, 'C')).to.equal('RUNNING');
    expect(stateOf(h, 'A')).to.equal('RUNNING');
    expect(h.queue.size).to.equal(0);
  });

  it('[DP-04] the engine loop runs queued deployments one at a time, in order', async () => {
    await h.queue.offer(cloudDoc('d4', { A: { version: '1.0.0' }, C: { version: '1.0.0' } }));
    await h.queue.offer(cloudDoc('d5', { C: { version: '1.0.0' } }));
    h.engine.start();
    while (!h.reported.some((r) => r.DeploymentId === 'd5' && r.DeploymentStatus !== 'IN_PROGRESS'))
      await new Promise((r) => setTimeout(r, 20));
    await h.engine.stop();
    expect(h.reported.map((r) => `${r.DeploymentId}:${r.DeploymentStatus}`).slice(2)).to.deep.equal([
      'd4:IN_PROGRESS',
      'd4:SUCCEEDED',
      'd5:IN_PROGRESS',
      'd5:SUCCEEDED',
    ]);
    expect(h.manager.get('A')).to.equal(undefined);
    expect(stateOf(h, 'C')).to.equal('RUNNING');
  });
});
