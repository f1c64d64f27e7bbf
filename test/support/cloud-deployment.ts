// The cloud happy path shared by the e2e tests of each broker: the example components uploaded and
// created with the unmodified SDK, a nucleus provisioned by the local cloud and started on it (components
// run as nobody, so root is needed), and the checks of a thing-group deployment as the SDK sees them.
import {
  CreateComponentVersionCommand,
  CreateDeploymentCommand,
  GetCoreDeviceCommand,
  ListEffectiveDeploymentsCommand,
  ListInstalledComponentsCommand,
  type EffectiveDeployment,
} from '@aws-sdk/client-greengrassv2';
import { expect } from 'chai';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import yaml from 'js-yaml';
import { Nucleus } from '../../src/nucleus/index.js';
import { repoRoot } from './daemon.js';
import { eventually, type CloudHarness } from '../integration/iot/helpers.js';

const examples = join(repoRoot, 'examples', 'components');

/** Uploads each example component's artifact (so the cloud computes its digest), then creates it. */
export async function createExampleComponents(h: CloudHarness, components: [name: string, file: string][]) {
  for (const [name, file] of components) {
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
}

export interface CloudNucleus {
  nucleus: Nucleus;
  root: string;
  thing: string;
  /** The component's log file as written so far ('' before it exists). */
  log(component: string): string;
  effective(deploymentId: string): Promise<EffectiveDeployment | undefined>;
  /** Waits for the deployment to leave QUEUED/IN_PROGRESS on this core. */
  terminal(deploymentId: string): Promise<EffectiveDeployment>;
  stop(): Promise<void>;
}

/**
 * Provisions `thing` into `group` through the local cloud, starts the nucleus with the written config
 * (components as nobody:nogroup) and waits until the launch status made the core device known.
 */
export async function startCloudNucleus(
  h: CloudHarness,
  thing: string,
  group: string,
): Promise<CloudNucleus> {
  const device = join(h.dir, 'device');
  const p = await h.cloud.provision({ thingName: thing, thingGroup: group, outDir: device });
  const init = yaml.load(readFileSync(p.configPath, 'utf8')) as {
    services: Record<string, { configuration: Record<string, unknown> }>;
  };
  init.services['aws.greengrass.Nucleus'].configuration.runWithDefault = { posixUser: 'nobody:nogroup' };
  writeFileSync(join(device, 'init.yaml'), yaml.dump(init));
  const root = join(h.dir, 'root');
  const nucleus = await Nucleus.start({ root, initConfigFile: join(device, 'init.yaml') });
  const n = cloudNucleusView(h, nucleus, root, thing);
  try {
    // [CL-49] [CL-53] the launch status makes the core device known to the cloud.
    await eventually(
      'the core device',
      async () =>
        (await h.client.send(new GetCoreDeviceCommand({ coreDeviceThingName: thing })).catch(() => undefined))
          ?.status,
    );
  } catch (e) {
    await nucleus.stop();
    throw e;
  }
  return n;
}

/** The checks of a CloudNucleus over a running nucleus (also one restarted on an existing root). */
export function cloudNucleusView(
  h: CloudHarness,
  nucleus: Nucleus,
  root: string,
  thing: string,
): CloudNucleus {
  const effective = async (deploymentId: string) => {
    const r = await h.client.send(new ListEffectiveDeploymentsCommand({ coreDeviceThingName: thing }));
    return r.effectiveDeployments?.find((d) => d.deploymentId === deploymentId);
  };
  return {
    nucleus,
    root,
    thing,
    log: (c) => {
      const f = join(root, 'logs', `${c}.log`);
      return existsSync(f) ? readFileSync(f, 'utf8') : '';
    },
    effective,
    terminal: (deploymentId) =>
      eventually(
        `a terminal status of ${deploymentId}`,
        async () => {
          const d = await effective(deploymentId);
          return d && !['IN_PROGRESS', 'QUEUED'].includes(d.coreDeviceExecutionStatus ?? '') ? d : undefined;
        },
        60000,
      ),
    stop: () => nucleus.stop(),
  };
}

/**
 * Deploys com.example.HelloWorld with `message` to the thing group and checks what the SDK and the device
 * show: the deployment SUCCEEDED, the hello line logged, the artifact in the component store, the
 * component RUNNING in ListInstalledComponents and the core HEALTHY.
 */
export async function expectGroupHelloDeployment(
  h: CloudHarness,
  n: CloudNucleus,
  groupArn: string,
  deploymentName: string,
  message: string,
): Promise<void> {
  const created = await h.client.send(
    new CreateDeploymentCommand({
      targetArn: groupArn,
      deploymentName,
      components: {
        'com.example.HelloWorld': {
          componentVersion: '1.0.0',
          configurationUpdate: { merge: JSON.stringify({ Message: message }) },
        },
      },
    }),
  );
  const d = await n.terminal(created.deploymentId!);
  expect(d.coreDeviceExecutionStatus, JSON.stringify(d)).to.equal('SUCCEEDED');
  await eventually('the hello line', () => n.log('com.example.HelloWorld').includes(message));
  // downloaded into the component store with the recipe's digest checked
  expect(
    existsSync(join(n.root, 'packages', 'artifacts', 'com.example.HelloWorld', '1.0.0', 'hello.sh')),
  ).to.equal(true);
  const installed = await eventually('the installed component', async () => {
    const r = await h.client.send(new ListInstalledComponentsCommand({ coreDeviceThingName: n.thing }));
    return r.installedComponents?.find((c) => c.componentName === 'com.example.HelloWorld');
  });
  expect(installed).to.include({ componentVersion: '1.0.0', lifecycleState: 'RUNNING' });
  const core = await h.client.send(new GetCoreDeviceCommand({ coreDeviceThingName: n.thing }));
  expect(core.status).to.equal('HEALTHY');
}
