// Lifecycle IPC operations through the official client against a real LifecycleManager running real
// component processes: UpdateState [IPC-56, IPC-114, LC-09], PauseComponent / ResumeComponent with
// the real cgroup freezer [IPC-59, IPC-60, IPC-115, LC-80] and their authorization [IPC-97, IPC-100].
import { expect } from 'chai';
import { officialClient, rpcError, errorCode, errorMessage } from '../../support/ipc-client.js';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { greengrasscoreipc } from 'aws-iot-device-sdk-v2';
import {
  CgroupV1Controller,
  CgroupV2Controller,
  detectResourceController,
  LifecycleManager,
  ShellProcessLauncher,
  type CgroupController,
  type LifecycleState,
  type StateChangeEvent,
} from '../../../src/lifecycle/index.js';
import {
  AuthTokenRegistry,
  buildPolicyIndex,
  IpcServer,
  lifecycleControl,
  LifecycleService,
  OperationRegistry,
  policyAuthorizer,
} from '../../../src/ipc/index.js';
import { removeCgroupTree } from '../lifecycle/cgroup-support.js';

type Client = greengrasscoreipc.Client;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const { RUNNING, ERRORED } = greengrasscoreipc.model.ReportedLifecycleState;

const CGROUP_PARENT = `tendril-ipc-test-${process.pid}`;

/** A usable cgroup controller, or why there is none (pause/resume tests skip with that reason). */
async function cgroupController(): Promise<CgroupController | string> {
  if (process.platform !== 'linux') return 'not Linux';
  if (process.getuid?.() !== 0) return 'not root (cgroupfs is not writable)';
  const cg = await detectResourceController({ parent: CGROUP_PARENT });
  if (cg.version === 'none')
    return `no usable cgroup controller: ${(cg as { reason?: string }).reason ?? ''}`;
  if (cg instanceof CgroupV1Controller && !cg.mounts.freezer) return 'cgroup v1 without a freezer hierarchy';
  return cg;
}

/** The freezer control file of a component and the value it holds when frozen. */
function freezerOf(cg: CgroupController, component: string): { file: string; frozen: string } {
  if (cg instanceof CgroupV2Controller)
    return { file: join(cg.dir(component), 'cgroup.freeze'), frozen: '1' };
  const dir = (cg as CgroupV1Controller).dir('freezer', component);
  if (!dir) throw new Error('no freezer dir');
  return { file: join(dir, 'freezer.state'), frozen: 'FROZEN' };
}

function removeCgroups(cg: CgroupController): void {
  if (cg instanceof CgroupV1Controller)
    for (const m of new Set(Object.values(cg.mounts))) removeCgroupTree(join(m, CGROUP_PARENT));
  else if (cg.root) removeCgroupTree(join(cg.root, CGROUP_PARENT));
}

