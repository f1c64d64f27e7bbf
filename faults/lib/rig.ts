// A cloud-connected device for the families that need one: the local cloud process, a provisioned
// thing in its own group, the nucleus (dist/) on a root, a job observer on the broker, and one
// service component whose versions the families deploy. `verify` is the common check after a fault.
import { chmodSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import yaml from 'js-yaml';
import { CloudProcess, type Device } from './cloud.js';
import type { FamilyContext } from './family.js';
import { serviceRecipe } from './family.js';
import { JobObserver } from './observer.js';
import {
  checkCgroups,
  checkNoOrphans,
  checkStore,
  checkTlog,
  componentProcesses,
  leftoverCgroups,
  removeCgroups,
} from './checks.js';
import { componentDetails, NucleusProcess, readText, sleep, until } from './proc.js';
import { check, type Fault } from './report.js';

export interface Expected {
  status: 'SUCCEEDED' | 'FAILED';
  version: string;
  message: string;
}

export interface Deployed {
  deploymentId: string;
  jobId: string;
  version: string;
  message: string;
}

export class Rig {
  cloud: CloudProcess;
  device!: Device;
  nucleus!: NucleusProcess;
  observer!: JobObserver;
  readonly svc: string;
  readonly prefix: string;
  /** What runs now (after the last verified deployment). */
  current: { version: string; message: string } = { version: '', message: '' };
  private versions = 0;

  constructor(
    readonly ctx: FamilyContext,
    readonly label: string,
    readonly rootDir = join(ctx.dir, 'root'),
  ) {
    this.cloud = new CloudProcess(join(ctx.dir, 'cloud'));
    this.prefix = `com.faults${ctx.id}${label}.`;
    this.svc = `${this.prefix}Svc`;
  }

  get root(): string {
    return this.rootDir;
  }

  /** Cloud, device, nucleus and observer up; version 1.0.0 of the service deployed and verified. */
  /** `configure` may change the provisioned nucleus configuration before the first start. */
  async open(
    configure: (device: Device, nucleus: Record<string, unknown>) => Promise<void> = async () => {},
  ): Promise<void> {
    chmodSync(this.ctx.dir, 0o755);
    mkdirSync(this.rootDir, { recursive: true, mode: 0o755 });
    await this.cloud.start();
    const thing = `faults-${this.label}-${this.ctx.id}`;
    this.device = await this.cloud.provision(thing, thing, join(this.ctx.dir, 'device'));
    const init = yaml.load(readFileSync(this.device.initConfig, 'utf8')) as {
      services: Record<string, { configuration: Record<string, unknown> }>;
    };
    await configure(this.device, init.services['aws.greengrass.Nucleus'].configuration);
    writeFileSync(this.device.initConfig, yaml.dump(init));
    this.nucleus = new NucleusProcess(this.rootDir, this.device.initConfig);
    await this.nucleus.start();
    await this.cloud.deviceKnown(this.device);
    this.observer = await JobObserver.connect(this.cloud.ep, this.device);
    const first = await this.deployNew({});
    await this.verify(first, { status: 'SUCCEEDED', version: first.version, message: first.message });
  }

  /** Creates the next version of the service in the cloud and deploys it with a new Message. */
  async deployNew(o: {
    artifactBytes?: number;
    broken?: boolean;
    installSeconds?: number;
  }): Promise<Deployed> {
    const n = ++this.versions;
    const version = `1.${n}.0`;
    const message = `m${n}`;
    const artifact = Buffer.alloc(o.artifactBytes ?? 1024, n % 251);
    await this.cloud.createComponent(serviceRecipe(this.svc, version, o), { 'data.bin': artifact });
    const deploymentId = await this.cloud.deploy(this.device, {
      [this.svc]: {
        componentVersion: version,
        configurationUpdate: { merge: JSON.stringify({ Message: message }) },
      },
    });
    const jobId = await until(
      `the job of deployment ${deploymentId}`,
      async () => (await this.cloud.effective(this.device, deploymentId))?.iotJobId,
    );
    return { deploymentId, jobId, version, message };
  }

  svcLog(): string {
    return readText(join(this.rootDir, 'logs', `${this.svc}.log`));
  }

  /**
   * After a fault: the deployment ends with the expected terminal status in the cloud, the device
   * publishes and the cloud accepts exactly one terminal status for the job, the service runs the
   * expected version and configuration, one run process, no orphan process or cgroup, the component
   * store holds what runs and the tlog reloads to it. Returns notes of what was seen.
   */
  async verify(d: Deployed, want: Expected): Promise<string[]> {
    this.nucleus.assertAlive();
    const end = await this.cloud.terminal(this.device, d.deploymentId);
    check(
      end.coreDeviceExecutionStatus === want.status,
      `deployment ${d.deploymentId} ended ${end.coreDeviceExecutionStatus} (${end.reason ?? 'no reason'}), expected ${want.status}`,
    );
    const details = await until(`${this.svc} to run ${want.version}`, async () => {
      const x = await componentDetails(this.rootDir, this.svc);
      return x && x.state === 'RUNNING' && x.version === want.version ? x : undefined;
    }).catch(async (e: Error) => {
      const x = await componentDetails(this.rootDir, this.svc);
      throw new Error(`${e.message}; it is ${x ? `${x.version} ${x.state}` : 'unknown to the nucleus'}`);
    });
    check(
      details.configuration?.Message === want.message,
      `${this.svc} has Message ${String(details.configuration?.Message)}, expected ${want.message}`,
    );
    // the replies of the cloud settle (a late duplicate would show here)
    await until(
      `the cloud's replies to the device's updates of job ${d.jobId}`,
      () => {
        const t = this.observer.traffic(d.jobId);
        return t.replies.length === t.published.length && t.published.length > 0;
      },
      10_000,
    ).catch(() => undefined);
    await sleep(300);
    const pub = this.observer.terminalPublished(d.jobId);
    const accepted = this.observer.terminalAccepted(d.jobId);
    check(
      accepted !== 0,
      `the cloud accepted no terminal status of job ${d.jobId} (published: ${pub.join(',')})`,
    );
    check(
      accepted === undefined || accepted === 1,
      `the cloud accepted ${accepted} terminal statuses of job ${d.jobId}`,
    );
    const pid = this.nucleus.pid;
    checkNoOrphans(this.rootDir, pid);
    const runs = componentProcesses(this.rootDir).filter((p) =>
      readText(`/proc/${p}/cmdline`).startsWith('sleep\u0000100000'),
    );
    check(runs.length === 1, `${runs.length} run processes of ${this.svc}, expected 1`);
    checkCgroups(this.prefix, [this.svc], pid);
    await checkStore(this.rootDir, this.svc, want.version);
    await checkTlog(this.rootDir, this.svc, want.version);
    this.current = { version: want.version, message: want.message };
    const notes: string[] = [];
    if (pub.length > 1)
      notes.push(`terminal status re-published ${pub.length - 1}x, refused by the cloud as terminal`);
    if (accepted === undefined)
      notes.push('observer missed replies (broker down): acceptance counted from the cloud record');
    return notes;
  }

  /** After a failed check: takes what the device runs now as the current state (best effort). */
  async resync(fault?: Fault, restart = false): Promise<void> {
    if (!this.nucleus.running) {
      fault?.note(`the nucleus had exited (${this.nucleus.crashes.at(-1) ?? 'no output'}); started again`);
      await this.nucleus.start().catch(() => undefined);
    } else if (restart) {
      fault?.note('the nucleus was restarted to recover before the next injection');
      await this.nucleus.stop();
      await this.nucleus.start().catch(() => undefined);
    }
    await sleep(2000);
    const x = await componentDetails(this.rootDir, this.svc);
    if (x) this.current = { version: x.version, message: String(x.configuration?.Message) };
  }

  /** Stops everything the rig started (the nucleus gracefully); files stay. */
  async stopAll(): Promise<void> {
    await this.observer?.close().catch(() => undefined);
    if (this.nucleus?.running) await this.nucleus.stop();
    await this.cloud.stop();
    for (const p of componentProcesses(this.rootDir)) process.kill(p, 'SIGKILL');
    for (const g of removeCgroups(this.prefix)) this.ctx.log(`  removed the cgroup ${g} left behind`);
  }

  async close(): Promise<void> {
    await this.stopAll();
    if (!process.env.KEEP_FAULT_DIRS) rmSync(this.ctx.dir, { recursive: true, force: true });
  }
}

/**
 * A clean stop after the faults: the nucleus exits 0 on SIGTERM, no component process and no cgroup
 * of the family's components is left, and the tlog reloads without a torn tail.
 */
export async function cleanStop(rig: Rig): Promise<void> {
  const end = await rig.nucleus.stop();
  check(end.code === 0, `the nucleus exited ${end.code ?? end.signal} on SIGTERM`);
  const left = componentProcesses(rig.root);
  check(left.length === 0, `component processes left after the nucleus stopped: ${left.join(',')}`);
  const groups = leftoverCgroups(rig.prefix, []);
  check(groups.length === 0, `cgroups left after the nucleus stopped: ${groups.join(', ')}`);
  const lines = await checkTlog(rig.root, rig.svc, rig.current.version);
  check(!lines.includes('torn'), `the tlog has a torn tail after a clean stop (${lines})`);
}
