import { expect } from 'chai';
import { applyShadowUpdate, deltaOf, ShadowError } from '../../../src/localcloud/device/shadow-document.js';
import { devicePolicyProblem, filterCovers } from '../../../src/localcloud/device/policy.js';
import {
  embeddedDeploymentDocument,
  fullDeploymentDocument,
} from '../../../src/localcloud/device/deployment-document.js';
import type { DeploymentRecord } from '../../../src/localcloud/index.js';

const arn = { partition: 'aws', region: 'us-east-1', accountId: '123456789012' };

describe('localcloud device side: pure rules', () => {
  describe('topic policy', () => {
    it('covers a topic or filter only when every topic it can match is allowed', () => {
      expect(filterCovers('$aws/things/T/#', '$aws/things/T/jobs/x/get')).to.equal(true);
      expect(filterCovers('$aws/things/T/#', '$aws/things/T')).to.equal(true);
      expect(filterCovers('$aws/things/T/#', '$aws/things/U/jobs')).to.equal(false);
      expect(filterCovers('$aws/things/T/#', '$aws/things/+/jobs')).to.equal(false);
      expect(filterCovers('$aws/things/T/#', '#')).to.equal(false);
      expect(filterCovers('a/+/c', 'a/b/c')).to.equal(true);
      expect(filterCovers('a/+/c', 'a/#')).to.equal(false);
      expect(filterCovers('#', '$aws/things/T')).to.equal(false); // [MQTT 4.7.2]
      expect(filterCovers('#', 'app/data')).to.equal(true);
    });

    it('names a malformed policy entry', () => {
      expect(devicePolicyProblem({ publish: ['a/#/b'], subscribe: [] })).to.contain('policy.publish[0]');
      expect(devicePolicyProblem({ publish: [], subscribe: ['a+/b'] })).to.contain('policy.subscribe[0]');
      expect(devicePolicyProblem({ publish: ['a/#'], subscribe: ['+/b'] })).to.equal(undefined);
    });
  });

  describe('shadow documents', () => {
    it('merges, deletes with null, versions and computes the delta', () => {
      const r1 = applyShadowUpdate(undefined, 'T', '', { state: { desired: { a: 1, b: { c: 2 } } } }, 5000);
      expect(r1.next.version).to.equal(1);
      expect(deltaOf(r1.next.state)).to.deep.equal({ a: 1, b: { c: 2 } });
      const r2 = applyShadowUpdate(
        r1.next,
        'T',
        '',
        { state: { reported: { a: 1, b: { c: 3 } } }, version: 1 },
        6000,
      );
      expect(r2.next.version).to.equal(2);
      expect(deltaOf(r2.next.state)).to.deep.equal({ b: { c: 2 } });
      const r3 = applyShadowUpdate(r2.next, 'T', '', { state: { desired: { b: null } } }, 7000);
      expect(r3.next.state.desired).to.deep.equal({ a: 1 });
      expect(deltaOf(r3.next.state)).to.equal(undefined);
      expect(r3.written).to.deep.equal({
        state: { desired: { b: null } },
        metadata: { desired: { b: { timestamp: 7 } } },
      });
    });

    it('refuses a stale version and bad sections with the shadow service codes', () => {
      const r1 = applyShadowUpdate(undefined, 'T', '', { state: { desired: { a: 1 } } }, 0);
      const err = (f: () => unknown) => {
        try {
          f();
        } catch (e) {
          return e as ShadowError;
        }
        throw new Error('accepted');
      };
      expect(err(() => applyShadowUpdate(r1.next, 'T', '', { state: {}, version: 9 }, 0))).to.include({
        code: 409,
        message: 'Version conflict',
      });
      expect(
        err(() => applyShadowUpdate(r1.next, 'T', '', { state: { desired: [] } }, 0)).message,
      ).to.contain('state.desired');
      expect(err(() => applyShadowUpdate(r1.next, 'T', '', { version: 1 }, 0)).message).to.contain('state');
    });
  });

  describe('deployment document [CP-65] [DP-05]..[DP-20] [DP-27]', () => {
    const d: DeploymentRecord = {
      deploymentId: 'dep-1',
      targetArn: 'arn:aws:iot:us-east-1:123456789012:thinggroup/G',
      revisionId: '3',
      deploymentName: 'n',
      deploymentStatus: 'ACTIVE',
      iotJobId: 'job-1',
      spec: {
        components: {
          A: {
            componentVersion: '1.0.0',
            configurationUpdate: { merge: '{"x":{"y":1}}', reset: ['/z'] },
            runWith: { posixUser: 'u:g', systemResourceLimits: { memory: 1024, cpus: 0.5 } },
          },
        },
        deploymentPolicies: {
          failureHandlingPolicy: 'DO_NOTHING',
          componentUpdatePolicy: { timeoutInSeconds: 30, action: 'SKIP_NOTIFY_COMPONENTS' },
          configurationValidationPolicy: { timeoutInSeconds: 20 },
        },
      },
      createdMs: 1604067741583,
      isLatestForTarget: true,
      parentTargetArn: 'arn:aws:iot:us-east-1:123456789012:thinggroup/Parent',
    };

    it('flattens policies, parses merge, and lists the capabilities it needs', () => {
      expect(fullDeploymentDocument(arn, d)).to.deep.equal({
        deploymentId: 'dep-1',
        configurationArn: 'arn:aws:greengrass:us-east-1:123456789012:configuration:thinggroup/G:3',
        deploymentName: 'n',
        schemaDate: '2021-05-17',
        creationTimestamp: 1604067741583,
        components: {
          A: {
            version: '1.0.0',
            configurationUpdate: { merge: { x: { y: 1 } }, reset: ['/z'] },
            runWith: { posixUser: 'u:g', systemResourceLimits: { memory: 1024, cpus: 0.5 } },
          },
        },
        failureHandlingPolicy: 'DO_NOTHING',
        componentUpdatePolicy: { timeout: 30, action: 'SKIP_NOTIFY_COMPONENTS' },
        configurationValidationPolicy: { timeout: 20 },
        requiredCapabilities: ['LINUX_RESOURCE_LIMITS', 'SUB_DEPLOYMENTS'],
        parentTargetArn: 'arn:aws:iot:us-east-1:123456789012:thinggroup/Parent',
        onBehalfOf: 'arn:aws:iot:us-east-1:123456789012:thinggroup/G',
      });
    });

    it('truncates to names and versions with LARGE_CONFIGURATION above the limit', () => {
      const small = embeddedDeploymentDocument(arn, d, 100);
      expect(small.components).to.deep.equal({ A: { version: '1.0.0' } });
      expect(small.requiredCapabilities).to.include('LARGE_CONFIGURATION');
      expect(embeddedDeploymentDocument(arn, d, 31 * 1024)).to.deep.equal(fullDeploymentDocument(arn, d));
    });
  });
});
