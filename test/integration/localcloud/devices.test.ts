import {
  AssociateServiceRoleToAccountCommand,
  BatchAssociateClientDeviceWithCoreDeviceCommand,
  BatchDisassociateClientDeviceFromCoreDeviceCommand,
  DeleteCoreDeviceCommand,
  DisassociateServiceRoleFromAccountCommand,
  GetConnectivityInfoCommand,
  GetCoreDeviceCommand,
  GetServiceRoleForAccountCommand,
  ListClientDevicesAssociatedWithCoreDeviceCommand,
  ListCoreDevicesCommand,
  ListEffectiveDeploymentsCommand,
  ListInstalledComponentsCommand,
  UpdateConnectivityInfoCommand,
} from '@aws-sdk/client-greengrassv2';
import { expect } from 'chai';
import { expectServiceError, startHarness, type Harness } from './helpers.js';

const T0 = 1_700_000_000_000;

describe('localcloud core devices, client devices, connectivity, service role', function () {
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness();
    // Seeded through the internal store API the device-facing side will call.
    const devices = h.cloud.store.coreDevices;
    devices.recordStatus({
      coreDeviceThingName: 'CoreA',
      coreVersion: '2.18.0',
      platform: 'linux',
      architecture: 'amd64',
      runtime: 'aws_nucleus_classic',
      status: 'HEALTHY',
      lastStatusUpdateMs: T0,
    });
    devices.recordStatus({
      coreDeviceThingName: 'CoreB',
      status: 'UNHEALTHY',
      lastStatusUpdateMs: T0 + 1000,
    });
    devices.recordStatus({ coreDeviceThingName: 'CoreC', status: 'HEALTHY', lastStatusUpdateMs: T0 + 2000 });
    devices.addToThingGroup('Fleet', 'CoreA');
    devices.addToThingGroup('Fleet', 'CoreB');
  });
  afterEach(async () => {
    await h.close();
  });

  describe('GetCoreDevice, ListCoreDevices, DeleteCoreDevice [CP-37] [CP-43] [CP-30]', () => {
    it('gets a device with epoch-second timestamps [CP-05]', async () => {
      const d = await h.client.send(new GetCoreDeviceCommand({ coreDeviceThingName: 'CoreA' }));
      expect(d).to.include({
        coreDeviceThingName: 'CoreA',
        coreVersion: '2.18.0',
        status: 'HEALTHY',
        runtime: 'aws_nucleus_classic',
      });
      expect(d.lastStatusUpdateTimestamp?.getTime()).to.equal(T0);
      expect(d.tags).to.deep.equal({});
      await expectServiceError(
        h.client.send(new GetCoreDeviceCommand({ coreDeviceThingName: 'Nope' })),
        'ResourceNotFoundException',
      );
      await expectServiceError(
        h.client.send(new GetCoreDeviceCommand({ coreDeviceThingName: 'x'.repeat(129) })),
        'ValidationException',
        'coreDeviceThingName',
      );
    });

    it('lists by thing group and status, across pages', async () => {
      const group = await h.client.send(
        new ListCoreDevicesCommand({ thingGroupArn: 'arn:aws:iot:us-east-1:123456789012:thinggroup/Fleet' }),
      );
      expect(group.coreDevices!.map((d) => d.coreDeviceThingName)).to.deep.equal(['CoreA', 'CoreB']);
      const healthy = await h.client.send(new ListCoreDevicesCommand({ status: 'HEALTHY' }));
      expect(healthy.coreDevices!.map((d) => d.coreDeviceThingName)).to.deep.equal(['CoreA', 'CoreC']);
      const p1 = await h.client.send(new ListCoreDevicesCommand({ maxResults: 2 }));
      const p2 = await h.client.send(new ListCoreDevicesCommand({ maxResults: 2, nextToken: p1.nextToken }));
      expect([...p1.coreDevices!, ...p2.coreDevices!].map((d) => d.coreDeviceThingName)).to.deep.equal([
        'CoreA',
        'CoreB',
        'CoreC',
      ]);
      expect(p2.nextToken).to.equal(undefined);
    });

    it('refuses a bad thingGroupArn, status or maxResults', async () => {
      await expectServiceError(
        h.client.send(
          new ListCoreDevicesCommand({ thingGroupArn: 'arn:aws:iot:us-east-1:123456789012:thing/X' }),
        ),
        'ValidationException',
        'thingGroupArn',
      );
      await expectServiceError(
        h.client.send(new ListCoreDevicesCommand({ status: 'SICK' as 'HEALTHY' })),
        'ValidationException',
        'status',
      );
      await expectServiceError(
        h.client.send(new ListCoreDevicesCommand({ maxResults: 0 })),
        'ValidationException',
        'maxResults',
      );
    });

    it('deletes a device (204) and what it reported', async () => {
      const out = await h.client.send(new DeleteCoreDeviceCommand({ coreDeviceThingName: 'CoreC' }));
      expect(out.$metadata.httpStatusCode).to.equal(204);
      await expectServiceError(
        h.client.send(new DeleteCoreDeviceCommand({ coreDeviceThingName: 'CoreC' })),
        'ResourceNotFoundException',
      );
    });
  });

  describe('ListInstalledComponents [CP-46]', () => {
    beforeEach(() => {
      h.cloud.store.coreDevices.replaceInstalledComponents('CoreA', [
        {
          componentName: 'aws.greengrass.Nucleus',
          componentVersion: '2.18.0',
          lifecycleState: 'FINISHED',
          isRoot: false,
        },
        {
          componentName: 'com.example.App',
          componentVersion: '1.0.0',
          lifecycleState: 'RUNNING',
          isRoot: true,
          lastReportedMs: T0,
          lastInstallationSource: 'dep-1',
        },
        {
          componentName: 'com.example.Bad',
          componentVersion: '1.0.0',
          lifecycleState: 'BROKEN',
          isRoot: true,
          lifecycleStatusCodes: ['RUN_ERROR'],
        },
      ]);
    });

    it('lists root components by default and all with topologyFilter=ALL', async () => {
      const root = await h.client.send(new ListInstalledComponentsCommand({ coreDeviceThingName: 'CoreA' }));
      expect(root.installedComponents!.map((c) => c.componentName)).to.deep.equal([
        'com.example.App',
        'com.example.Bad',
      ]);
      expect(root.installedComponents![0].lastReportedTimestamp?.getTime()).to.equal(T0);
      expect(root.installedComponents![1].lifecycleStatusCodes).to.deep.equal(['RUN_ERROR']);
      const all = await h.client.send(
        new ListInstalledComponentsCommand({
          coreDeviceThingName: 'CoreA',
          topologyFilter: 'ALL',
          maxResults: 2,
        }),
      );
      expect(all.installedComponents).to.have.length(2);
      expect(all.nextToken).to.be.a('string');
    });

    it('applies a PARTIAL report: UNINSTALLED removes a component (CL-53)', async () => {
      h.cloud.store.coreDevices.upsertInstalledComponents('CoreA', [
        { componentName: 'com.example.Bad', lifecycleState: 'UNINSTALLED', isRoot: true },
      ]);
      const root = await h.client.send(new ListInstalledComponentsCommand({ coreDeviceThingName: 'CoreA' }));
      expect(root.installedComponents!.map((c) => c.componentName)).to.deep.equal(['com.example.App']);
    });

    it('refuses a bad topologyFilter and an unknown device', async () => {
      await expectServiceError(
        h.client.send(
          new ListInstalledComponentsCommand({
            coreDeviceThingName: 'CoreA',
            topologyFilter: 'LEAF' as 'ALL',
          }),
        ),
        'ValidationException',
        'topologyFilter',
      );
      await expectServiceError(
        h.client.send(new ListInstalledComponentsCommand({ coreDeviceThingName: 'Nope' })),
        'ResourceNotFoundException',
      );
    });
  });

  describe('ListEffectiveDeployments [CP-45]', () => {
    it('lists what the device recorded, most recent first', async () => {
      const base = {
        deploymentName: 'd',
        targetArn: 'arn:aws:iot:us-east-1:123456789012:thinggroup/Fleet',
        createdMs: T0,
      };
      h.cloud.store.coreDevices.recordEffectiveDeployment('CoreA', {
        ...base,
        deploymentId: 'd1',
        coreDeviceExecutionStatus: 'SUCCEEDED',
        modifiedMs: T0 + 1000,
      });
      h.cloud.store.coreDevices.recordEffectiveDeployment('CoreA', {
        ...base,
        deploymentId: 'd2',
        coreDeviceExecutionStatus: 'FAILED',
        reason: 'boom',
        modifiedMs: T0 + 5000,
        statusDetails: { errorStack: ['DEPLOYMENT_FAILURE'], errorTypes: ['COMPONENT_ERROR'] },
      });
      const out = await h.client.send(new ListEffectiveDeploymentsCommand({ coreDeviceThingName: 'CoreA' }));
      expect(out.effectiveDeployments!.map((e) => e.deploymentId)).to.deep.equal(['d2', 'd1']);
      expect(out.effectiveDeployments![0].statusDetails?.errorTypes).to.deep.equal(['COMPONENT_ERROR']);
      expect(out.effectiveDeployments![0].modifiedTimestamp?.getTime()).to.equal(T0 + 5000);
      const page = await h.client.send(
        new ListEffectiveDeploymentsCommand({ coreDeviceThingName: 'CoreA', maxResults: 1 }),
      );
      const next = await h.client.send(
        new ListEffectiveDeploymentsCommand({
          coreDeviceThingName: 'CoreA',
          maxResults: 1,
          nextToken: page.nextToken,
        }),
      );
      expect(next.effectiveDeployments!.map((e) => e.deploymentId)).to.deep.equal(['d1']);
      await expectServiceError(
        h.client.send(new ListEffectiveDeploymentsCommand({ coreDeviceThingName: 'Nope' })),
        'ResourceNotFoundException',
      );
    });
  });

  describe('client device association [CP-24] [CP-25] [CP-40] (CL-79)', () => {
    it('associates, lists across pages, and disassociates with error entries for unknown ones', async () => {
      const assoc = await h.client.send(
        new BatchAssociateClientDeviceWithCoreDeviceCommand({
          coreDeviceThingName: 'CoreA',
          entries: [{ thingName: 'Sensor1' }, { thingName: 'Sensor2' }, { thingName: 'Sensor3' }],
        }),
      );
      expect(assoc.errorEntries).to.deep.equal([]);
      const p1 = await h.client.send(
        new ListClientDevicesAssociatedWithCoreDeviceCommand({ coreDeviceThingName: 'CoreA', maxResults: 2 }),
      );
      expect(p1.associatedClientDevices!.map((d) => d.thingName)).to.deep.equal(['Sensor1', 'Sensor2']);
      expect(p1.associatedClientDevices![0].associationTimestamp).to.be.instanceOf(Date);
      const dis = await h.client.send(
        new BatchDisassociateClientDeviceFromCoreDeviceCommand({
          coreDeviceThingName: 'CoreA',
          entries: [{ thingName: 'Sensor1' }, { thingName: 'Ghost' }],
        }),
      );
      expect(dis.errorEntries!.map((e) => [e.thingName, e.code])).to.deep.equal([
        ['Ghost', 'ResourceNotFoundException'],
      ]);
      const all = await h.client.send(
        new ListClientDevicesAssociatedWithCoreDeviceCommand({ coreDeviceThingName: 'CoreA' }),
      );
      expect(all.associatedClientDevices!.map((d) => d.thingName)).to.deep.equal(['Sensor2', 'Sensor3']);
    });

    it('refuses bad entries naming the field, and an unknown core device', async () => {
      await expectServiceError(
        h.client.send(
          new BatchAssociateClientDeviceWithCoreDeviceCommand({ coreDeviceThingName: 'CoreA', entries: [] }),
        ),
        'ValidationException',
        'entries',
      );
      await expectServiceError(
        h.client.send(
          new BatchAssociateClientDeviceWithCoreDeviceCommand({
            coreDeviceThingName: 'CoreA',
            entries: [{ thingName: '' }],
          }),
        ),
        'ValidationException',
        'entries[0].thingName',
      );
      await expectServiceError(
        h.client.send(
          new BatchDisassociateClientDeviceFromCoreDeviceCommand({
            coreDeviceThingName: 'Nope',
            entries: [{ thingName: 'S' }],
          }),
        ),
        'ResourceNotFoundException',
      );
      const all = await h.client.send(
        new ListClientDevicesAssociatedWithCoreDeviceCommand({ coreDeviceThingName: 'CoreA' }),
      );
      expect(all.associatedClientDevices).to.deep.equal([]);
    });
  });

  describe('GetConnectivityInfo, UpdateConnectivityInfo [CP-36] [CP-51] (CL-76)', () => {
    it('round-trips the capitalised shapes and bumps the version [CP-07]', async () => {
      const versions: number[] = [];
      h.cloud.events.on('connectivityInfoUpdated', (_t, v) => versions.push(v));
      const empty = await h.client.send(new GetConnectivityInfoCommand({ thingName: 'CoreA' }));
      expect(empty.connectivityInfo).to.deep.equal([]);
      const info = [{ id: 'lan', hostAddress: '192.168.1.10', portNumber: 8883, metadata: '' }];
      const u1 = await h.client.send(
        new UpdateConnectivityInfoCommand({ thingName: 'CoreA', connectivityInfo: info }),
      );
      const u2 = await h.client.send(
        new UpdateConnectivityInfoCommand({ thingName: 'CoreA', connectivityInfo: info }),
      );
      expect([u1.version, u2.version]).to.deep.equal(['1', '2']);
      expect(versions).to.deep.equal([1, 2]);
      const got = await h.client.send(new GetConnectivityInfoCommand({ thingName: 'CoreA' }));
      expect(got.connectivityInfo).to.deep.equal(info);
    });

    it('refuses a port out of range and a missing list', async () => {
      await expectServiceError(
        h.client.send(
          new UpdateConnectivityInfoCommand({
            thingName: 'CoreA',
            connectivityInfo: [{ hostAddress: 'h', portNumber: 70000 }],
          }),
        ),
        'ValidationException',
        'ConnectivityInfo[0].PortNumber',
      );
      await expectServiceError(
        h.client.send(
          new UpdateConnectivityInfoCommand({ thingName: 'CoreA', connectivityInfo: undefined as never }),
        ),
        'ValidationException',
        'ConnectivityInfo',
      );
    });
  });

  describe('service role [CP-23] [CP-33] [CP-39]', () => {
    it('associates, gets and disassociates the role', async () => {
      const none = await h.client.send(new GetServiceRoleForAccountCommand({}));
      expect(none.roleArn).to.equal(undefined);
      const roleArn = 'arn:aws:iam::123456789012:role/Greengrass_ServiceRole';
      const a = await h.client.send(new AssociateServiceRoleToAccountCommand({ roleArn }));
      expect(Number.isNaN(Date.parse(a.associatedAt!))).to.equal(false);
      const g = await h.client.send(new GetServiceRoleForAccountCommand({}));
      expect(g).to.include({ roleArn, associatedAt: a.associatedAt });
      const d = await h.client.send(new DisassociateServiceRoleFromAccountCommand({}));
      expect(d.disassociatedAt).to.be.a('string');
      expect((await h.client.send(new GetServiceRoleForAccountCommand({}))).roleArn).to.equal(undefined);
    });

    it('refuses a role ARN that is not an IAM role', async () => {
      await expectServiceError(
        h.client.send(new AssociateServiceRoleToAccountCommand({ roleArn: 'arn:aws:s3:::bucket' })),
        'ValidationException',
        'RoleArn',
      );
      await expectServiceError(
        h.client.send(new AssociateServiceRoleToAccountCommand({ roleArn: undefined as never })),
        'ValidationException',
        'RoleArn',
      );
    });
  });
});
