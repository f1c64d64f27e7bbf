// The nucleus in the cloud, end to end: the local cloud (control plane, mTLS data plane, aedes MQTT
// broker with jobs and shadows), the unmodified @aws-sdk/client-greengrassv2 creating component
// versions and deployments, and the real nucleus receiving them over MQTT, resolving and downloading
// through the data plane, running the components, and reporting back.
import {
  CreateComponentVersionCommand,
  CreateDeploymentCommand,
  GetCoreDeviceCommand,
  ListEffectiveDeploymentsCommand,
  ListInstalledComponentsCommand,
} from '@aws-sdk/client-greengrassv2';
import { expect } from 'chai';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import yaml from 'js-yaml';
import { Nucleus } from '../../src/nucleus/index.js';
import { repoRoot } from '../support/daemon.js';
import { stageNodeModules } from '../../src/cli/stage-node-modules.js';
import { eventually, startCloudHarness, type CloudHarness } from '../integration/iot/helpers.js';

const examples = join(repoRoot, 'examples', 'components');
const THING = 'cloud-core';
const GROUP_ARN = 'arn:aws:iot:us-east-1:123456789012:thinggroup/cloud-fleet';
const THING_ARN = `arn:aws:iot:us-east-1:123456789012:thing/${THING}`;

describe('e2e: cloud deployments from the local cloud to the nucleus', function () {
  this.timeout(90000);
  let h: CloudHarness;
  let nucleus: Nucleus | undefined;
  let root: string;

  /** The SDK for the Node example components, readable by their user (nobody). */
  const sdkPath = () =>
    stageNodeModules(join(repoRoot, 'node_modules'), ['aws-iot-device-sdk-v2'], join(h.dir, 'node_modules'));
  const log = (c: string) => {
    const f = join(root, 'logs', `${c}.log`);
    return existsSync(f) ? readFileSync(f, 'utf8') : '';
  };
  const effective = async (deploymentId: string) => {
    const r = await h.client.send(new ListEffectiveDeploymentsCommand({ coreDeviceThingName: THING }));
    return r.effectiveDeployments?.find((d) => d.deploymentId === deploymentId);
  };
  const terminal = (deploymentId: string) =>
    eventually(
      `a terminal status of ${deploymentId}`,
      async () => {
        const d = await effective(deploymentId);
        return d && !['IN_PROGRESS', 'QUEUED'].includes(d.coreDeviceExecutionStatus ?? '') ? d : undefined;
      },
      60000,
    );

  before(async function () {
    if (process.getuid?.() !== 0) {
      console.log('      skipped: needs root to run components as nobody');
      this.skip();
    }
    h = await startCloudHarness();
    // The example components: artifacts uploaded first, so the cloud computes their digests.
    for (const [name, file] of [
      ['com.example.HelloWorld', 'hello.sh'],
      ['com.example.Publisher', 'publisher.cjs'],
    ]) {
      const q = new URLSearchParams({
        uri: `greengrass:${file}`,
        componentName: name,
        componentVersion: '1.0.0',
      });
      const res = await fetch(`${h.cloud.endpoint}/tendril/artifacts?${q}`, {
        method: 'PUT',
        body: readFileSync(join(examples, 'artifacts', name, '1.0.0', file)),
      });
      expect(res.status).to.equal(200);
      await h.client.send(
        new CreateComponentVersionCommand({
          inlineRecipe: readFileSync(join(examples, 'recipes', `${name}-1.0.0.yaml`)),
        }),
      );
    }
    const device = join(h.dir, 'device');
    const p = await h.cloud.provision({ thingName: THING, thingGroup: 'cloud-fleet', outDir: device });
    const init = yaml.load(readFileSync(p.configPath, 'utf8')) as {
      services: Record<string, { configuration: Record<string, unknown> }>;
    };
    init.services['aws.greengrass.Nucleus'].configuration.runWithDefault = { posixUser: 'nobody:nogroup' };
    writeFileSync(join(device, 'init.yaml'), yaml.dump(init));
    root = join(h.dir, 'root');
    nucleus = await Nucleus.start({ root, initConfigFile: join(device, 'init.yaml') });
    // [CL-49] [CL-53] the launch status makes the core device known to the cloud.
    await eventually(
      'the core device',
      async () =>
        (await h.client.send(new GetCoreDeviceCommand({ coreDeviceThingName: THING })).catch(() => undefined))
          ?.status,
    );
  });
  after(async () => {
    await nucleus?.stop();
    nucleus = undefined;
    await h?.close();
  });

  it('[CL-06] [CL-13] [CL-24] [CL-29] [CL-37] [CL-46] [CL-53] a thing-group deployment arrives as a job, is fetched through the data plane, runs, and the SDK sees SUCCEEDED, the component and a HEALTHY core', async () => {
    const created = await h.client.send(
      new CreateDeploymentCommand({
        targetArn: GROUP_ARN,
        deploymentName: 'group-hello',
        components: {
          'com.example.HelloWorld': {
            componentVersion: '1.0.0',
            configurationUpdate: { merge: JSON.stringify({ Message: 'Hi from the cloud' }) },
          },
        },
      }),
    );
    const d = await terminal(created.deploymentId!);
    expect(d.coreDeviceExecutionStatus, JSON.stringify(d)).to.equal('SUCCEEDED');
    await eventually('the hello line', () => log('com.example.HelloWorld').includes('Hi from the cloud'));
    // downloaded into the component store with the recipe's digest checked
    expect(
      existsSync(join(root, 'packages', 'artifacts', 'com.example.HelloWorld', '1.0.0', 'hello.sh')),
    ).to.equal(true);
    const installed = await eventually('the installed component', async () => {
      const r = await h.client.send(new ListInstalledComponentsCommand({ coreDeviceThingName: THING }));
      return r.installedComponents?.find((c) => c.componentName === 'com.example.HelloWorld');
    });
    expect(installed).to.include({ componentVersion: '1.0.0', lifecycleState: 'RUNNING' });
    const core = await h.client.send(new GetCoreDeviceCommand({ coreDeviceThingName: THING }));
    expect(core.status).to.equal('HEALTHY');
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
    const d = await terminal(created.deploymentId!);
    expect(d.coreDeviceExecutionStatus, JSON.stringify(d)).to.equal('COMPLETED');
    await eventually('a publish', () =>
      /published \d+ on tendril\/demo\/counter/.test(log('com.example.Publisher')),
    );
    // the group's component is still there: each group keeps its own roots [DP-02]
    expect(nucleus!.manager.get('com.example.HelloWorld')?.status().state).to.equal('RUNNING');
  });

  it('[CL-06] [CL-71] [CL-75] after the broker restarts, the nucleus reconnects and a later deployment still arrives', async () => {
    expect(nucleus!.cloud, 'the nucleus is connected to the cloud').to.not.equal(undefined);
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
    const d = await terminal(created.deploymentId!);
    expect(d.coreDeviceExecutionStatus, JSON.stringify(d)).to.equal('SUCCEEDED');
    await eventually('the new hello line', () =>
      log('com.example.HelloWorld').includes('Hi after the restart'),
    );
  });
});
