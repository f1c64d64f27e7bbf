import {
  CancelDeploymentCommand,
  CreateComponentVersionCommand,
  CreateDeploymentCommand,
  DeleteDeploymentCommand,
  GetDeploymentCommand,
  ListDeploymentsCommand,
  type CreateDeploymentCommandInput,
} from '@aws-sdk/client-greengrassv2';
import { expect } from 'chai';
import type { DeploymentRecord } from '../../../src/localcloud/index.js';
import { expectServiceError, recipeBytes, simpleRecipe, startHarness, type Harness } from './helpers.js';

const GROUP = 'arn:aws:iot:us-east-1:123456789012:thinggroup/Fleet';
const THING = 'arn:aws:iot:us-east-1:123456789012:thing/Core1';

describe('localcloud deployments', function () {
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness();
    await h.client.send(
      new CreateComponentVersionCommand({
        inlineRecipe: recipeBytes(simpleRecipe('com.example.App', '1.0.0')),
      }),
    );
  });
  afterEach(async () => {
    await h.close();
  });
  const deploy = (input: Partial<CreateDeploymentCommandInput> = {}) =>
    h.client.send(
      new CreateDeploymentCommand({
        targetArn: GROUP,
        deploymentName: 'fleet',
        components: {
          'com.example.App': {
            componentVersion: '1.0.0',
            configurationUpdate: { merge: '{"level":"debug"}', reset: ['/old'] },
            runWith: { posixUser: 'ggc_user', systemResourceLimits: { memory: 1024, cpus: 0.5 } },
          },
        },
        ...input,
      }),
    );

  describe('CreateDeployment, GetDeployment [CP-28] [CP-38]', () => {
    it('creates a thing-group deployment (201) with an IoT job, and returns it whole', async () => {
      const created: DeploymentRecord[] = [];
      h.cloud.events.on('deploymentCreated', (d) => created.push(d));
      const out = await deploy({
        deploymentPolicies: {
          failureHandlingPolicy: 'ROLLBACK',
          componentUpdatePolicy: { timeoutInSeconds: 60, action: 'NOTIFY_COMPONENTS' },
        },
        tags: { env: 'test' },
      });
      expect(out.$metadata.httpStatusCode).to.equal(201);
      expect(out.iotJobArn).to.equal(`arn:aws:iot:us-east-1:123456789012:job/${out.iotJobId}`);
      expect(created.map((d) => d.deploymentId)).to.deep.equal([out.deploymentId]);
      const d = await h.client.send(new GetDeploymentCommand({ deploymentId: out.deploymentId }));
      expect(d).to.include({
        targetArn: GROUP,
        revisionId: '1',
        deploymentName: 'fleet',
        deploymentStatus: 'ACTIVE',
        isLatestForTarget: true,
        iotJobId: out.iotJobId,
      });
      expect(d.components!['com.example.App'].configurationUpdate?.merge).to.equal('{"level":"debug"}');
      expect(d.components!['com.example.App'].runWith?.systemResourceLimits).to.deep.equal({
        memory: 1024,
        cpus: 0.5,
      });
      expect(d.deploymentPolicies?.componentUpdatePolicy?.timeoutInSeconds).to.equal(60);
      expect(d.creationTimestamp).to.be.instanceOf(Date);
      expect(d.tags).to.deep.equal({ env: 'test' });
    });

    it('deploys to a single thing without an IoT job (CP-64)', async () => {
      const out = await deploy({ targetArn: THING });
      expect(out.deploymentId).to.be.a('string');
      expect(out.iotJobId).to.equal(undefined);
    });

    it('makes a new deployment for the same target its next revision; the old one goes INACTIVE', async () => {
      const first = await deploy();
      const second = await deploy();
      const old = await h.client.send(new GetDeploymentCommand({ deploymentId: first.deploymentId }));
      expect(old).to.include({ deploymentStatus: 'INACTIVE', isLatestForTarget: false });
      const cur = await h.client.send(new GetDeploymentCommand({ deploymentId: second.deploymentId }));
      expect(cur).to.include({ revisionId: '2', isLatestForTarget: true, deploymentStatus: 'ACTIVE' });
    });

    it('refuses bad input naming the field, and creates nothing', async () => {
      const cases: [Partial<CreateDeploymentCommandInput>, string][] = [
        [{ targetArn: undefined }, 'targetArn'],
        [{ targetArn: 'arn:aws:iot:us-east-1:123456789012:policy/x' }, 'targetArn'],
        [{ deploymentName: '' }, 'deploymentName'],
        [
          {
            components: {
              'com.example.App': { componentVersion: '1.0.0', configurationUpdate: { merge: '{bad' } },
            },
          },
          'components.com.example.App.configurationUpdate.merge',
        ],
        [
          { components: { 'com.example.App': {} as { componentVersion: string } } },
          'components.com.example.App.componentVersion',
        ],
        [
          { deploymentPolicies: { failureHandlingPolicy: 'EXPLODE' as 'ROLLBACK' } },
          'deploymentPolicies.failureHandlingPolicy',
        ],
        [
          {
            iotJobConfiguration: {
              abortConfig: {
                criteriaList: [
                  {
                    failureType: 'FAILED',
                    action: 'CANCEL',
                    thresholdPercentage: 150,
                    minNumberOfExecutedThings: 1,
                  },
                ],
              },
            },
          },
          'iotJobConfiguration.abortConfig.criteriaList[0].thresholdPercentage',
        ],
        [{ parentTargetArn: THING }, 'parentTargetArn'],
      ];
      for (const [input, field] of cases)
        await expectServiceError(deploy(input), 'ValidationException', field);
      const list = await h.client.send(new ListDeploymentsCommand({ historyFilter: 'ALL' }));
      expect(list.deployments).to.deep.equal([]);
    });

    it('answers ResourceNotFoundException for a component version that does not exist', async () => {
      await expectServiceError(
        deploy({ components: { 'com.example.Nope': { componentVersion: '9.9.9' } } }),
        'ResourceNotFoundException',
      );
    });

    it('is idempotent per clientToken; a different body with the same token conflicts [CP-08]', async () => {
      const a = await deploy({ clientToken: 'dep-token' });
      const b = await deploy({ clientToken: 'dep-token' });
      expect(b.deploymentId).to.equal(a.deploymentId);
      await expectServiceError(
        deploy({ clientToken: 'dep-token', deploymentName: 'other' }),
        'ConflictException',
      );
      const list = await h.client.send(new ListDeploymentsCommand({ historyFilter: 'ALL' }));
      expect(list.deployments).to.have.length(1);
    });

    it('answers ResourceNotFoundException for an unknown deployment', async () => {
      await expectServiceError(
        h.client.send(new GetDeploymentCommand({ deploymentId: 'nope' })),
        'ResourceNotFoundException',
      );
    });
  });

  describe('ListDeployments [CP-44]', () => {
    it('filters by target and history, newest first, across pages', async () => {
      const g1 = await deploy();
      const t1 = await deploy({ targetArn: THING });
      const g2 = await deploy();
      const latest = await h.client.send(new ListDeploymentsCommand({}));
      expect(latest.deployments!.map((d) => d.deploymentId)).to.deep.equal([
        g2.deploymentId,
        t1.deploymentId,
      ]);
      const all = await h.client.send(new ListDeploymentsCommand({ historyFilter: 'ALL', targetArn: GROUP }));
      expect(all.deployments!.map((d) => d.deploymentId)).to.deep.equal([g2.deploymentId, g1.deploymentId]);
      const p1 = await h.client.send(new ListDeploymentsCommand({ historyFilter: 'ALL', maxResults: 2 }));
      const p2 = await h.client.send(
        new ListDeploymentsCommand({ historyFilter: 'ALL', maxResults: 2, nextToken: p1.nextToken }),
      );
      expect(p1.deployments).to.have.length(2);
      expect(p2.deployments!.map((d) => d.deploymentId)).to.deep.equal([g1.deploymentId]);
      expect(p2.nextToken).to.equal(undefined);
    });

    it('refuses a bad filter, target ARN or maxResults', async () => {
      await expectServiceError(
        h.client.send(new ListDeploymentsCommand({ historyFilter: 'SOME' as 'ALL' })),
        'ValidationException',
        'historyFilter',
      );
      await expectServiceError(
        h.client.send(new ListDeploymentsCommand({ targetArn: 'arn:nope' })),
        'ValidationException',
        'targetArn',
      );
      await expectServiceError(
        h.client.send(new ListDeploymentsCommand({ maxResults: 500 })),
        'ValidationException',
        'maxResults',
      );
    });
  });

  describe('CancelDeployment, DeleteDeployment [CP-26] [CP-31]', () => {
    it('cancels an ACTIVE deployment once; a second cancel conflicts', async () => {
      const canceled: string[] = [];
      h.cloud.events.on('deploymentCanceled', (d) => canceled.push(d.deploymentId));
      const d = await deploy();
      const out = await h.client.send(new CancelDeploymentCommand({ deploymentId: d.deploymentId }));
      expect(out.message).to.contain(d.deploymentId);
      expect(canceled).to.deep.equal([d.deploymentId]);
      const got = await h.client.send(new GetDeploymentCommand({ deploymentId: d.deploymentId }));
      expect(got.deploymentStatus).to.equal('CANCELED');
      await expectServiceError(
        h.client.send(new CancelDeploymentCommand({ deploymentId: d.deploymentId })),
        'ConflictException',
      );
      await expectServiceError(
        h.client.send(new CancelDeploymentCommand({ deploymentId: 'nope' })),
        'ResourceNotFoundException',
      );
    });

    it('deletes only a deployment that is no longer ACTIVE (204)', async () => {
      const d = await deploy();
      await expectServiceError(
        h.client.send(new DeleteDeploymentCommand({ deploymentId: d.deploymentId })),
        'ConflictException',
      );
      await h.client.send(new CancelDeploymentCommand({ deploymentId: d.deploymentId }));
      const out = await h.client.send(new DeleteDeploymentCommand({ deploymentId: d.deploymentId }));
      expect(out.$metadata.httpStatusCode).to.equal(204);
      await expectServiceError(
        h.client.send(new GetDeploymentCommand({ deploymentId: d.deploymentId })),
        'ResourceNotFoundException',
      );
    });
  });
});
