// Revisions of one thing-group deployment from the local cloud, as a fleet operator makes them with
// the unmodified SDK: an upgrade (revision 2), a failing version that is rolled back to the previous
// one, a revision without the component (which removes it), and a revision created while the device
// is offline (delivered when it reconnects). Each is checked as the SDK sees it and on the device.
import {
  CreateComponentVersionCommand,
  CreateDeploymentCommand,
  ListInstalledComponentsCommand,
  type ComponentDeploymentSpecification,
} from '@aws-sdk/client-greengrassv2';
import { expect } from 'chai';
import { Nucleus } from '../../src/nucleus/index.js';
import { cloudNucleusView, startCloudNucleus, type CloudNucleus } from '../support/cloud-deployment.js';
import { eventually, startCloudHarness, type CloudHarness } from '../integration/iot/helpers.js';

const THING = 'revision-core';
const GROUP = 'revision-fleet';
const GROUP_ARN = `arn:aws:iot:us-east-1:123456789012:thinggroup/${GROUP}`;
const SVC = 'com.example.Versioned';
const OTHER = 'com.example.Other';

/** A recipe without artifacts whose run step logs its version and level, then sleeps. */
function recipe(name: string, version: string, o: { failInstall?: boolean } = {}): string {
  return JSON.stringify({
    RecipeFormatVersion: '2020-01-25',
    ComponentName: name,
    ComponentVersion: version,
    ComponentConfiguration: { DefaultConfiguration: { level: 1 } },
    Manifests: [
      {
        Platform: { os: 'linux' },
        Lifecycle: {
          ...(o.failInstall ? { install: 'echo install fails; exit 1' } : {}),
          run: `echo "${name} ${version} level {configuration:/level}"; exec sleep 600`,
        },
      },
    ],
  });
}

describe('e2e: revisions of a cloud deployment (upgrade, failure and rollback, removal, offline device)', function () {
  this.timeout(120000);
  let h: CloudHarness;
  let n: CloudNucleus | undefined;
  let revision = 0;

  const deploy = async (components: Record<string, ComponentDeploymentSpecification>) => {
    const r = await h.client.send(
      new CreateDeploymentCommand({ targetArn: GROUP_ARN, deploymentName: `rev-${++revision}`, components }),
    );
    return r.deploymentId!;
  };
  const installed = async () => {
    const r = await h.client.send(new ListInstalledComponentsCommand({ coreDeviceThingName: THING }));
    return Object.fromEntries((r.installedComponents ?? []).map((c) => [c.componentName!, c]));
  };
  const service = (name: string) => n!.nucleus.store.config.toMap(['services', name]);

  before(async function () {
    if (process.getuid?.() !== 0) {
      console.log('      skipped: needs root to run components as nobody');
      this.skip();
    }
    h = await startCloudHarness();
    for (const [name, version, failInstall] of [
      [SVC, '1.0.0', false],
      [SVC, '2.0.0', false],
      [SVC, '3.0.0', true],
      [OTHER, '1.0.0', false],
    ] as const)
      await h.client.send(
        new CreateComponentVersionCommand({
          inlineRecipe: Buffer.from(recipe(name, version, { failInstall })),
        }),
      );
    n = await startCloudNucleus(h, THING, GROUP);
  });
  after(async () => {
    await n?.stop();
    n = undefined;
    await h?.close();
  });

  it('[CL-06] [DP-38] revision 1 installs 1.0.0; revision 2 upgrades it to 2.0.0 with its configuration', async () => {
    const first = await n!.terminal(await deploy({ [SVC]: { componentVersion: '1.0.0' } }));
    expect(first.coreDeviceExecutionStatus).to.equal('SUCCEEDED');
    await eventually('1.0.0 logging', () => n!.log(SVC).includes(`${SVC} 1.0.0 level 1`));

    const second = await n!.terminal(
      await deploy({
        [SVC]: { componentVersion: '2.0.0', configurationUpdate: { merge: JSON.stringify({ level: 2 }) } },
      }),
    );
    expect(second.coreDeviceExecutionStatus, JSON.stringify(second)).to.equal('SUCCEEDED');
    await eventually('2.0.0 logging', () => n!.log(SVC).includes(`${SVC} 2.0.0 level 2`));
    const c = await eventually('2.0.0 reported installed', async () => {
      const i = (await installed())[SVC];
      return i?.componentVersion === '2.0.0' ? i : undefined;
    });
    expect(c.lifecycleState).to.equal('RUNNING');
  });

  it('[DP-59] [DP-62] [CL-14] a failing 3.0.0 ends FAILED with statusDetails; the device runs 2.0.0 with its configuration again', async () => {
    const d = await n!.terminal(await deploy({ [SVC]: { componentVersion: '3.0.0' } }));
    expect(d.coreDeviceExecutionStatus, JSON.stringify(d)).to.equal('FAILED');
    expect(d.reason).to.be.a('string').and.not.equal('');
    expect(d.statusDetails?.errorStack).to.include('DEPLOYMENT_FAILURE');
    expect(d.statusDetails?.errorTypes?.length).to.be.greaterThan(0);
    expect(service(SVC)).to.deep.include({ version: '2.0.0' });
    expect(n!.nucleus.store.config.get(['services', SVC, 'configuration', 'level'])).to.equal(2);
    await eventually('2.0.0 running again', () => n!.nucleus.manager.get(SVC)?.status().state === 'RUNNING');
    const c = await eventually('2.0.0 reported again', async () => {
      const i = (await installed())[SVC];
      return i?.componentVersion === '2.0.0' && i.lifecycleState === 'RUNNING' ? i : undefined;
    });
    expect(c.componentVersion).to.equal('2.0.0');
  });

  it('[DP-42] [DP-44] a revision without the component removes it from the device and from the installed list', async () => {
    const d = await n!.terminal(await deploy({ [OTHER]: { componentVersion: '1.0.0' } }));
    expect(d.coreDeviceExecutionStatus, JSON.stringify(d)).to.equal('SUCCEEDED');
    expect(n!.nucleus.store.config.find(['services', SVC])).to.equal(undefined);
    expect(n!.nucleus.manager.get(SVC)).to.equal(undefined);
    await eventually('the removal reported', async () => {
      const i = await installed();
      return !i[SVC] && i[OTHER]?.lifecycleState === 'RUNNING' ? true : undefined;
    });
  });

  it('[CL-07] [CL-08] [DP-03] a revision created while the device is offline arrives when it reconnects', async () => {
    const root = n!.root;
    await n!.stop();
    n = undefined;
    const id = await deploy({
      [OTHER]: { componentVersion: '1.0.0', configurationUpdate: { merge: JSON.stringify({ level: 7 }) } },
    });
    // the same device again: its root holds its configuration, certificates and component store
    const nucleus = await Nucleus.start({ root });
    n = cloudNucleusView(h, nucleus, root, THING);
    const d = await n.terminal(id);
    expect(d.coreDeviceExecutionStatus, JSON.stringify(d)).to.equal('SUCCEEDED');
    expect(nucleus.store.config.get(['services', OTHER, 'configuration', 'level'])).to.equal(7);
  });
});
