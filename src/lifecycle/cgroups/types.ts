import type { ResourceController } from '../types.js';

export interface CgroupUsage {
  /** CPU time used by the cgroup, nanoseconds (cpuacct.usage / cpu.stat usage_usec) */
  cpuNanos: number | null;
  /** current memory charge, bytes */
  memoryBytes: number | null;
}

/** A ResourceController that can also list and measure a component's cgroup. */
export interface CgroupController extends ResourceController {
  /** the cgroupfs root this controller writes under, null for 'none' */
  readonly root: string | null;
  /** pids currently in the component's cgroups (union over hierarchies) */
  pids(component: string): Promise<number[]>;
  usage(component: string): Promise<CgroupUsage>;
}

export interface CgroupOptions {
  /** cgroupfs mount root, default /sys/fs/cgroup */
  root?: string;
  /** the one parent group all components live under, default `tendril` */
  parent?: string;
}

export const DEFAULT_CGROUP_ROOT = '/sys/fs/cgroup';
export const DEFAULT_CGROUP_PARENT = 'tendril';
