// A status record that a kill -9 cut short: the outbox entry's interior node reached the tlog but
// not its fields (a record's lines can span two tlog batches). Found by the fault campaign
// (faults/kill9.ts): the empty entry stopped every flush, so no later status reached the cloud.
// After a reopen of the store, the torn entry is dropped and the statuses after it are delivered
// in order [DP-68][DP-69].
import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ConfigStore } from '../../../src/config/index.js';
import {
  PROCESSED_DEPLOYMENTS_PATH,
  StatusOutbox,
  type ProcessedDeployment,
} from '../../../src/deployment/index.js';

const status = (id: string, s: 'IN_PROGRESS' | 'SUCCEEDED'): ProcessedDeployment => ({
  DeploymentId: id,
  GreengrassDeploymentId: id,
  ConfigurationArn: 'arn:aws:greengrass:us-east-1:123456789012:configuration:thinggroup/G:1',
  DeploymentType: 'IOT_JOBS',
  DeploymentStatus: s,
  DeploymentStatusDetails: {},
  DeploymentRootPackages: ['A'],
});

describe('status outbox: a crash inside a record, overlapping flushes', () => {
  let root: string;
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('[DP-68][DP-69] drops an entry whose fields never became durable and delivers the statuses after it', async () => {
    root = mkdtempSync(path.join(tmpdir(), 'tendril-outbox-'));
    let store = await ConfigStore.open({ root, effectiveConfigDebounceMs: 0 });
    // what the tlog holds after the crash: the entry's interior node, then two complete records
    await store.merge({}, { at: [...PROCESSED_DEPLOYMENTS_PATH, '1000'] });
    await new StatusOutbox(store, []).record(status('d1', 'IN_PROGRESS'));
    await new StatusOutbox(store, []).record(status('d1', 'SUCCEEDED'));
    await store.close();

    store = await ConfigStore.open({ root, effectiveConfigDebounceMs: 0 });
    const delivered: string[] = [];
    // keyed by deployment id, as the nucleus's local history consumer stores statuses
    const history = {
      name: 'history',
      report: async (s: ProcessedDeployment) => {
        await store.merge({ status: s.DeploymentStatus }, { at: ['history', s.DeploymentId] });
        delivered.push(`${s.DeploymentId} ${s.DeploymentStatus}`);
        return true;
      },
    };
    const outbox = new StatusOutbox(store, [history]);
    expect(outbox.pending().map((p) => p.key)[0]).to.equal('1000');
    expect(await outbox.flush()).to.equal(2);
    expect(delivered).to.deep.equal(['d1 IN_PROGRESS', 'd1 SUCCEEDED']);
    expect(outbox.pending()).to.deep.equal([]);
    await store.close();
  });

  it('[DP-64][DP-69] a flush asked for while one is under way delivers the status stored meanwhile', async () => {
    root = mkdtempSync(path.join(tmpdir(), 'tendril-outbox-'));
    const store = await ConfigStore.open({ root, effectiveConfigDebounceMs: 0 });
    const delivered: string[] = [];
    let release!: () => void;
    const slow = new Promise<void>((r) => (release = r));
    const jobs = {
      name: 'jobs',
      report: async (s: ProcessedDeployment) => {
        if (s.DeploymentStatus === 'IN_PROGRESS') await slow; // the broker is slow to answer
        delivered.push(`${s.DeploymentId} ${s.DeploymentStatus}`);
        return true;
      },
    };
    const outbox = new StatusOutbox(store, [jobs]);
    await outbox.record(status('d1', 'IN_PROGRESS'));
    const first = outbox.flush(); // the engine's flush at IN_PROGRESS, still delivering
    await outbox.record(status('d1', 'SUCCEEDED')); // the deployment ended meanwhile
    const second = outbox.flush();
    release();
    await Promise.all([first, second]);
    expect(delivered).to.deep.equal(['d1 IN_PROGRESS', 'd1 SUCCEEDED']);
    expect(outbox.pending()).to.deep.equal([]);
    await store.close();
  });
});
