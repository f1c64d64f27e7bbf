// The nucleus in the cloud, end to end: the local cloud (control plane, mTLS data plane, aedes MQTT
// broker with jobs and shadows), the unmodified @aws-sdk/client-greengrassv2 creating component
// versions and deployments, and the real nucleus receiving them over MQTT, resolving and downloading
// through the data plane, running the components, and reporting back.
import { CreateDeploymentCommand } from '@aws-sdk/client-greengrassv2';
import { expect } from 'chai';
import { join } from 'node:path';
import { repoRoot } from '../support/daemon.js';
import {
  createExampleComponents,
  expectGroupHelloDeployment,
  startCloudNucleus,
  type CloudNucleus,
} from '../support/cloud-deployment.js';
import { stageNodeModules } from '../../src/cli/stage-node-modules.js';
import { eventually, startCloudHarness, type CloudHarness } from '../integration/iot/helpers.js';

const THING = 'cloud-core';
const GROUP_ARN = 'arn:aws:iot:us-east-1:123456789012:thinggroup/cloud-fleet';
const THING_ARN = `arn:aws:iot:us-east-1:123456789012:thing/${THING}`;

describe('e2e: cloud deployments from the local cloud to the nucleus', function () {
  this.timeout(90000);
  let h: CloudHarness;
  let n: CloudNucleus | undefined;

  /** The SDK for the Node example components, readable by their user (nobody). */
  const sdkPath = () =>
    stageNodeModules(join(repoRoot, 'node_modules'), ['aws-iot-device-sdk-v2'], join(h.dir, 'node_modules'));

  before(async function () {
    if (process.getuid?.() !== 0) {
      console.log('      skipped: needs root to run components as nobody');
      this.skip();
    }
    h = await startCloudHarness();
    await createExampleComponents(h, [
      ['com.example.HelloWorld', 'hello.sh'],
      ['com.example.Publisher', 'publisher.cjs'],
    ]);
    n = await startCloudNucleus(h, THING, 'cloud-fleet');
  });
  after(async () => {
    await n?.stop();
    n = undefined;
    await h?.close();
  });

  it('[CL-06] [CL-13] [CL-24] [CL-29] [CL-37] [CL-46] [CL-53] a thing-group deployment arrives as a job, is fetched through the data plane, runs, and the SDK sees SUCCEEDED, the component and a HEALTHY core', async () => {
    await expectGroupHelloDeployment(h, n!, GROUP_ARN, 'group-hello', 'Hi from the cloud');
  });

  it('[DP-77] [DP-80] [DP-82] a thing deployment arrives through the named shadow and is reported COMPLETED', async () => {
    const created = await h.client.send(
      new CreateDeploymentCommand({
        targetArn: THING_ARN,
        deploymentName: 'thing-publisher',
        components: {
          'com.example.Publisher': {
            componentVersion: '1.0.0',
            configurationUpdate: {
              merge: JSON.stringify({ NodePath: sdkPath(), IntervalMs: 500 }),
            },
          },
        },
      }),
    );
    const d = await n!.terminal(created.deploymentId!);
    expect(d.coreDeviceExecutionStatus, JSON.stringify(d)).to.equal('COMPLETED');
    await eventually('a publish', () =>
      /published \d+ on tendril\/demo\/counter/.test(n!.log('com.example.Publisher')),
    );
    // the group's component is still there: each group keeps its own roots [DP-02]
    expect(n!.nucleus.manager.get('com.example.HelloWorld')?.status().state).to.equal('RUNNING');
  });

  it('[CL-06] [CL-71] [CL-75] after the broker restarts, the nucleus reconnects and a later deployment still arrives', async () => {
    expect(n!.nucleus.cloud, 'the nucleus is connected to the cloud').to.not.equal(undefined);
    await h.restart(500);
    const created = await h.client.send(
      new CreateDeploymentCommand({
        targetArn: GROUP_ARN,
        deploymentName: 'group-hello-2',
        components: {
          'com.example.HelloWorld': {
            componentVersion: '1.0.0',
            configurationUpdate: { merge: JSON.stringify({ Message: 'Hi after the restart' }) },
          },
        },
      }),
    );
    const d = await n!.terminal(created.deploymentId!);
    expect(d.coreDeviceExecutionStatus, JSON.stringify(d)).to.equal('SUCCEEDED');
    await eventually('the new hello line', () =>
      n!.log('com.example.HelloWorld').includes('Hi after the restart'),
    );
  });
});
