import {
  CancelDeploymentCommand,
  CreateComponentVersionCommand,
  CreateDeploymentCommand,
  GetCoreDeviceCommand,
  ListEffectiveDeploymentsCommand,
  UpdateConnectivityInfoCommand,
} from '@aws-sdk/client-greengrassv2';
import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ProvisionResult } from '../../../src/localcloud/index.js';
import { credentialsOf, fleetStatus, jobsTopic, ScriptedDevice } from './device-helpers.js';
import { recipeBytes, simpleRecipe, startHarness, type Harness } from './helpers.js';

const T = 'core1';
const SHADOW = `$aws/things/${T}/shadow/name/AWSManagedGreengrassV2Deployment`;

describe('localcloud device side: shadows, fleet status and restart', function () {
  let h: Harness;
  let out: string;
  let core: ProvisionResult;
  let dev: ScriptedDevice;

  beforeEach(async () => {
    h = await startHarness();
    out = mkdtempSync(join(tmpdir(), 'tendril-device-'));
    await h.client.send(
      new CreateComponentVersionCommand({
        inlineRecipe: recipeBytes(simpleRecipe('com.example.App', '1.0.0')),
      }),
    );
    core = await h.cloud.provision({ thingName: T, thingGroup: 'fleet', outDir: out });
    dev = await ScriptedDevice.connect(h.cloud.device.mqttPort, credentialsOf(core), T);
    await dev.publish(`$aws/things/${T}/greengrassv2/health/json`, fleetStatus(T));
  });
  afterEach(async () => {
    await dev.close();
    await h.close();
    rmSync(out, { recursive: true, force: true });
  });

  const deployToThing = () =>
    h.client.send(
      new CreateDeploymentCommand({
        targetArn: `arn:aws:iot:us-east-1:123456789012:thing/${T}`,
        components: { 'com.example.App': { componentVersion: '1.0.0' } },
      }),
    );

  it('[DP-77] [DP-80] [CP-64] [DP-82] [CL-53] delivers a thing deployment through the named shadow and records the reported status', async () => {
    // [DP-77]: the nucleus subscribes to update/accepted, update/rejected, get/accepted.
    await dev.subscribe(`${SHADOW}/update/accepted`, `${SHADOW}/update/rejected`, `${SHADOW}/get/accepted`);
    const arrived = dev.next(
      `${SHADOW}/update/accepted`,
      (j) => (j.state as { desired?: unknown }).desired !== undefined,
    );
    const created = await deployToThing();
    const accepted = await arrived;
    const desired = (accepted.json.state as { desired: { fleetConfig: string; desiredStatus: string } })
      .desired;
    expect(desired.desiredStatus).to.equal('IN_PROGRESS');
    const doc = JSON.parse(desired.fleetConfig) as Record<string, unknown>;
    expect(doc).to.include({
      deploymentId: created.deploymentId,
      configurationArn: `arn:aws:greengrass:us-east-1:123456789012:configuration:thing/${T}:1`,
      failureHandlingPolicy: 'ROLLBACK',
    });
    expect(doc.components).to.deep.equal({ 'com.example.App': { version: '1.0.0' } });
    let eff = await h.client.send(new ListEffectiveDeploymentsCommand({ coreDeviceThingName: T }));
    expect(eff.effectiveDeployments?.[0].coreDeviceExecutionStatus).to.equal('QUEUED');

    // [DP-78]: get returns the document with its version.
    const got = await dev.call(
      `${SHADOW}/get`,
      { shadowName: 'AWSManagedGreengrassV2Deployment', thingName: T },
      `${SHADOW}/get/accepted`,
    );
    const version = got.json.version as number;
    expect(version).to.equal(1);
    // [DP-79] [DP-82]: the device reports with optimistic locking.
    const reported = {
      fleetConfigurationArnForStatus: doc.configurationArn,
      status: 'SUCCEEDED',
      statusDetails: { detailedStatus: 'SUCCESSFUL', failureCause: '', errorStack: [], errorTypes: [] },
      ggcVersion: '2.18.0',
    };
    const ok = await dev.call(
      `${SHADOW}/update`,
      { shadowName: 'AWSManagedGreengrassV2Deployment', thingName: T, state: { reported }, version },
      `${SHADOW}/update/accepted`,
    );
    expect(ok.json.version).to.equal(2);
    expect(ok.json.state).to.deep.equal({ reported }); // [DP-83] only the written section
    eff = await h.client.send(new ListEffectiveDeploymentsCommand({ coreDeviceThingName: T }));
    expect(eff.effectiveDeployments?.[0]).to.include({
      deploymentId: created.deploymentId,
      coreDeviceExecutionStatus: 'COMPLETED',
      reason: 'SUCCESSFUL',
    });
    // A stale version is a conflict and changes nothing.
    const conflict = await dev.call(
      `${SHADOW}/update`,
      { state: { reported: { status: 'FAILED' } }, version },
      `${SHADOW}/update/rejected`,
    );
    expect(conflict.json).to.include({ code: 409, message: 'Version conflict' });
    expect(h.cloud.getShadow(T, 'AWSManagedGreengrassV2Deployment')?.version).to.equal(2);

    // Cancel writes desiredStatus CANCELED [DP-80].
    const canceled = dev.next(`${SHADOW}/update/accepted`, (j) => JSON.stringify(j).includes('CANCELED'));
    await h.client.send(new CancelDeploymentCommand({ deploymentId: created.deploymentId }));
    const c = await canceled;
    expect((c.json.state as { desired: unknown }).desired).to.deep.equal({ desiredStatus: 'CANCELED' });
  });

  it('refuses malformed shadow updates, naming the problem, and changes nothing', async () => {
    const base = `$aws/things/${T}/shadow`;
    await dev.subscribe(`${base}/update/rejected`, `${base}/get/rejected`);
    const cases: [unknown, number, string][] = [
      ['{oops', 400, 'Invalid JSON'],
      [{ version: 1 }, 400, 'Missing required node: state'],
      [{ state: { desired: 5 } }, 400, 'state.desired must be an object'],
      [{ state: { other: {} } }, 400, 'state.other is not allowed'],
    ];
    for (const [payload, code, message] of cases) {
      const r = await dev.call(`${base}/update`, payload, `${base}/update/rejected`);
      expect(r.json).to.include({ code });
      expect(r.json.message).to.contain(message);
    }
    const missing = await dev.call(`${base}/get`, {}, `${base}/get/rejected`);
    expect(missing.json.code).to.equal(404);
    expect(h.cloud.getShadow(T, '')).to.equal(undefined);
  });

  it('[CL-77] [CL-78] bumps desired.version of the <core>-gci shadow with a delta on UpdateConnectivityInfo', async () => {
    const gci = `$aws/things/${T}-gci/shadow`;
    await dev.subscribe(`${gci}/update/delta`, `${gci}/get/accepted`);
    const delta = dev.next(`${gci}/update/delta`);
    await h.client.send(
      new UpdateConnectivityInfoCommand({
        thingName: T,
        connectivityInfo: [{ id: 'lan', hostAddress: '10.0.0.5', portNumber: 8883, metadata: '' }],
      }),
    );
    const d = await delta;
    expect(d.json.state).to.deep.equal({ version: '1' });
    const got = await dev.call(`${gci}/get`, {}, `${gci}/get/accepted`);
    expect((got.json.state as { delta: unknown }).delta).to.deep.equal({ version: '1' });
  });

  it('[CL-53] a malformed fleet status message changes nothing; UNHEALTHY and PARTIAL UNINSTALLED are applied', async () => {
    const topic = `$aws/things/${T}/greengrassv2/health/json`;
    const comp = (name: string, status: string) => ({
      componentName: name,
      version: '1.0.0',
      fleetConfigArns: [],
      componentStatusDetails: null,
      isRoot: true,
      status,
    });
    await dev.publish(topic, fleetStatus(T, { components: [comp('A', 'RUNNING'), comp('B', 'RUNNING')] }));
    await dev.publish(topic, fleetStatus(T, { overallDeviceStatus: 'SICK', components: [] }));
    await dev.publish(topic, fleetStatus(T, { components: [{ componentName: 5 }] }));
    expect(h.cloud.store.coreDevices.installedComponents(T, false).map((c) => c.componentName)).to.deep.equal(
      ['A', 'B'],
    );
    await dev.publish(
      topic,
      fleetStatus(T, {
        overallDeviceStatus: 'UNHEALTHY',
        messageType: 'PARTIAL',
        trigger: 'COMPONENT_STATUS_CHANGE',
        components: [
          {
            ...comp('A', 'BROKEN'),
            componentStatusDetails: { statusCodes: ['RUN_ERROR'], statusReason: 'exit 1' },
          },
          { ...comp('B', 'UNINSTALLED'), version: '' },
        ],
      }),
    );
    const device = await h.client.send(new GetCoreDeviceCommand({ coreDeviceThingName: T }));
    expect(device.status).to.equal('UNHEALTHY');
    const left = h.cloud.store.coreDevices.installedComponents(T, false);
    expect(
      left.map((c) => [c.componentName, c.lifecycleState, c.lifecycleStatusCodes, c.lifecycleStateDetails]),
    ).to.deep.equal([['A', 'BROKEN', ['RUN_ERROR'], 'exit 1']]);
  });

  it('keeps jobs, executions, shadows and device state across a restart', async () => {
    await dev.subscribe(`${SHADOW}/update/accepted`);
    const arrived = dev.next(`${SHADOW}/update/accepted`);
    await deployToThing();
    await arrived;
    const group = await h.client.send(
      new CreateDeploymentCommand({
        targetArn: 'arn:aws:iot:us-east-1:123456789012:thinggroup/fleet',
        components: { 'com.example.App': { componentVersion: '1.0.0' } },
      }),
    );
    await h.cloud.deviceIdle();
    const jobId = group.iotJobId!;
    const updTopic = jobsTopic(T, `${jobId}/namespace-aws-gg-deployment/update`);
    await dev.subscribe(`${updTopic}/accepted`);
    await dev.call(updTopic, { status: 'IN_PROGRESS' }, `${updTopic}/accepted`);
    await dev.close();

    await h.restart();
    dev = await ScriptedDevice.connect(h.cloud.device.mqttPort, credentialsOf(core), T);
    const getTopic = jobsTopic(T, '$next/namespace-aws-gg-deployment/get');
    await dev.subscribe(`${getTopic}/accepted`, `${SHADOW}/get/accepted`);
    const r = await dev.call(getTopic, { jobId: '$next', thingName: T }, `${getTopic}/accepted`);
    expect(r.json.execution).to.include({ jobId, status: 'IN_PROGRESS', versionNumber: 2 });
    const s = await dev.call(`${SHADOW}/get`, {}, `${SHADOW}/get/accepted`);
    expect(s.json.version).to.equal(1);
    expect(JSON.stringify(s.json.state)).to.contain('fleetConfig');
    const device = await h.client.send(new GetCoreDeviceCommand({ coreDeviceThingName: T }));
    expect(device.status).to.equal('HEALTHY');
    const eff = await h.client.send(new ListEffectiveDeploymentsCommand({ coreDeviceThingName: T }));
    expect(eff.effectiveDeployments?.find((e) => e.iotJobId === jobId)?.coreDeviceExecutionStatus).to.equal(
      'IN_PROGRESS',
    );
  });
});
