// Detection [LC-74]: cgroup v2 when `<root>/cgroup.controllers` exists, else v1 when controller
// hierarchies are mounted under the root, else none. "Usable" means the parent group can be created.

import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import * as path from 'node:path';
import { NoCgroupController } from './none.js';
import {
  type CgroupController,
  type CgroupOptions,
  DEFAULT_CGROUP_PARENT,
  DEFAULT_CGROUP_ROOT,
} from './types.js';
import { CgroupV1Controller, type V1Controller, findV1Mounts } from './v1.js';
import { CgroupV2Controller } from './v2.js';

async function canCreate(dir: string): Promise<string | null> {
  try {
    await mkdir(dir, { recursive: true });
    return null;
  } catch (err) {
    return `${dir}: ${(err as Error).message}`;
  }
}

export async function detectResourceController(options: CgroupOptions = {}): Promise<CgroupController> {
  const root = options.root ?? DEFAULT_CGROUP_ROOT;
  const parent = options.parent ?? DEFAULT_CGROUP_PARENT;
  if (process.platform !== 'linux')
    return new NoCgroupController(`platform ${process.platform} has no cgroups`);

  if (existsSync(path.join(root, 'cgroup.controllers'))) {
    const failure = await canCreate(path.join(root, parent));
    return failure
      ? new NoCgroupController(`cgroup v2 at ${root} is not writable (${failure})`)
      : new CgroupV2Controller({ root, parent });
  }

  const mounts = findV1Mounts(root);
  const usable: Partial<Record<V1Controller, string>> = {};
  const failures: string[] = [];
  for (const [controller, mount] of Object.entries(mounts) as [V1Controller, string][]) {
    const failure = await canCreate(path.join(mount, parent));
    if (failure) failures.push(failure);
    else usable[controller] = mount;
  }
  if (Object.keys(usable).length > 0) return new CgroupV1Controller({ root, parent, mounts: usable });
  if (Object.keys(mounts).length === 0)
    return new NoCgroupController(`no cgroup v2 or v1 hierarchy mounted under ${root}`);
  return new NoCgroupController(
    `cgroup v1 hierarchies under ${root} are not writable (${failures.join('; ')})`,
  );
}
