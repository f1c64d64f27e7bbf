// cgroup v2 [LC-77]: one unified hierarchy, `<root>/<parent>/<component>`, controllers enabled
// through cgroup.subtree_control of the root and the parent, freezing through cgroup.freeze.

import { existsSync } from 'node:fs';
import * as path from 'node:path';
import type { ResourceLimits } from '../types.js';
import {
  cfsQuota,
  checkGroupName,
  ensureDir,
  memoryBytes,
  movePids,
  readControl,
  readPids,
  removeWhenEmpty,
  signalAll,
  validateLimits,
  waitFor,
  writeControl,
} from './cgroupfs.js';
import {
  type CgroupController,
  type CgroupOptions,
  type CgroupUsage,
  DEFAULT_CGROUP_PARENT,
  DEFAULT_CGROUP_ROOT,
} from './types.js';

export const V2_WANTED_CONTROLLERS = ['cpu', 'io', 'memory', 'pids'] as const;
export const DEFAULT_CPU_PERIOD_US = 100000;

const FREEZE_TIMEOUT_MS = 5000;
const EMPTY_TIMEOUT_MS = 5000;

/** `cpu.max` content for the limits: `<quota> <period>` or `max <period>` [LC-77]. */
export function cpuMaxValue(limits: ResourceLimits, periodUs: number): string {
  const quota = cfsQuota(limits, periodUs, 'round');
  return `${quota === null ? 'max' : String(quota)} ${periodUs}`;
}

export class CgroupV2Controller implements CgroupController {
  readonly version = 2 as const;
  readonly root: string;
  readonly parent: string;
  /** controllers that were enabled for the components, after the first use */
  enabled: string[] | null = null;
  private enabling: Promise<string[]> | null = null;

  constructor(options: CgroupOptions = {}) {
    this.root = options.root ?? DEFAULT_CGROUP_ROOT;
    this.parent = options.parent ?? DEFAULT_CGROUP_PARENT;
    checkGroupName(this.parent, 'cgroup parent');
  }

  get base(): string {
    return path.join(this.root, this.parent);
  }

  dir(component: string): string {
    checkGroupName(component, 'component');
    return path.join(this.base, component);
  }

  /**
   * Creates the parent group and enables the wanted controllers that the root offers, once, in the
   * root's and the parent's cgroup.subtree_control [LC-77]. Controllers that cannot be enabled
   * (e.g. bound to a v1 hierarchy) are left out; apply() reports them when a limit needs them.
   */
  private ensureParent(): Promise<string[]> {
    this.enabling ??= (async () => {
      await ensureDir(this.base);
      const available = ((await readControl(path.join(this.root, 'cgroup.controllers'))) ?? '').split(/\s+/);
      const enabled: string[] = [];
      for (const c of V2_WANTED_CONTROLLERS) {
        if (!available.includes(c)) continue;
        try {
          await writeControl(path.join(this.root, 'cgroup.subtree_control'), `+${c}`);
          await writeControl(path.join(this.base, 'cgroup.subtree_control'), `+${c}`);
          enabled.push(c);
        } catch {
          // not delegable here; reported by apply() if a limit needs it
        }
      }
      this.enabled = enabled;
      return enabled;
    })();
    return this.enabling;
  }

  private async ensure(component: string): Promise<string> {
    await this.ensureParent();
    const dir = this.dir(component);
    await ensureDir(dir);
    return dir;
  }

  private async controllerFile(dir: string, controller: string, file: string): Promise<string> {
    const full = path.join(dir, file);
    if ((await readControl(full)) === null) {
      const offered = (await readControl(path.join(this.root, 'cgroup.controllers'))) ?? '';
      throw new Error(
        `cgroup v2 controller '${controller}' is not available for ${dir} (${file} missing; ${this.root}/cgroup.controllers offers: '${offered}')`,
      );
    }
    return full;
  }

  async apply(component: string, limits: ResourceLimits): Promise<void> {
    validateLimits(limits);
    const dir = await this.ensure(component);
    const bytes = memoryBytes(limits);
    if (bytes !== null) {
      await writeControl(await this.controllerFile(dir, 'memory', 'memory.max'), String(bytes));
    } else if ((await readControl(path.join(dir, 'memory.max'))) !== null) {
      await writeControl(path.join(dir, 'memory.max'), 'max');
    }
    const wantsCpu = limits.cpus !== undefined && limits.cpus > 0;
    const current = await readControl(path.join(dir, 'cpu.max'));
    if (wantsCpu || current !== null) {
      const file = await this.controllerFile(dir, 'cpu', 'cpu.max');
      const period = Number((current ?? '').split(' ')[1]) || DEFAULT_CPU_PERIOD_US;
      await writeControl(file, cpuMaxValue(limits, period));
    }
  }

  async addProcess(component: string, pid: number, opts: { descendants?: boolean } = {}): Promise<void> {
    const dir = await this.ensure(component);
    await movePids([path.join(dir, 'cgroup.procs')], pid, opts.descendants ?? true);
  }

  async pids(component: string): Promise<number[]> {
    return readPids(path.join(this.dir(component), 'cgroup.procs'));
  }

  async pause(component: string): Promise<void> {
    await this.setFrozen(component, true);
  }

  async resume(component: string): Promise<void> {
    await this.setFrozen(component, false);
  }

  private async setFrozen(component: string, frozen: boolean): Promise<void> {
    if (!frozen && !existsSync(this.dir(component))) return; // nothing there to thaw
    const dir = await this.ensure(component);
    await writeControl(path.join(dir, 'cgroup.freeze'), frozen ? '1' : '0');
    const events = path.join(dir, 'cgroup.events');
    const want = `frozen ${frozen ? 1 : 0}`;
    const reached = await waitFor(
      async () => ((await readControl(events)) ?? '').split('\n').includes(want),
      FREEZE_TIMEOUT_MS,
    );
    if (!reached) throw new Error(`${events} did not report '${want}' within ${FREEZE_TIMEOUT_MS} ms`);
  }

  async killAll(component: string): Promise<void> {
    const dir = this.dir(component);
    const killFile = path.join(dir, 'cgroup.kill');
    if (existsSync(killFile)) await writeControl(killFile, '1');
    else signalAll(await this.pids(component), 'SIGKILL');
    const emptied = await waitFor(async () => {
      const left = await this.pids(component);
      signalAll(left, 'SIGKILL');
      return left.length === 0;
    }, EMPTY_TIMEOUT_MS);
    if (!emptied)
      throw new Error(
        `processes of ${component} survive SIGKILL: ${(await this.pids(component)).join(', ')}`,
      );
  }

  async remove(component: string): Promise<void> {
    await removeWhenEmpty(this.dir(component), EMPTY_TIMEOUT_MS);
  }

  async usage(component: string): Promise<CgroupUsage> {
    const dir = this.dir(component);
    const stat = (await readControl(path.join(dir, 'cpu.stat'))) ?? '';
    const usec = /^usage_usec (\d+)$/m.exec(stat);
    const mem = await readControl(path.join(dir, 'memory.current'));
    return { cpuNanos: usec ? Number(usec[1]) * 1000 : null, memoryBytes: mem === null ? null : Number(mem) };
  }
}
