// The Greengrass CLI operations served by a real nucleus, called with the official IPC client as the
// greengrass-cli does (token from <root>/cli_ipc_info [CF-75]) and as ordinary components
// [IPC-68..IPC-76, IPC-89, IPC-97]. Components run as real processes under the user nobody.
import { expect } from 'chai';
import { officialClient, rpcError, errorCode, errorMessage } from '../../support/ipc-client.js';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { greengrasscoreipc } from 'aws-iot-device-sdk-v2';
import { Nucleus } from '../../../src/nucleus/index.js';
import { waitFor } from '../../support/daemon.js';

type Client = greengrasscoreipc.Client;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function recipe(name: string, version: string, run: string, extra = ''): string {
  return [
    'RecipeFormatVersion: "2020-01-25"',
    `ComponentName: ${name}`,
    `ComponentVersion: "${version}"`,
    extra,
    'Manifests:',
    '  - Lifecycle:',
    `      Run: ${JSON.stringify(run)}`,
  ]
    .filter(Boolean)
    .join('\n');
}

describe('IPC CLI service (real nucleus, official client)', function () {
  this.timeout(60000);
  let dir: string;
  let root: string;
  let recipes: string;
  let gate: string;
  let nucleus: Nucleus;
  const clients: Client[] = [];

  function clientWith(token: string): Promise<Client> {
    const client = officialClient(nucleus.ipc.plan.absolutePath, token);
    clients.push(client);
    return client.connect().then(() => client);
  }
  const cliInfo = () =>
    JSON.parse(readFileSync(join(root, 'cli_ipc_info', 'info.json'), 'utf8')) as {
      cli_auth_token: string;
      domain_socket_path: string;
    };
  const asCli = () => clientWith(cliInfo().cli_auth_token);
  const asComponent = (name: string) => clientWith(nucleus.ipc.tokens.issue(name));
  const state = (name: string) => nucleus.manager.get(name)?.state;

  before(async function () {
    if (process.getuid?.() !== 0) {
      console.log('      skipped: needs root to run components as nobody');
      this.skip();
    }
    dir = mkdtempSync(join(tmpdir(), 'tendril-cli-'));
    chmodSync(dir, 0o755); // the component user (nobody) must reach the root
    root = join(dir, 'root');
    recipes = join(dir, 'recipes');
    mkdirSync(recipes);
    gate = join(dir, 'gate');
    writeFileSync(
      join(recipes, 'com.example.Sleeper-1.0.0.yaml'),
      recipe('com.example.Sleeper', '1.0.0', 'sleep 600'),
    );
    writeFileSync(
      join(recipes, 'com.example.Configured-1.0.0.yaml'),
      recipe(
        'com.example.Configured',
        '1.0.0',
        'sleep 600',
        'ComponentConfiguration:\n  DefaultConfiguration:\n    Greeting: hello\n    Level: 1',
      ),
    );
    // STARTING (its startup step waits) until the test creates the gate file: keeps a deployment IN_PROGRESS
    writeFileSync(
      join(recipes, 'com.example.Gated-1.0.0.yaml'),
      [
        'RecipeFormatVersion: "2020-01-25"',
        'ComponentName: com.example.Gated',
        'ComponentVersion: "1.0.0"',
        'Manifests:',
        '  - Lifecycle:',
        `      Startup: ${JSON.stringify(`while [ ! -e ${gate} ]; do sleep 0.1; done`)}`,
      ].join('\n'),
    );
    const init = join(dir, 'init.yaml');
    writeFileSync(
      init,
      [
        'services:',
        '  aws.greengrass.Nucleus:',
        '    version: "2.12.0"',
        '    configuration: { runWithDefault: { posixUser: "nobody:nogroup" } }',
        '  com.example.Running:',
        '    version: "3.1.4"',
        '    configuration: { Mode: fast, Nested: { Depth: 2 } }',
        '    lifecycle: { run: "sleep 600" }',
        '  com.example.Lister:',
        '    version: "1.0.0"',
        '    configuration:',
        '      accessControl:',
        '        aws.greengrass.Cli:',
        '          "com.example.Lister:cli:1":',
        '            operations: ["aws.greengrass#ListComponents", "aws.greengrass#GetComponentDetails"]',
        '            resources: ["*"]',
        '    lifecycle: { run: "sleep 600" }',
        '',
      ].join('\n'),
    );
    nucleus = await Nucleus.start({ root, initConfigFile: init });
    await waitFor('com.example.Running RUNNING', () => state('com.example.Running') === 'RUNNING');
  });

  after(async () => {
    for (const c of clients) await c.close().catch(() => undefined);
    await nucleus?.stop();
    if (dir && !process.env.KEEP_TEST_DIRS) rmSync(dir, { recursive: true, force: true });
  });

  it('[CF-75] writes the CLI token and socket path to cli_ipc_info, readable by owner and group only', async () => {
    const dirMode = statSync(join(root, 'cli_ipc_info')).mode & 0o777;
    const fileMode = statSync(join(root, 'cli_ipc_info', 'info.json')).mode & 0o777;
    expect(dirMode).to.equal(0o750);
    expect(fileMode).to.equal(0o640);
    const info = cliInfo();
    expect(info.domain_socket_path).to.equal(join(root, 'ipc.socket'));
    expect(info.cli_auth_token).to.match(/^[A-Z2-7]{16}$/);
    const cli = await asCli();
    const r = await cli.listComponents({});
    expect(r.components?.length).to.be.greaterThan(0);
  });

  it('[IPC-72] ListComponents lists the nucleus and every component with version and state', async () => {
    const cli = await asCli();
    const { components } = await cli.listComponents({});
    const byName = new Map((components ?? []).map((c) => [c.componentName, c]));
    expect(byName.get('aws.greengrass.Nucleus')).to.include({ version: '2.12.0', state: 'RUNNING' });
    expect(byName.get('com.example.Running')).to.include({ version: '3.1.4', state: 'RUNNING' });
    expect(byName.has('main')).to.equal(false);
  });

  it('[IPC-73] GetComponentDetails answers version, state and configuration', async () => {
    const cli = await asCli();
    const { componentDetails } = await cli.getComponentDetails({ componentName: 'com.example.Running' });
    expect(componentDetails).to.deep.equal({
      componentName: 'com.example.Running',
      version: '3.1.4',
      state: 'RUNNING',
      configuration: { Mode: 'fast', Nested: { Depth: 2 } },
    });
  });

  it('[IPC-73] GetComponentDetails: an unknown component is ResourceNotFoundError, an empty name InvalidArgumentsError', async () => {
    const cli = await asCli();
    const missing = await rpcError(cli.getComponentDetails({ componentName: 'com.example.Nope' }));
    expect(errorCode(missing)).to.equal('ResourceNotFoundError');
    expect(errorMessage(missing)).to.contain('com.example.Nope');
    const empty = await rpcError(cli.getComponentDetails({ componentName: '' }));
    expect(errorCode(empty)).to.equal('InvalidArgumentsError');
    expect(errorMessage(empty)).to.contain('componentName');
  });

  it('[IPC-74] RestartComponent restarts the component: it stops and runs again', async () => {
    const cli = await asCli();
    const seen: string[] = [];
    const off = nucleus.manager.onStateChange((e) => {
      if (e.component === 'com.example.Running') seen.push(e.newState);
    });
    try {
      const r = await cli.restartComponent({ componentName: 'com.example.Running' });
      expect(r.restartStatus).to.equal('SUCCEEDED');
      await waitFor('running again', () => seen.includes('STOPPING') && seen.at(-1) === 'RUNNING');
    } finally {
      off();
    }
  });

  it('[IPC-74][IPC-75] Restart/StopComponent: an unknown component is ComponentNotFoundError, a missing name InvalidArgumentsError, and nothing changes', async () => {
    const cli = await asCli();
    for (const call of [
      () => cli.restartComponent({ componentName: 'com.example.Nope' }),
      () => cli.stopComponent({ componentName: 'com.example.Nope' }),
    ]) {
      const e = await rpcError(call());
      expect(errorCode(e)).to.equal('ComponentNotFoundError');
      expect(errorMessage(e)).to.contain('com.example.Nope');
    }
    const blank = await rpcError(cli.stopComponent({ componentName: ' ' }));
    expect(errorCode(blank)).to.equal('InvalidArgumentsError');
    expect(errorMessage(blank)).to.contain('componentName');
    expect(state('com.example.Running')).to.equal('RUNNING');
  });

  it('[IPC-91][IPC-97] a component with a policy for some CLI operations may call those and no others', async () => {
    const lister = await asComponent('com.example.Lister');
    const { components } = await lister.listComponents({});
    expect(components?.map((c) => c.componentName)).to.include('com.example.Lister');
    const details = await lister.getComponentDetails({ componentName: 'com.example.Running' });
    expect(details.componentDetails.state).to.equal('RUNNING');
    const e = await rpcError(lister.restartComponent({ componentName: 'com.example.Running' }));
    expect(errorCode(e)).to.equal('ServiceError');
    expect(errorMessage(e)).to.contain(
      'is not authorized to perform aws.greengrass.Cli:aws.greengrass#RestartComponent',
    );
  });

  it('[IPC-75] StopComponent stops the component: it ends FINISHED', async () => {
    const cli = await asCli();
    const r = await cli.stopComponent({ componentName: 'com.example.Running' });
    expect(r.stopStatus).to.equal('SUCCEEDED');
    await waitFor('FINISHED', () => state('com.example.Running') === 'FINISHED');
    const { componentDetails } = await cli.getComponentDetails({ componentName: 'com.example.Running' });
    expect(componentDetails.state).to.equal('FINISHED');
  });

  it('[IPC-68][IPC-70][IPC-71][DP-01] CreateLocalDeployment queues a LOCAL deployment with a UUID; its status reaches SUCCEEDED with the configuration merged', async () => {
    const cli = await asCli();
    const { deploymentId } = await cli.createLocalDeployment({
      recipeDirectoryPath: recipes,
      rootComponentVersionsToAdd: new Map([
        ['com.example.Sleeper', '1.0.0'],
        ['com.example.Configured', '1.0.0'],
      ]),
      componentToConfiguration: new Map([['com.example.Configured', { MERGE: { Level: 5 } }]]),
    });
    expect(deploymentId).to.match(UUID);
    const first = await cli.getLocalDeploymentStatus({ deploymentId: deploymentId! });
    expect(['QUEUED', 'IN_PROGRESS', 'SUCCEEDED']).to.include(first.deployment.status);
    expect(Number(first.deployment.createdOn)).to.be.closeTo(Date.now(), 60000);
    let status = first.deployment.status;
    while (status === 'QUEUED' || status === 'IN_PROGRESS') {
      await new Promise((r) => setTimeout(r, 100));
      status = (await cli.getLocalDeploymentStatus({ deploymentId: deploymentId! })).deployment.status;
    }
    expect(status).to.equal('SUCCEEDED');
    const { localDeployments } = await cli.listLocalDeployments({});
    expect(localDeployments?.find((d) => d.deploymentId === deploymentId)?.status).to.equal('SUCCEEDED');
    const { componentDetails } = await cli.getComponentDetails({ componentName: 'com.example.Configured' });
    expect(componentDetails.version).to.equal('1.0.0');
    expect(componentDetails.configuration).to.deep.equal({ Greeting: 'hello', Level: 5 });
    await waitFor('Sleeper RUNNING', () => state('com.example.Sleeper') === 'RUNNING');
  });

  it('[IPC-68] CreateLocalDeployment refuses bad requests with the declared error naming the field, and queues nothing', async () => {
    const cli = await asCli();
    const known = new Set((await cli.listLocalDeployments({})).localDeployments?.map((d) => d.deploymentId));
    const add = new Map([['com.example.Sleeper', '1.0.0']]);
    const cases: Array<[greengrasscoreipc.model.CreateLocalDeploymentRequest, string, string]> = [
      [
        { recipeDirectoryPath: join(dir, 'absent'), rootComponentVersionsToAdd: add },
        'InvalidRecipeDirectoryPathError',
        'recipeDirectoryPath',
      ],
      [
        { recipeDirectoryPath: 'relative/recipes', rootComponentVersionsToAdd: add },
        'InvalidRecipeDirectoryPathError',
        'recipeDirectoryPath',
      ],
      [
        {
          artifactsDirectoryPath: join(recipes, 'com.example.Sleeper-1.0.0.yaml'),
          rootComponentVersionsToAdd: add,
        },
        'InvalidArtifactsDirectoryPathError',
        'artifactsDirectoryPath',
      ],
      [
        {
          rootComponentVersionsToAdd: add,
          failureHandlingPolicy: 'SOMETIMES' as greengrasscoreipc.model.FailureHandlingPolicy,
        },
        'InvalidArgumentsError',
        'failureHandlingPolicy',
      ],
      [
        { rootComponentVersionsToAdd: new Map([['com.example.Sleeper', 'one']]) },
        'InvalidArgumentsError',
        'rootComponentVersionsToAdd',
      ],
      [{ rootComponentsToRemove: [''] }, 'InvalidArgumentsError', 'rootComponentsToRemove[0]'],
      [
        { componentToConfiguration: new Map([['com.example.Sleeper', { MERGE: 'x' }]]) },
        'InvalidArgumentsError',
        'componentToConfiguration',
      ],
      [
        { componentToConfiguration: new Map([['com.example.Sleeper', { UPSERT: {} }]]) },
        'InvalidArgumentsError',
        'UPSERT',
      ],
      [
        {
          componentToRunWithInfo: new Map([
            ['com.example.Sleeper', { systemResourceLimits: { memory: -1 } }],
          ]),
        },
        'InvalidArgumentsError',
        'systemResourceLimits.memory',
      ],
      [{}, 'InvalidArgumentsError', 'changes nothing'],
    ];
    for (const [req, code, field] of cases) {
      const e = await rpcError(cli.createLocalDeployment(req));
      expect(errorCode(e), JSON.stringify(field)).to.equal(code);
      expect(errorMessage(e)).to.contain(field);
    }
    // nothing new was queued or recorded (an earlier deployment may still be leaving the queue)
    expect(nucleus.queue.entries().filter((e) => !known.has(e.id))).to.deep.equal([]);
    const after = (await cli.listLocalDeployments({})).localDeployments?.map((d) => d.deploymentId);
    expect(after?.filter((id) => !known.has(id))).to.deep.equal([]);
  });

  it('[IPC-69][IPC-70][DP-74] a deployment waiting behind one IN_PROGRESS is QUEUED, and CancelLocalDeployment ends it CANCELED', async () => {
    const cli = await asCli();
    const gated = await cli.createLocalDeployment({
      recipeDirectoryPath: recipes,
      rootComponentVersionsToAdd: new Map([['com.example.Gated', '1.0.0']]),
    });
    const waiting = await cli.createLocalDeployment({
      rootComponentsToRemove: ['com.example.Sleeper'],
    });
    const statusOf = async (id: string) =>
      (await cli.getLocalDeploymentStatus({ deploymentId: id })).deployment.status;
    await waitFor('the gated deployment IN_PROGRESS', () => state('com.example.Gated') !== undefined);
    expect(await statusOf(gated.deploymentId!)).to.equal('IN_PROGRESS');
    expect(await statusOf(waiting.deploymentId!)).to.equal('QUEUED');
    const listed = (await cli.listLocalDeployments({})).localDeployments ?? [];
    expect(listed[0].deploymentId, 'newest first').to.equal(waiting.deploymentId);

    const r = await cli.cancelLocalDeployment({ deploymentId: waiting.deploymentId });
    expect(r.message).to.contain(waiting.deploymentId!);
    writeFileSync(gate, 'open');
    let s = await statusOf(waiting.deploymentId!);
    while (s === 'QUEUED' || s === 'IN_PROGRESS') {
      await new Promise((res) => setTimeout(res, 100));
      s = await statusOf(waiting.deploymentId!);
    }
    expect(s).to.equal('CANCELED');
    expect(await statusOf(gated.deploymentId!)).to.equal('SUCCEEDED');
    // the cancelled removal never happened
    expect(state('com.example.Sleeper')).to.equal('RUNNING');

    // a finished deployment cannot be cancelled; the refusal changes nothing
    const done = await rpcError(cli.cancelLocalDeployment({ deploymentId: gated.deploymentId }));
    expect(errorCode(done)).to.equal('ServiceError');
    expect(errorMessage(done)).to.contain('SUCCEEDED');
    expect(await statusOf(gated.deploymentId!)).to.equal('SUCCEEDED');
  });

  it('[IPC-69][IPC-70] unknown deployment ids are ResourceNotFoundError; a missing id is InvalidArgumentsError', async () => {
    const cli = await asCli();
    const id = '00000000-0000-4000-8000-000000000000';
    const status = await rpcError(cli.getLocalDeploymentStatus({ deploymentId: id }));
    expect(errorCode(status)).to.equal('ResourceNotFoundError');
    expect(errorMessage(status)).to.contain(id);
    const cancel = await rpcError(cli.cancelLocalDeployment({ deploymentId: id }));
    expect(errorCode(cancel)).to.equal('ResourceNotFoundError');
    const missing = await rpcError(cli.cancelLocalDeployment({}));
    expect(errorCode(missing)).to.equal('InvalidArgumentsError');
    expect(errorMessage(missing)).to.contain('deploymentId');
    // GetLocalDeploymentStatus declares no InvalidArguments: ServiceError naming the field [IPC-31]
    const empty = await rpcError(cli.getLocalDeploymentStatus({ deploymentId: '' }));
    expect(errorCode(empty)).to.equal('ServiceError');
    expect(errorMessage(empty)).to.contain('deploymentId');
  });

  it('[IPC-76][IPC-88] CreateDebugPassword answers ServiceError "not supported"', async () => {
    const cli = await asCli();
    const e = await rpcError(cli.createDebugPassword({}));
    expect(errorCode(e)).to.equal('ServiceError');
    expect(errorMessage(e)).to.contain('not supported');
  });

  it('[IPC-89][IPC-97] a component without an aws.greengrass.Cli policy is refused every CLI operation', async () => {
    const plain = await asComponent('com.example.Sleeper');
    const known = new Set(nucleus.queue.entries().map((e) => e.id));
    for (const d of nucleus.history.list()) known.add(d.deploymentId);
    const calls: Array<[string, () => Promise<unknown>]> = [
      ['ListComponents', () => plain.listComponents({})],
      ['GetComponentDetails', () => plain.getComponentDetails({ componentName: 'com.example.Sleeper' })],
      ['RestartComponent', () => plain.restartComponent({ componentName: 'com.example.Sleeper' })],
      ['StopComponent', () => plain.stopComponent({ componentName: 'com.example.Sleeper' })],
      [
        'CreateLocalDeployment',
        () => plain.createLocalDeployment({ rootComponentsToRemove: ['com.example.Lister'] }),
      ],
      ['CancelLocalDeployment', () => plain.cancelLocalDeployment({ deploymentId: 'x' })],
      ['GetLocalDeploymentStatus', () => plain.getLocalDeploymentStatus({ deploymentId: 'x' })],
      ['ListLocalDeployments', () => plain.listLocalDeployments({})],
      ['CreateDebugPassword', () => plain.createDebugPassword({})],
    ];
    for (const [op, call] of calls) {
      const e = await rpcError(call());
      // UnauthorizedError where the operation declares it, else ServiceError with the same text [IPC-31]
      expect(['UnauthorizedError', 'ServiceError'], op).to.include(errorCode(e));
      expect(errorMessage(e), op).to.contain(
        `Principal com.example.Sleeper is not authorized to perform aws.greengrass.Cli:aws.greengrass#${op}`,
      );
    }
    expect(nucleus.queue.entries().filter((e) => !known.has(e.id))).to.deep.equal([]);
    expect(state('com.example.Sleeper')).to.equal('RUNNING');
  });
});
