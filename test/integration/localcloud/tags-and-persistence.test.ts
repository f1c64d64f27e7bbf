import {
  CreateComponentVersionCommand,
  CreateDeploymentCommand,
  DescribeComponentCommand,
  GetDeploymentCommand,
  ListTagsForResourceCommand,
  TagResourceCommand,
  UntagResourceCommand,
} from '@aws-sdk/client-greengrassv2';
import { expect } from 'chai';
import { expectServiceError, recipeBytes, simpleRecipe, startHarness, type Harness } from './helpers.js';

describe('localcloud tags, persistence and protocol', function () {
  let h: Harness;
  let componentArn: string;
  beforeEach(async () => {
    h = await startHarness();
    const out = await h.client.send(
      new CreateComponentVersionCommand({
        inlineRecipe: recipeBytes(simpleRecipe('com.example.Tag', '1.0.0')),
      }),
    );
    componentArn = out.arn!;
  });
  afterEach(async () => {
    await h.close();
  });

  describe('TagResource, UntagResource, ListTagsForResource [CP-47] [CP-49] [CP-50]', () => {
    it('adds, lists and removes tags (repeated tagKeys query [CP-04])', async () => {
      await h.client.send(
        new TagResourceCommand({ resourceArn: componentArn, tags: { a: '1', b: '2', c: '3' } }),
      );
      expect(
        (await h.client.send(new ListTagsForResourceCommand({ resourceArn: componentArn }))).tags,
      ).to.deep.equal({
        a: '1',
        b: '2',
        c: '3',
      });
      await h.client.send(new UntagResourceCommand({ resourceArn: componentArn, tagKeys: ['a', 'c'] }));
      expect(
        (await h.client.send(new ListTagsForResourceCommand({ resourceArn: componentArn }))).tags,
      ).to.deep.equal({
        b: '2',
      });
      const d = await h.client.send(new DescribeComponentCommand({ arn: componentArn }));
      expect(d.tags).to.deep.equal({ b: '2' });
    });

    it('refuses bad ARNs, reserved keys and missing members; unknown resources are not found', async () => {
      await expectServiceError(
        h.client.send(new ListTagsForResourceCommand({ resourceArn: 'arn:aws:iot:us-east-1:1:thing/x' })),
        'ValidationException',
        'resourceArn',
      );
      await expectServiceError(
        h.client.send(new TagResourceCommand({ resourceArn: componentArn, tags: { 'aws:x': 'y' } })),
        'ValidationException',
        'tags',
      );
      await expectServiceError(
        h.client.send(new TagResourceCommand({ resourceArn: componentArn, tags: undefined as never })),
        'ValidationException',
        'tags',
      );
      await expectServiceError(
        h.client.send(new UntagResourceCommand({ resourceArn: componentArn, tagKeys: [] })),
        'ValidationException',
        'tagKeys',
      );
      await expectServiceError(
        h.client.send(
          new TagResourceCommand({
            resourceArn: 'arn:aws:greengrass:us-east-1:123456789012:deployments:nope',
            tags: { a: 'b' },
          }),
        ),
        'ResourceNotFoundException',
      );
      expect(
        (await h.client.send(new ListTagsForResourceCommand({ resourceArn: componentArn }))).tags,
      ).to.deep.equal({});
    });
  });

  describe('persistence', () => {
    it('keeps components, deployments and tags across a restart on the same data directory', async () => {
      await h.client.send(new TagResourceCommand({ resourceArn: componentArn, tags: { keep: 'me' } }));
      const dep = await h.client.send(
        new CreateDeploymentCommand({
          targetArn: 'arn:aws:iot:us-east-1:123456789012:thing/Core1',
          components: { 'com.example.Tag': { componentVersion: '1.0.0' } },
          clientToken: 'persist-1',
        }),
      );
      await h.restart();
      const d = await h.client.send(new DescribeComponentCommand({ arn: componentArn }));
      expect(d.status?.componentState).to.equal('DEPLOYABLE');
      expect(d.tags).to.deep.equal({ keep: 'me' });
      const g = await h.client.send(new GetDeploymentCommand({ deploymentId: dep.deploymentId }));
      expect(g.deploymentStatus).to.equal('ACTIVE');
      // The idempotency record survives too.
      const again = await h.client.send(
        new CreateDeploymentCommand({
          targetArn: 'arn:aws:iot:us-east-1:123456789012:thing/Core1',
          components: { 'com.example.Tag': { componentVersion: '1.0.0' } },
          clientToken: 'persist-1',
        }),
      );
      expect(again.deploymentId).to.equal(dep.deploymentId);
    });
  });

  describe('protocol [CP-11] [CP-12] [CP-13]', () => {
    it('sends x-amzn-errortype and x-amzn-RequestId, and refuses unknown routes and bad JSON', async () => {
      const unknown = await fetch(`${h.cloud.endpoint}/greengrass/v2/nothing`);
      expect(unknown.status).to.equal(400);
      expect(unknown.headers.get('x-amzn-errortype')).to.equal('ValidationException');
      expect(unknown.headers.get('x-amzn-requestid')).to.be.a('string');
      expect(((await unknown.json()) as { reason: string }).reason).to.equal('UNKNOWN_OPERATION');
      const bad = await fetch(`${h.cloud.endpoint}/greengrass/v2/deployments`, {
        method: 'POST',
        body: '{nope',
      });
      expect(bad.status).to.equal(400);
      expect(((await bad.json()) as { reason: string }).reason).to.equal('CANNOT_PARSE');
      const nf = await fetch(`${h.cloud.endpoint}/greengrass/v2/deployments/none`);
      expect(nf.status).to.equal(404);
      expect(nf.headers.get('x-amzn-errortype')).to.equal('ResourceNotFoundException');
      expect(await nf.json()).to.include({ resourceId: 'none', resourceType: 'deployment' });
    });
  });
});