describe('IPC lifecycle service (official client, real supervisors and processes)', function () {
  let dir: string;
  let cg: CgroupController | undefined;
  let cgSkip = '';
  let manager: LifecycleManager;
  let server: IpcServer;
  let tokens: AuthTokenRegistry;
  let service: LifecycleService;
  let events: StateChangeEvent[];
  const clients: Client[] = [];

  before(async () => {
    const found = await cgroupController();
    if (typeof found === 'string') cgSkip = found;
    else cg = found;
  });
  after(() => {
    if (cg) removeCgroups(cg);
  });

  async function connect(component: string): Promise<Client> {
    const token = tokens.issue(component);
    const client = officialClient(server.socketPath, token);
    clients.push(client);
    await client.connect();
    return client;
  }

  let dropped: string[] = [];
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tendril-ipc-lc-'));
    events = [];
    dropped = [];
    manager = new LifecycleManager({
      launcher: new ShellProcessLauncher({ cgroups: cg }),
      resources: cg,
      workDir: (n) => {
        const d = join(dir, 'work', n);
        mkdirSync(d, { recursive: true });
        return d;
      },
      env: () => ({ PATH: process.env.PATH ?? '/usr/bin:/bin' }),
      killGraceMs: 300,
      backoff: { baseMs: 20, maxMs: 100 },
      stopTimeoutMs: 5000,
    });
    manager.onStateChange((e) => events.push(e));
    tokens = new AuthTokenRegistry();
    const registry = new OperationRegistry();
    service = new LifecycleService(lifecycleControl(manager), (m) => dropped.push(m)).register(registry);
    server = new IpcServer({
      socketPath: join(dir, 'ipc.socket'),
      authenticate: tokens.lookup,
      authorize: policyAuthorizer(
        buildPolicyIndex({
          Ctl: {
            'aws.greengrass.ipc.lifecycle': {
              'Ctl-pause': {
                operations: ['aws.greengrass#PauseComponent', 'aws.greengrass#ResumeComponent'],
                resources: ['com.example.*'],
              },
            },
          },
          PauseOnly: {
            'aws.greengrass.ipc.lifecycle': {
              'PauseOnly-1': { operations: ['aws.greengrass#PauseComponent'], resources: ['*'] },
            },
          },
        }),
      ),
      registry,
    });
    await server.listen();
  });
  afterEach(async () => {
    for (const c of clients.splice(0)) await c.close().catch(() => {});
    await server.close();
    await manager.close();
    await rm(dir, { recursive: true, force: true });
  });

  const settled = (name: string, state: LifecycleState) =>
    manager.get(name)!.waitFor((s) => s.state === state && s.idle);

  describe('UpdateState', () => {
    it('[IPC-56][IPC-114][LC-09] RUNNING from a component whose startup is long-running moves it STARTING -> RUNNING', async () => {
      manager.apply({ 'com.example.Slow': { lifecycle: { startup: 'exec sleep 600' } } });
      await settled('com.example.Slow', 'STARTING');
      const slow = await connect('com.example.Slow');
      expect(await slow.updateState({ state: RUNNING })).to.deep.equal({});
      expect(manager.get('com.example.Slow')!.state).to.equal('RUNNING');
      const mine = events.filter((e) => e.component === 'com.example.Slow').map((e) => e.newState);
      expect(mine.slice(-2)).to.deep.equal(['STARTING', 'RUNNING']);
    });

    it('[IPC-56][LC-09] ERRORED from a RUNNING component is applied to its supervisor', async () => {
      manager.apply({ 'com.example.Run': { lifecycle: { run: 'exec sleep 600' } } });
      await settled('com.example.Run', 'RUNNING');
      const run = await connect('com.example.Run');
      await run.updateState({ state: ERRORED });
      expect(
        events.some(
          (e) => e.component === 'com.example.Run' && e.oldState === 'RUNNING' && e.newState === 'ERRORED',
        ),
      ).to.equal(true);
    });

    it('[LC-09] a transition the component may not report is logged and dropped: the call succeeds and changes nothing', async () => {
      manager.apply({ 'com.example.Run': { lifecycle: { run: 'exec sleep 600' } } });
      await settled('com.example.Run', 'RUNNING');
      const run = await connect('com.example.Run');
      const before = events.length;
      expect(await run.updateState({ state: RUNNING })).to.deep.equal({});
      expect(dropped).to.deep.equal([
        'service-invalid-state-error: com.example.Run cannot report RUNNING while RUNNING; dropped',
      ]);
      expect(manager.get('com.example.Run')!.state).to.equal('RUNNING');
      expect(events.length).to.equal(before);
    });

    it('[IPC-56] a state outside RUNNING/ERRORED is ServiceError naming the field; an unknown caller is ResourceNotFoundError', async () => {
      manager.apply({ 'com.example.Run': { lifecycle: { run: 'exec sleep 600' } } });
      await settled('com.example.Run', 'RUNNING');
      const run = await connect('com.example.Run');
      const bad = await rpcError(
        run.updateState({ state: 'FINISHED' as greengrasscoreipc.model.ReportedLifecycleState }),
      );
      expect(errorCode(bad)).to.equal('ServiceError');
      expect(errorMessage(bad)).to.equal('state must be one of RUNNING, ERRORED, got "FINISHED"');
      const ghost = await connect('com.example.Ghost');
      const e = await rpcError(ghost.updateState({ state: RUNNING }));
      expect(errorCode(e)).to.equal('ResourceNotFoundError');
      expect((e.serviceError as { resourceName?: string }).resourceName).to.equal('com.example.Ghost');
    });
  });

  describe('PauseComponent / ResumeComponent', () => {
    const COUNTER =
      'i=0; while true; do i=$((i+1)); echo $i > counter.tmp; mv counter.tmp counter; sleep 0.02; done';
    const counterOf = (name: string) => {
      const file = join(dir, 'work', name, 'counter');
      return existsSync(file) ? Number(readFileSync(file, 'utf8').trim()) : 0;
    };
    const untilAbove = async (name: string, n: number) => {
      while (counterOf(name) <= n) await sleep(20);
    };

    it('[IPC-59][IPC-60][IPC-115][LC-80] freeze and thaw a real component process through the cgroup freezer', async function () {
      if (!cg) {
        console.log(`      skipping pause/resume: ${cgSkip}`);
        this.skip();
      }
      manager.apply({ 'com.example.Counter': { lifecycle: { run: COUNTER } } });
      await settled('com.example.Counter', 'RUNNING');
      await untilAbove('com.example.Counter', 2);
      const ctl = await connect('Ctl');
      expect(await ctl.pauseComponent({ componentName: 'com.example.Counter' })).to.deep.equal({});
      const freezer = freezerOf(cg!, 'com.example.Counter');
      expect(readFileSync(freezer.file, 'utf8').trim()).to.equal(freezer.frozen);
      expect(service.isPaused('com.example.Counter')).to.equal(true);
      const frozenAt = counterOf('com.example.Counter');
      await sleep(300); // a running loop would write ~15 times meanwhile
      expect(counterOf('com.example.Counter')).to.equal(frozenAt);
      expect(manager.get('com.example.Counter')!.state).to.equal('RUNNING');
      expect(await ctl.resumeComponent({ componentName: 'com.example.Counter' })).to.deep.equal({});
      expect(readFileSync(freezer.file, 'utf8').trim()).to.not.equal(freezer.frozen);
      await untilAbove('com.example.Counter', frozenAt); // bounded by the mocha timeout
      expect(service.isPaused('com.example.Counter')).to.equal(false);
    });

    it('[IPC-59][IPC-97] without a matching lifecycle policy the call is UnauthorizedError and nothing is frozen', async () => {
      manager.apply({
        'com.example.Run': { lifecycle: { run: 'exec sleep 600' } },
        Other: { lifecycle: { run: 'exec sleep 600' } },
      });
      await settled('com.example.Run', 'RUNNING');
      const stranger = await connect('Stranger');
      const e = await rpcError(stranger.pauseComponent({ componentName: 'com.example.Run' }));
      expect(errorCode(e)).to.equal('UnauthorizedError');
      expect(errorMessage(e)).to.equal(
        'Principal Stranger is not authorized to perform aws.greengrass.ipc.lifecycle:aws.greengrass#PauseComponent on resource com.example.Run',
      );
      const ctl = await connect('Ctl');
      const outside = await rpcError(ctl.pauseComponent({ componentName: 'Other' })); // policy covers com.example.*
      expect(errorCode(outside)).to.equal('UnauthorizedError');
      const pauseOnly = await connect('PauseOnly');
      const resume = await rpcError(pauseOnly.resumeComponent({ componentName: 'com.example.Run' }));
      expect(errorCode(resume)).to.equal('UnauthorizedError');
      expect(service.isPaused('com.example.Run')).to.equal(false);
      expect(service.isPaused('Other')).to.equal(false);
    });

    it('[IPC-59][IPC-60][IPC-115] unknown target is ResourceNotFoundError; a non-RUNNING target or resuming an unpaused one is ServiceError', async () => {
      manager.apply({
        'com.example.Done': { lifecycle: { run: 'exit 0' } },
        'com.example.Run': { lifecycle: { run: 'exec sleep 600' } },
      });
      await settled('com.example.Done', 'FINISHED');
      await settled('com.example.Run', 'RUNNING');
      const ctl = await connect('Ctl');
      const missing = await rpcError(ctl.pauseComponent({ componentName: 'com.example.Nope' }));
      expect(errorCode(missing)).to.equal('ResourceNotFoundError');
      expect(errorMessage(missing)).to.equal('Component com.example.Nope not found');
      const done = await rpcError(ctl.pauseComponent({ componentName: 'com.example.Done' }));
      expect(errorCode(done)).to.equal('ServiceError');
      expect(errorMessage(done)).to.equal(
        'componentName: com.example.Done is FINISHED; only a RUNNING component can be paused',
      );
      const notPaused = await rpcError(ctl.resumeComponent({ componentName: 'com.example.Run' }));
      expect(errorCode(notPaused)).to.equal('ServiceError');
      expect(errorMessage(notPaused)).to.equal('componentName: com.example.Run is not paused');
      const empty = await rpcError(ctl.pauseComponent({ componentName: '' }));
      expect(errorCode(empty)).to.equal('ServiceError');
      expect(errorMessage(empty)).to.equal('componentName is required and must be a non-empty string');
    });
  });
});
