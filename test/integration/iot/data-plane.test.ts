import { CreateComponentVersionCommand } from '@aws-sdk/client-greengrassv2';
import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { readFileSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { DataPlaneClient, DataPlaneError, downloadArtifact } from '../../../src/iot/index.js';
import type { ProvisionResult } from '../../../src/localcloud/index.js';
import { startCloudHarness, type CloudHarness } from './helpers.js';

describe('iot: data-plane client against the local cloud', function () {
  this.timeout(30000);
  let h: CloudHarness;
  let thing: ProvisionResult;
  let client: DataPlaneClient;
  const content = Buffer.alloc(300_000, 'tendril artifact bytes ');
  const digest = createHash('sha256').update(content).digest('base64');

  before(async () => {
    h = await startCloudHarness();
    const q = new URLSearchParams({
      uri: 'greengrass:big.bin',
      componentName: 'com.example.Big',
      componentVersion: '1.0.0',
    });
    const res = await fetch(`${h.cloud.endpoint}/tendril/artifacts?${q}`, { method: 'PUT', body: content });
    expect(res.status).to.equal(200);
    const recipe = {
      RecipeFormatVersion: '2020-01-25',
      ComponentName: 'com.example.Big',
      ComponentVersion: '1.0.0',
      Manifests: [
        { Platform: { os: 'linux' }, Lifecycle: { Run: 'true' }, Artifacts: [{ Uri: 'greengrass:big.bin' }] },
      ],
    };
    await h.client.send(
      new CreateComponentVersionCommand({ inlineRecipe: Buffer.from(JSON.stringify(recipe)) }),
    );
    thing = await h.cloud.provision({
      thingName: 'dp-core',
      thingGroup: 'dp-group',
      outDir: join(h.dir, 'device'),
    });
    client = new DataPlaneClient({
      host: h.cloud.device.deviceHost,
      port: h.cloud.device.dataPlanePort,
      certificatePath: thing.certificatePath,
      privateKeyPath: thing.privateKeyPath,
      rootCaPath: thing.rootCaPath,
      thingName: 'dp-core',
      maxAttempts: 1,
    });
  });
  after(async () => {
    client?.close();
    await h?.close();
  });

  it('[CL-22] [CL-24] [CL-25] resolves one candidate with the platform and exact requirement; the recipe carries the digest', async () => {
    const r = await client.resolveComponent(
      'com.example.Big',
      { 'thinggroup/dp-group': '=1.0.0' },
      { os: 'linux', architecture: 'amd64' },
    );
    expect(r.componentVersion).to.equal('1.0.0');
    expect(r.arn).to.match(/:components:com\.example\.Big:versions:1\.0\.0$/);
    const recipe = JSON.parse(r.recipe) as { Manifests: Array<{ Artifacts: Array<{ Digest: string }> }> };
    expect(recipe.Manifests[0].Artifacts[0].Digest).to.equal(digest);
  });

  it('[CL-26] a component with no usable version is a 404 DataPlaneError naming the component', async () => {
    const e = await client.resolveComponent('com.example.Nope', {}, { os: 'linux' }).then(
      () => undefined,
      (x: unknown) => x,
    );
    expect(e).to.be.instanceOf(DataPlaneError);
    expect((e as DataPlaneError).status).to.equal(404);
    expect((e as Error).message).to.contain('com.example.Nope');
  });

  it('[CL-32] lists the thing groups of the core device', async () => {
    expect(await client.thingGroups()).to.deep.equal(['dp-group']);
  });

  it('[CL-29] [CL-37] [CL-38] resumes a partial download with Range, verifies the digest, and skips a file already complete', async () => {
    const r = await client.resolveComponent('com.example.Big', {}, { os: 'linux' });
    const dir = join(h.dir, 'dl');
    mkdirSync(dir);
    const file = join(dir, 'big.bin');
    writeFileSync(file, content.subarray(0, 123_457)); // a download cut short
    const urls: string[] = [];
    const url = async () => {
      const u = await client.artifactUrl(r.arn, 'big.bin');
      urls.push(u);
      return u;
    };
    expect(await downloadArtifact({ url, file, digest, algorithm: 'sha256' })).to.equal('downloaded');
    expect(readFileSync(file).equals(content)).to.equal(true);
    expect(urls).to.have.length(1);
    expect(await downloadArtifact({ url, file, digest, algorithm: 'sha256' })).to.equal('cached');
    expect(urls).to.have.length(1);
  });

  it('[CL-38] a digest mismatch deletes the file and fails with ARTIFACT_CHECKSUM_MISMATCH', async () => {
    const r = await client.resolveComponent('com.example.Big', {}, { os: 'linux' });
    const file = join(h.dir, 'dl', 'bad.bin');
    const e = await downloadArtifact({
      url: () => client.artifactUrl(r.arn, 'big.bin'),
      file,
      digest: createHash('sha256').update('something else').digest('base64'),
      algorithm: 'sha256',
      attempts: 2,
    }).then(
      () => undefined,
      (x: unknown) => x as { code: string },
    );
    expect(e?.code).to.equal('ARTIFACT_CHECKSUM_MISMATCH');
    expect(() => statSync(file)).to.throw();
  });
});
