// cgroup v1 [LC-76]: one hierarchy per controller (memory, cpu, cpuacct, freezer; cpu and cpuacct
// may share a `cpu,cpuacct` mount), each with `<mount>/<parent>/<component>`.

import { existsSync, readdirSync, statSync } from 'node:fs';
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

export const V1_CONTROLLERS = ['memory', 'cpu', 'cpuacct', 'freezer'] as const;
export type V1Controller = (typeof V1_CONTROLLERS)[number];

/** Finds each controller's mount under `root` (`memory`, `cpu,cpuacct`, ...); absent ones are omitted. */
export function findV1Mounts(root: string): Partial<Record<V1Controller, string>> {
  let entries: string[];
  try {
    entries = readdirSync(root);
  } catch {
    return {};
  }
  const out: Partial<Record<V1Controller, string>> = {};
  for (const c of V1_CONTROLLERS) {
    const candidates = entries.filter((e) => e.split(',').includes(c)).sort((a, b) => a.length - b.length);
    for (const e of candidates) {
      const dir = path.join(root, e);
      try {
        if (statSync(dir).isDirectory() && statSync(path.join(dir, 'cgroup.procs')).isFile()) {
          out[c] = dir;
          break;
        }
      } catch {
        // not a mounted hierarchy
      }
    }
  }
  return out;
}

const FREEZE_TIMEOUT_MS = 5000;
const EMPTY_TIMEOUT_MS = 5000;

export class CgroupV1Controller implements CgroupController {
  readonly version = 1 as const;
  readonly root: string;
  readonly parent: string;
  readonly mounts: Partial<Record<V1Controller, string>>;

  constructor(options: CgroupOptions & { mounts?: Partial<Record<V1Controller, string>> } = {}) {
    this.root = options.root ?? DEFAULT_CGROUP_ROOT;
    this.parent = options.parent ?? DEFAULT_CGROUP_PARENT;
    checkGroupName(this.parent, 'cgroup parent');
    this.mounts = options.mounts ?? findV1Mounts(this.root);
  }

  /** The component's directory in one controller's hierarchy, or null if that controller is absent. */
  dir(controller: V1Controller, component: string): string | null {
    checkGroupName(component, 'component');
    const mount = this.mounts[controller];
    return mount ? path.join(mount, this.parent, component) : null;
  }

  /** Distinct component directories over all hierarchies (a shared cpu,cpuacct mount counts once). */
  dirs(component: string): string[] {
    const set = new Set<string>();
    for (const c of V1_CONTROLLERS) {
      const d = this.dir(c, component);
      if (d) set.add(d);
    }
    return [...set];
  }

  private require(controller: V1Controller, component: string, why: string): string {
    const d = this.dir(controller, component);
    if (!d)
      throw new Error(
        `cgroup v1 '${controller}' hierarchy is not mounted under ${this.root}; needed to ${why}`,
      );
    return d;
  }

  async apply(component: string, limits: ResourceLimits): Promise<void> {
    validateLimits(limits);
    const bytes = memoryBytes(limits);
    const memDir =
      bytes === null ? this.dir('memory', component) : this.require('memory', component, 'limit memory');
    if (memDir) {
      await ensureDir(memDir);
      await writeControl(path.join(memDir, 'memory.limit_in_bytes'), bytes === null ? '-1' : String(bytes));
    }
    const wantsCpu = limits.cpus !== undefined && limits.cpus > 0;
    const cpuDir = wantsCpu ? this.require('cpu', component, 'limit cpus') : this.dir('cpu', component);
    if (cpuDir) {
      await ensureDir(cpuDir);
      const period = Number((await readControl(path.join(cpuDir, 'cpu.cfs_period_us'))) ?? '100000');
      const quota = cfsQuota(limits, period, 'floor');
      await writeControl(path.join(cpuDir, 'cpu.cfs_quota_us'), quota === null ? '-1' : String(quota));
    }
  }

  async addProcess(component: string, pid: number, opts: { descendants?: boolean } = {}): Promise<void> {
    const dirs = this.dirs(component);
    for (const d of dirs) await ensureDir(d);
    await movePids(
      dirs.map((d) => path.join(d, 'cgroup.procs')),
      pid,
      opts.descendants ?? true,
    );
  }

  async pids(component: string): Promise<number[]> {
    const all = new Set<number>();
    for (const d of this.dirs(component))
      for (const p of await readPids(path.join(d, 'cgroup.procs'))) all.add(p);
    return [...all];
  }

  async pause(component: string): Promise<void> {
    await this.setFreezer(component, 'FROZEN');
  }

  async resume(component: string): Promise<void> {
    await this.setFreezer(component, 'THAWED');
  }

  private async setFreezer(component: string, state: 'FROZEN' | 'THAWED'): Promise<void> {
    const dir = this.require('freezer', component, state === 'FROZEN' ? 'pause' : 'resume');
    if (state === 'THAWED' && !existsSync(dir)) return; // nothing there to thaw
    await ensureDir(dir);
    const file = path.join(dir, 'freezer.state');
    await writeControl(file, state);
    // v1 freezing can stall in FREEZING (a task busy in the kernel, a fork racing the freeze); the
    // kernel's cgroup-v1 freezer documentation says to write FROZEN again to retry, so each poll does.
    const reached = await waitFor(async () => {
      const now = await readControl(file);
      if (now === state) return true;
      if (state === 'FROZEN' && now === 'FREEZING') await writeControl(file, 'FROZEN');
      return false;
    }, FREEZE_TIMEOUT_MS);
    if (!reached) throw new Error(`${file} did not reach ${state} within ${FREEZE_TIMEOUT_MS} ms`);
  }

  async killAll(component: string): Promise<void> {
    signalAll(await this.pids(component), 'SIGKILL');
    // a frozen task only dies once thawed
    const freezer = this.dir('freezer', component);
    if (freezer && ((await readControl(path.join(freezer, 'freezer.state'))) ?? 'THAWED') !== 'THAWED') {
      await writeControl(path.join(freezer, 'freezer.state'), 'THAWED');
    }
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
    for (const d of this.dirs(component)) await removeWhenEmpty(d, EMPTY_TIMEOUT_MS);
  }

  async usage(component: string): Promise<CgroupUsage> {
    const acct = this.dir('cpuacct', component);
    const mem = this.dir('memory', component);
    const cpu = acct ? await readControl(path.join(acct, 'cpuacct.usage')) : null;
    const bytes = mem ? await readControl(path.join(mem, 'memory.usage_in_bytes')) : null;
    return {
      cpuNanos: cpu === null ? null : Number(cpu),
      memoryBytes: bytes === null ? null : Number(bytes),
    };
  }
}
