import { expect } from 'chai';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DeploymentQueue, replacesQueued, type QueuedDeployment } from '../../../src/deployment/index.js';

const job = (id: string, extra: Partial<QueuedDeployment> = {}): QueuedDeployment => ({
  id,
  type: 'IOT_JOBS',
  stage: 'DEFAULT',
  document: { deploymentId: id },
  ...extra,
});

describe('DeploymentQueue', () => {
  let root: string;
  beforeEach(() => {
    root = mkdtempSync(path.join(tmpdir(), 'tendril-queue-'));
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('[DP-03] keeps insertion order and ignores a duplicate id', async () => {
    const q = await DeploymentQueue.open(root);
    expect(await q.offer(job('a'))).to.equal('queued');
    expect(await q.offer(job('b'))).to.equal('queued');
    expect(await q.offer(job('a', { document: { other: true } }))).to.equal('ignored');
    expect(q.entries().map((e) => e.id)).to.deep.equal(['a', 'b']);
    expect(q.peek()?.document).to.deep.equal({ deploymentId: 'a' });
  });

  it('[DP-03] SHADOW deployments share one slot: the newest replaces the queued one in place', async () => {
    const q = await DeploymentQueue.open(root);
    await q.offer({ id: 'arn:1', type: 'SHADOW', stage: 'DEFAULT' });
    await q.offer(job('j'));
    expect(await q.offer({ id: 'arn:2', type: 'SHADOW', stage: 'DEFAULT' })).to.equal('replaced');
    expect(q.entries().map((e) => e.id)).to.deep.equal(['arn:2', 'j']);
  });

  it('[DP-03] a cancellation or a non-DEFAULT offer replaces a queued DEFAULT entry; a non-DEFAULT one is never replaced', async () => {
    const q = await DeploymentQueue.open(root);
    await q.offer(job('a'));
    expect(await q.offer(job('a', { cancelled: true }))).to.equal('replaced');
    expect(q.peek()?.cancelled).to.equal(true);
    await q.offer(job('b'));
    expect(await q.offer(job('b', { stage: 'KERNEL_ACTIVATION' }))).to.equal('replaced');
    expect(await q.offer(job('b', { cancelled: true }))).to.equal('ignored');
    expect(q.entries()[1].stage).to.equal('KERNEL_ACTIVATION');
    expect(replacesQueued(job('x', { stage: 'BOOTSTRAP' }), { ...job('x'), type: 'SHADOW' })).to.equal(false);
  });

  it('[DP-03] is bounded and counts refused offers', async () => {
    const q = await DeploymentQueue.open(root, { maxEntries: 2 });
    await q.offer(job('a'));
    await q.offer(job('b'));
    expect(await q.offer(job('c'))).to.equal('full');
    expect(q.dropped).to.equal(1);
    expect(q.size).to.equal(2);
  });

  it('refuses a malformed entry with a precise error and changes nothing', async () => {
    const q = await DeploymentQueue.open(root);
    let err: unknown;
    try {
      await q.offer({ id: 'x', type: 'BOGUS' as never, stage: 'DEFAULT' });
    } catch (e) {
      err = e;
    }
    expect((err as Error).message).to.match(/type must be one of IOT_JOBS, SHADOW, LOCAL, got BOGUS/);
    expect(q.size).to.equal(0);
    expect(readdirSync(q.dir)).to.deep.equal([]);
  });

  it('[DP-03] an acknowledged offer survives reopening, in order, and a removed one does not', async () => {
    const q = await DeploymentQueue.open(root);
    await q.offer(job('a'));
    await q.offer(job('b'));
    await q.offer(job('c'));
    expect(await q.remove(job('a'))).to.equal(true);
    await q.offer({ id: 'arn:s', type: 'SHADOW', stage: 'DEFAULT' });
    // a torn, never-acknowledged write left behind is skipped
    writeFileSync(path.join(q.dir, '000000000099.json'), '{"id":');
    const again = await DeploymentQueue.open(root);
    expect(again.entries().map((e) => e.id)).to.deep.equal(['b', 'c', 'arn:s']);
    expect(await again.offer(job('d'))).to.equal('queued');
    const third = await DeploymentQueue.open(root);
    expect(third.entries().map((e) => e.id)).to.deep.equal(['b', 'c', 'arn:s', 'd']);
  });

  it('waitForEntry resolves on the next offer', async () => {
    const q = await DeploymentQueue.open(root);
    let woke = false;
    const w = q.waitForEntry().then(() => (woke = true));
    await Promise.resolve();
    expect(woke).to.equal(false);
    await q.offer(job('a'));
    await w;
    expect(woke).to.equal(true);
  });
});
