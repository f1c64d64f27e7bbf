// The controller used when no cgroupfs is writable (or not Linux) [LC-81]: limits are not enforced,
// as with the reference's stub controller; pausing is refused because nothing could freeze.

import type { ResourceLimits } from '../types.js';
import { validateLimits } from './cgroupfs.js';
import type { CgroupController, CgroupUsage } from './types.js';

export class NoCgroupController implements CgroupController {
  readonly version = 'none' as const;
  readonly root = null;

  /** why cgroups are unavailable, for the nucleus log */
  constructor(readonly reason: string) {}

  async apply(_component: string, limits: ResourceLimits): Promise<void> {
    validateLimits(limits);
  }
  async addProcess(): Promise<void> {}
  async pids(): Promise<number[]> {
    return [];
  }
  async pause(component: string): Promise<void> {
    throw new Error(`cannot pause ${component}: no writable cgroup freezer (${this.reason})`);
  }
  async resume(component: string): Promise<void> {
    throw new Error(`cannot resume ${component}: no writable cgroup freezer (${this.reason})`);
  }
  async killAll(): Promise<void> {}
  async remove(): Promise<void> {}
  async usage(): Promise<CgroupUsage> {
    return { cpuNanos: null, memoryBytes: null };
  }
}
