// Resource limits through cgroupfs, v1 and v2, under one parent group [LC-74..LC-81].

export {
  type CgroupController,
  type CgroupOptions,
  type CgroupUsage,
  DEFAULT_CGROUP_PARENT,
  DEFAULT_CGROUP_ROOT,
} from './types.js';
export { CgroupV1Controller, V1_CONTROLLERS, type V1Controller, findV1Mounts } from './v1.js';
export { CgroupV2Controller, V2_WANTED_CONTROLLERS, DEFAULT_CPU_PERIOD_US, cpuMaxValue } from './v2.js';
export { NoCgroupController } from './none.js';
export { detectResourceController } from './detect.js';
export { cfsQuota, memoryBytes, MIN_CFS_QUOTA_US } from './cgroupfs.js';
