// Every paginator the unmodified SDK ships, against the local cloud: each walks all pages with a small
// page size and sees every item exactly once [CP-06] (nextToken / maxResults).
import {
  BatchAssociateClientDeviceWithCoreDeviceCommand,
  CreateComponentVersionCommand,
  CreateDeploymentCommand,
  paginateListClientDevicesAssociatedWithCoreDevice,
  paginateListComponents,
  paginateListComponentVersions,
  paginateListCoreDevices,
  paginateListDeployments,
  paginateListEffectiveDeployments,
  paginateListInstalledComponents,
} from '@aws-sdk/client-greengrassv2';
import { expect } from 'chai';
import { recipeBytes, simpleRecipe, startHarness, type Harness } from './helpers.js';

async function all<T>(pages: AsyncIterable<T>, pick: (p: T) => unknown[] | undefined): Promise<unknown[]> {
  const items: unknown[] = [];
  let n = 0;
  for await (const page of pages) {
    n++;
    items.push(...(pick(page) ?? []));
  }
  expect(n, 'several pages').to.be.greaterThan(2);
  return items;
}

describe('localcloud: every SDK paginator [CP-06]', function () {
  this.timeout(60000);
  let h: Harness;
  const cfg = () => ({ client: h.client, pageSize: 2 });
  const T0 = 1_700_000_000_000;

  before(async () => {
    h = await startHarness();
    for (let i = 0; i < 5; i++)
      await h.client.send(
        new CreateComponentVersionCommand({
          inlineRecipe: recipeBytes(simpleRecipe(`com.example.P${i}`, '1.0.0')),
        }),
      );
    for (let v = 0; v < 5; v++)
      await h.client.send(
        new CreateComponentVersionCommand({
          inlineRecipe: recipeBytes(simpleRecipe('com.example.V', `1.${v}.0`)),
        }),
      );
    const devices = h.cloud.store.coreDevices;
    for (let i = 0; i < 5; i++)
      devices.recordStatus({
        coreDeviceThingName: `Core${i}`,
        status: 'HEALTHY',
        lastStatusUpdateMs: T0 + i,
      });
    devices.replaceInstalledComponents(
      'Core0',
      [0, 1, 2, 3, 4].map((i) => ({
        componentName: `com.example.P${i}`,
        componentVersion: '1.0.0',
        lifecycleState: 'RUNNING' as const,
        isRoot: true,
      })),
    );
    for (let i = 0; i < 5; i++)
      devices.recordEffectiveDeployment('Core0', {
        deploymentId: `d-${i}`,
        deploymentName: `dep${i}`,
        targetArn: 'arn:aws:iot:us-east-1:123456789012:thing/Core0',
        coreDeviceExecutionStatus: 'SUCCEEDED',
        createdMs: T0 + i,
        modifiedMs: T0 + i,
      });
    await h.client.send(
      new BatchAssociateClientDeviceWithCoreDeviceCommand({
        coreDeviceThingName: 'Core0',
        entries: [0, 1, 2, 3, 4].map((i) => ({ thingName: `Sensor${i}` })),
      }),
    );
    for (let i = 0; i < 5; i++)
      await h.client.send(
        new CreateDeploymentCommand({
          targetArn: `arn:aws:iot:us-east-1:123456789012:thinggroup/G${i}`,
          components: { 'com.example.P0': { componentVersion: '1.0.0' } },
        }),
      );
  });
  after(async () => h?.close());

  it('paginateListComponents', async () => {
    const items = await all(paginateListComponents(cfg(), {}), (p) => p.components);
    expect(items.map((c) => (c as { componentName: string }).componentName).sort()).to.deep.equal([
      'com.example.P0',
      'com.example.P1',
      'com.example.P2',
      'com.example.P3',
      'com.example.P4',
      'com.example.V',
    ]);
  });

  it('paginateListComponentVersions (greatest first)', async () => {
    const arn = 'arn:aws:greengrass:us-east-1:123456789012:components:com.example.V';
    const items = await all(paginateListComponentVersions(cfg(), { arn }), (p) => p.componentVersions);
    expect(items.map((c) => (c as { componentVersion: string }).componentVersion)).to.deep.equal([
      '1.4.0',
      '1.3.0',
      '1.2.0',
      '1.1.0',
      '1.0.0',
    ]);
  });

  it('paginateListCoreDevices', async () => {
    const items = await all(paginateListCoreDevices(cfg(), {}), (p) => p.coreDevices);
    expect(items.map((d) => (d as { coreDeviceThingName: string }).coreDeviceThingName).sort()).to.deep.equal(
      ['Core0', 'Core1', 'Core2', 'Core3', 'Core4'],
    );
  });

  it('paginateListInstalledComponents', async () => {
    const items = await all(
      paginateListInstalledComponents(cfg(), { coreDeviceThingName: 'Core0' }),
      (p) => p.installedComponents,
    );
    expect(items).to.have.length(5);
  });

  it('paginateListEffectiveDeployments', async () => {
    const items = await all(
      paginateListEffectiveDeployments(cfg(), { coreDeviceThingName: 'Core0' }),
      (p) => p.effectiveDeployments,
    );
    expect(items.map((d) => (d as { deploymentId: string }).deploymentId).sort()).to.deep.equal([
      'd-0',
      'd-1',
      'd-2',
      'd-3',
      'd-4',
    ]);
  });

  it('paginateListClientDevicesAssociatedWithCoreDevice', async () => {
    const items = await all(
      paginateListClientDevicesAssociatedWithCoreDevice(cfg(), { coreDeviceThingName: 'Core0' }),
      (p) => p.associatedClientDevices,
    );
    expect(items.map((d) => (d as { thingName: string }).thingName).sort()).to.deep.equal([
      'Sensor0',
      'Sensor1',
      'Sensor2',
      'Sensor3',
      'Sensor4',
    ]);
  });

  it('paginateListDeployments', async () => {
    const items = await all(paginateListDeployments(cfg(), {}), (p) => p.deployments);
    expect(items).to.have.length(5);
    expect(new Set(items.map((d) => (d as { deploymentId: string }).deploymentId)).size).to.equal(5);
  });
});
