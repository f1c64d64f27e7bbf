import {
  CancelDeploymentCommand,
  CreateComponentVersionCommand,
  CreateDeploymentCommand,
  GetCoreDeviceCommand,
  ListCoreDevicesCommand,
  ListEffectiveDeploymentsCommand,
  ListInstalledComponentsCommand,
} from '@aws-sdk/client-greengrassv2';
import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ProvisionResult } from '../../../src/localcloud/index.js';
import { credentialsOf, fleetStatus, jobsTopic, ScriptedDevice } from './device-helpers.js';
import { recipeBytes, simpleRecipe, startHarness, type Harness } from './helpers.js';

const GROUP_ARN = 'arn:aws:iot:us-east-1:123456789012:thinggroup/fleet';
const NS = 'namespace-aws-gg-deployment';

describe('localcloud device side: IoT jobs deployments over MQTT', function () {
  let h: Harness;
  let out: string;
  let core: ProvisionResult;
  let dev: ScriptedDevice;
  const T = 'core1';
  const next = (rest: string) => jobsTopic(T, `$next/${NS}/${rest}`);
  const upd = (jobId: string, rest = '') => jobsTopic(T, `${jobId}/${NS}/update${rest}`);
  const notifyTopic = jobsTopic(T, 'notify-namespace-aws-gg-deployment');
  const notifyNextTopic = jobsTopic(T, 'notify-next-namespace-aws-gg-deployment');

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
    // [CL-06]: subscribe to the get replies and the notifications, then ask for $next.
    await dev.subscribe(next('get/accepted'), next('get/rejected'), notifyTopic, notifyNextTopic);
    // The launch status makes the core device known to the cloud (CL-53).
    await dev.publish(`$aws/things/${T}/greengrassv2/health/json`, fleetStatus(T));
  });
  afterEach(async () => {
    await dev.close();
    await h.close();
    rmSync(out, { recursive: true, force: true });
  });

  const deploy = () =>
    h.client.send(
      new CreateDeploymentCommand({
        targetArn: GROUP_ARN,
        deploymentName: 'fleet-deploy',
        components: {
          'com.example.App': {
            componentVersion: '1.0.0',
            configurationUpdate: { merge: '{"level":"debug"}' },
          },
        },
      }),
    );

  it('[CL-06] [CL-07] [CL-08] answers $next/get with no execution when nothing is pending', async () => {
    const reply = await dev.call(
      next('get'),
      { thingName: T, includeJobDocument: true, jobId: '$next' },
      next('get/accepted'),
    );
    expect(reply.json).to.have.property('timestamp').that.is.a('number');
    expect(reply.json).not.to.have.property('execution');
  });

  it('[CP-63] [CL-02] [CL-08] [CL-10] [CL-13] [CL-53] delivers a group deployment, takes IN_PROGRESS then SUCCEEDED, and the SDK sees it', async () => {
    const notified = dev.next(notifyTopic, (j) => 'QUEUED' in ((j.jobs as object) ?? {}));
    const notifiedNext = dev.next(notifyNextTopic, (j) => j.execution !== undefined);
    const created = await deploy();
    const n = await notified;
    const queued = (n.json.jobs as { QUEUED: { jobId: string; queuedAt: number }[] }).QUEUED;
    expect(queued.map((q) => q.jobId)).to.deep.equal([created.iotJobId]);
    expect(Number.isInteger(queued[0].queuedAt)).to.equal(true);
    expect(((await notifiedNext).json.execution as { jobId: string }).jobId).to.equal(created.iotJobId);

    const reply = await dev.call(
      next('get'),
      { thingName: T, includeJobDocument: true, jobId: '$next' },
      next('get/accepted'),
    );
    const exec = reply.json.execution as Record<string, unknown>;
    expect(exec).to.include({ jobId: created.iotJobId, thingName: T, status: 'QUEUED', versionNumber: 1 });
    const doc = exec.jobDocument as Record<string, unknown>;
    expect(doc.deploymentId).to.equal(created.deploymentId);
    expect(doc.configurationArn).to.equal(
      'arn:aws:greengrass:us-east-1:123456789012:configuration:thinggroup/fleet:1',
    );
    expect(doc.components).to.deep.equal({
      'com.example.App': { version: '1.0.0', configurationUpdate: { merge: { level: 'debug' } } },
    });
    expect(doc.creationTimestamp).to.be.a('number').greaterThan(1e12);

    const jobId = created.iotJobId!;
    await dev.subscribe(upd(jobId, '/accepted'), upd(jobId, '/rejected'));
    const started = await dev.call(
      upd(jobId),
      { thingName: T, statusDetails: {}, status: 'IN_PROGRESS', jobId },
      upd(jobId, '/accepted'),
    );
    expect(started.json).to.have.property('timestamp');
    let eff = await h.client.send(new ListEffectiveDeploymentsCommand({ coreDeviceThingName: T }));
    expect(eff.effectiveDeployments?.[0]).to.include({
      deploymentId: created.deploymentId,
      iotJobId: jobId,
      coreDeviceExecutionStatus: 'IN_PROGRESS',
    });
    // [CL-14]: a repeated IN_PROGRESS is accepted.
    await dev.call(upd(jobId), { thingName: T, status: 'IN_PROGRESS', jobId }, upd(jobId, '/accepted'));

    const emptied = dev.next(notifyTopic, (j) => JSON.stringify(j.jobs) === '{}');
    await dev.call(
      upd(jobId),
      {
        thingName: T,
        statusDetails: { 'detailed-deployment-status': 'SUCCESSFUL' },
        status: 'SUCCEEDED',
        jobId,
      },
      upd(jobId, '/accepted'),
    );
    await emptied; // [CL-11]
    // Fleet status after the terminal status [CL-44] [CL-46].
    const ts = Date.now();
    await dev.publish(`$aws/things/${T}/greengrassv2/health/json`, {
      ggcVersion: '2.18.0',
      platform: 'linux',
      architecture: 'amd64',
      thing: T,
      overallDeviceStatus: 'HEALTHY',
      sequenceNumber: 3,
      timestamp: ts,
      messageType: 'PARTIAL',
      trigger: 'THING_GROUP_DEPLOYMENT',
      components: [
        {
          componentName: 'com.example.App',
          version: '1.0.0',
          fleetConfigArns: [doc.configurationArn],
          componentStatusDetails: null,
          isRoot: true,
          status: 'RUNNING',
        },
        {
          componentName: 'aws.greengrass.Nucleus',
          version: '2.18.0',
          fleetConfigArns: [],
          componentStatusDetails: null,
          isRoot: false,
          status: 'FINISHED',
        },
      ],
      deploymentInformation: {
        status: 'SUCCEEDED',
        statusDetails: {
          detailedStatus: 'SUCCESSFUL',
          failureCause: null,
          errorStack: null,
          errorTypes: null,
        },
        fleetConfigurationArnForStatus: doc.configurationArn,
        deploymentId: created.deploymentId,
        unchangedRootComponents: [],
      },
    });
    eff = await h.client.send(new ListEffectiveDeploymentsCommand({ coreDeviceThingName: T }));
    expect(eff.effectiveDeployments?.[0].coreDeviceExecutionStatus).to.equal('SUCCEEDED');
    expect(eff.effectiveDeployments?.[0].reason).to.equal('SUCCESSFUL');
    const device = await h.client.send(new GetCoreDeviceCommand({ coreDeviceThingName: T }));
    expect(device).to.include({
      status: 'HEALTHY',
      coreVersion: '2.18.0',
      platform: 'linux',
      architecture: 'amd64',
    });
    expect(device.lastStatusUpdateTimestamp?.getTime()).to.equal(ts);
    const listed = await h.client.send(new ListCoreDevicesCommand({ thingGroupArn: GROUP_ARN }));
    expect(listed.coreDevices?.map((c) => c.coreDeviceThingName)).to.deep.equal([T]);
    const installed = await h.client.send(
      new ListInstalledComponentsCommand({ coreDeviceThingName: T, topologyFilter: 'ALL' }),
    );
    expect(
      installed.installedComponents?.map((c) => [c.componentName, c.lifecycleState, c.isRoot]),
    ).to.deep.equal([
      ['aws.greengrass.Nucleus', 'FINISHED', false],
      ['com.example.App', 'RUNNING', true],
    ]);
    expect(installed.installedComponents?.[1].lastInstallationSource).to.equal(created.deploymentId);

    // A terminal execution refuses further updates [CL-16].
    const refused = await dev.call(upd(jobId), { status: 'IN_PROGRESS' }, upd(jobId, '/rejected'));
    expect(refused.json).to.include({ code: 'InvalidStateTransition' });
    expect((refused.json.executionState as { status: string }).status).to.equal('SUCCEEDED');
  });

  it('[CL-15] [CL-16] rejects bad updates precisely and changes nothing', async () => {
    const created = await deploy();
    const jobId = created.iotJobId!;
    await dev.subscribe(upd(jobId, '/accepted'), upd(jobId, '/rejected'), upd('nosuchjob', '/rejected'));
    const cases: [string, unknown, string, string][] = [
      [jobId, '{not json', 'InvalidJson', 'not valid JSON'],
      [jobId, { status: 'QUEUED' }, 'InvalidRequest', 'status must be one of'],
      [jobId, { status: 'IN_PROGRESS', statusDetails: { k: 5 } }, 'InvalidRequest', 'statusDetails.k'],
      [jobId, { status: 'IN_PROGRESS', expectedVersion: 7 }, 'VersionMismatch', 'expectedVersion 7'],
      [jobId, { status: 'IN_PROGRESS', thingName: 'other' }, 'InvalidRequest', 'thingName other'],
      ['nosuchjob', { status: 'IN_PROGRESS' }, 'ResourceNotFound', 'nosuchjob'],
    ];
    for (const [id, payload, code, text] of cases) {
      const r = await dev.call(upd(id), payload, upd(id, '/rejected'));
      expect(r.json.code, JSON.stringify(payload)).to.equal(code);
      expect(r.json.message).to.contain(text);
    }
    const reply = await dev.call(next('get'), { jobId: '$next', thingName: T }, next('get/accepted'));
    expect(reply.json.execution).to.include({ status: 'QUEUED', versionNumber: 1 });
    // With the right expectedVersion the update goes through.
    const ok = await dev.call(
      upd(jobId),
      { status: 'IN_PROGRESS', expectedVersion: 1, includeJobExecutionState: true },
      upd(jobId, '/accepted'),
    );
    expect(ok.json.executionState).to.deep.equal({
      status: 'IN_PROGRESS',
      statusDetails: {},
      versionNumber: 2,
    });
  });

  it('[CP-63] [CL-11] [CL-12] cancels the execution when the deployment is cancelled or superseded', async () => {
    const first = await deploy();
    const second = await deploy(); // supersedes the first revision
    const r1 = await dev.call(next('get'), { jobId: '$next', thingName: T }, next('get/accepted'));
    const exec = r1.json.execution as { jobId: string; jobDocument: { configurationArn: string } };
    expect(exec.jobId).to.equal(second.iotJobId);
    expect(exec.jobDocument.configurationArn).to.match(/thinggroup\/fleet:2$/);
    const jobId1 = first.iotJobId!;
    await dev.subscribe(upd(jobId1, '/rejected'));
    const refused = await dev.call(upd(jobId1), { status: 'IN_PROGRESS' }, upd(jobId1, '/rejected'));
    expect((refused.json.executionState as { status: string }).status).to.equal('CANCELED');

    const emptied = dev.next(notifyTopic, (j) => JSON.stringify(j.jobs) === '{}');
    const nextEmpty = dev.next(notifyNextTopic, (j) => j.execution === undefined);
    await h.client.send(new CancelDeploymentCommand({ deploymentId: second.deploymentId }));
    await emptied;
    await nextEmpty;
    const r2 = await dev.call(next('get'), { jobId: '$next', thingName: T }, next('get/accepted'));
    expect(r2.json).not.to.have.property('execution');
    const eff = await h.client.send(new ListEffectiveDeploymentsCommand({ coreDeviceThingName: T }));
    expect(
      eff.effectiveDeployments?.map((e) => [e.deploymentId, e.coreDeviceExecutionStatus]).sort(),
    ).to.deep.equal(
      [
        [first.deploymentId, 'CANCELED'],
        [second.deploymentId, 'CANCELED'],
      ].sort(),
    );
  });

  it('[CP-63] queues the active group deployment for a thing that joins the group later', async () => {
    const created = await deploy();
    const later = await h.cloud.provision({ thingName: 'core2', outDir: join(out, 'core2') });
    const dev2 = await ScriptedDevice.connect(h.cloud.device.mqttPort, credentialsOf(later), 'core2');
    try {
      const topic = jobsTopic('core2', 'notify-namespace-aws-gg-deployment');
      await dev2.subscribe(topic);
      const notified = dev2.next(topic, (j) => 'QUEUED' in ((j.jobs as object) ?? {}));
      await h.cloud.addThingToGroup('fleet', 'core2');
      const n = await notified;
      expect((n.json.jobs as { QUEUED: { jobId: string }[] }).QUEUED[0].jobId).to.equal(created.iotJobId);
    } finally {
      await dev2.close();
    }
  });
});
