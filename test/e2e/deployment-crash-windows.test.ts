// The instants a kill -9 cannot be aimed at from outside the daemon: between storing a status in
// the outbox and writing the deployment's progress marker, and between storing the terminal status
// and dequeuing. The on-disk state such a crash leaves is built here with the real engine, config
// store, component store and processes, then the engine is reopened on it: each status is still
// stored and delivered exactly once [DP-33][DP-64][DP-68][DP-69].
import { expect } from 'chai';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { deploymentDir, type QueuedDeployment } from '../../src/deployment/index.js';
import { takeRollbackSnapshot } from '../../src/deployment/rollback.js';
import {
  ACTIVATION_MARKER,
  documentFingerprint,
  markActivation,
  writeProgress,
} from '../../src/deployment/task-progress.js';
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
} from '../support/deployment-harness.js';

describe('deployment statuses across a crash at the instants between two durable writes', function () {
  this.timeout(30_000);
  let h: Harness;
  beforeEach(async () => {
    h = await openHarness();
    writeRecipe(h, 'A', '1.0.0');
    await reimport(h);
  });
  afterEach(async () => {
    await h.close();
    removeRoot(h);
  });

  const statusesOf = (id: string) =>
    h.reported.filter((p) => p.DeploymentId === id).map((p) => p.DeploymentStatus);
  const store = (entry: QueuedDeployment, status: 'IN_PROGRESS' | 'SUCCEEDED') =>
    h.engine.outbox.record({
      DeploymentId: entry.id,
      GreengrassDeploymentId: entry.id,
      ConfigurationArn: ARN,
      DeploymentType: entry.type,
      DeploymentStatus: status,
      DeploymentStatusDetails: status === 'SUCCEEDED' ? { 'detailed-deployment-status': 'SUCCESSFUL' } : {},
      DeploymentRootPackages: ['A'],
    });
  const reopen = async () => {
    const root = h.root;
    await h.close();
    h = await openHarness({ root });
  };

  it('[DP-64][DP-68] crash after the terminal status was stored and delivered, before the dequeue: the resumed entry is dequeued without running or reporting again', async () => {
    const entry = cloudDoc('d1', { A: { version: '1.0.0' } });
    const first = await deploy(h, entry);
    expect(first.status).to.equal('SUCCEEDED');
    await h.queue.offer(entry); // the entry as it was still queued at the crash
    await reopen();
    const again = await h.engine.runNext();
    expect(again?.status).to.equal('SUCCEEDED');
    expect(h.queue.size).to.equal(0);
    // a task that ran again would have stored and delivered IN_PROGRESS or SUCCEEDED once more
    expect(statusesOf('d1')).to.deep.equal([]); // (the reopened engine's recorder is fresh)
    expect(h.engine.outbox.pending()).to.deep.equal([]);
  });

  it('[DP-33][DP-64] crash after IN_PROGRESS was stored, before the progress marker: IN_PROGRESS is delivered once', async () => {
    const entry = cloudDoc('d2', { A: { version: '1.0.0' } });
    await h.queue.offer(entry);
    await store(entry, 'IN_PROGRESS');
    await reopen();
    const o = await h.engine.runNext();
    expect(o?.status).to.equal('SUCCEEDED');
    expect(statusesOf('d2')).to.deep.equal(['IN_PROGRESS', 'SUCCEEDED']);
  });

  it('[DP-64][DP-69] crash after the terminal status was stored, before its marker: it is delivered once and the task does not run again', async () => {
    const entry = cloudDoc('d3', { A: { version: '1.0.0' } });
    await h.queue.offer(entry);
    await store(entry, 'IN_PROGRESS');
    await writeProgress(path.join(deploymentDir(h.root, 'd3'), 'deployment_metadata.json'), {
      id: 'd3',
      type: entry.type,
      deploymentId: 'd3',
      document: documentFingerprint(entry.document),
      status: 'IN_PROGRESS',
    });
    await store(entry, 'SUCCEEDED');
    await reopen();
    const o = await h.engine.runNext();
    expect(o?.status).to.equal('SUCCEEDED');
    expect(o?.result).to.equal('SUCCESSFUL');
    expect(started(h), 'no task ran: A was never deployed').to.deep.equal([]);
    expect(statusesOf('d3')).to.deep.equal(['IN_PROGRESS', 'SUCCEEDED']);
    expect(h.queue.size).to.equal(0);
  });

  it('[DP-52][DP-54] crash in the middle of writing the services tree: the boot restores the tree from before the deployment before any component starts, and the resumed deployment completes', async () => {
    const first = await deploy(h, cloudDoc('d0', { A: { version: '1.0.0' } }));
    expect(first.status).to.equal('SUCCEEDED');
    writeRecipe(h, 'A', '2.0.0');
    writeRecipe(h, 'B', '1.0.0');
    await reimport(h);
    // DO_NOTHING: the snapshot is still taken, as the crash-recovery point
    const entry = cloudDoc(
      'd4',
      { A: { version: '2.0.0' }, B: { version: '1.0.0' } },
      {
        failureHandlingPolicy: 'DO_NOTHING',
      },
    );
    await h.queue.offer(entry);
    await store(entry, 'IN_PROGRESS');
    const dir = deploymentDir(h.root, 'd4');
    await writeProgress(path.join(dir, 'deployment_metadata.json'), {
      id: 'd4',
      type: entry.type,
      deploymentId: 'd4',
      document: documentFingerprint(entry.document),
      status: 'IN_PROGRESS',
    });
    await takeRollbackSnapshot(h.store, dir);
    await markActivation(dir, true);
    // the first half of the write: B is there, A still at 1.0.0, main does not depend on B yet
    h.store.config.set(['services', 'B', 'version'], '1.0.0');
    h.store.config.set(['services', 'B', 'lifecycle', 'run'], 'echo B@half >> "$TOP/started"; exec sleep 60');
    await h.store.sync();
    const root = h.root;
    await h.close();
    // (this harness's reconciler, unlike the nucleus's, does not wait for a transaction's end)
    const before = started(h).length;
    h = await openHarness({ root, engine: { builtinServices: ['main', 'DeploymentService'] } });
    expect(existsSync(path.join(dir, ACTIVATION_MARKER)), 'the marker is cleared').to.equal(false);
    expect(h.store.config.find(['services', 'B']), 'B from the torn write is gone').to.equal(undefined);
    expect(h.store.config.get(['services', 'A', 'version'])).to.equal('1.0.0');
    const o = await h.engine.runNext();
    expect(o?.status).to.equal('SUCCEEDED');
    expect(h.store.config.get(['services', 'A', 'version'])).to.equal('2.0.0');
    expect(stateOf(h, 'B')).to.equal('RUNNING');
    const after = started(h).slice(before);
    expect(after[0], 'the boot started the tree from before the deployment').to.equal('A@1.0.0');
    expect(after.slice(1).sort(), 'the half-written B never ran').to.deep.equal(['A@2.0.0', 'B@1.0.0']);
    expect(statusesOf('d4')).to.deep.equal(['IN_PROGRESS', 'SUCCEEDED']);
  });
});
