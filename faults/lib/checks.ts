// What "the device is consistent" means after a fault, as checks over the real root, /proc and
// cgroupfs. Each check throws with a message naming what is wrong (see report.ts `check`).
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';
import yaml from 'js-yaml';
import { applyTlog, Configuration, readTlogFile } from '../../src/config/index.js';
import { ComponentStore } from '../../src/deployment/index.js';
import { recipeFileName, recipesDir } from '../../src/recipe/index.js';
import { processesWith } from '../../test/support/daemon.js';
import { check } from './report.js';

/** Parent pid from /proc/<pid>/stat (undefined when gone). */
export function ppidOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return undefined;
  }
}

export function descendsFrom(pid: number, ancestor: number): boolean {
  for (let p: number | undefined = pid, i = 0; p && p > 1 && i < 64; i++) {
    if (p === ancestor) return true;
    p = ppidOf(p);
  }
  return false;
}

/** Live processes of components of the nucleus on `root` (they carry its IPC socket path). */
export const componentProcesses = (root: string) => processesWith(join(root, 'ipc.socket'));

/** No component process of `root` outside the tree of the nucleus `daemonPid` (none at all if undefined). */
export function checkNoOrphans(root: string, daemonPid: number | undefined): void {
  const strays = componentProcesses(root).filter(
    (p) => daemonPid === undefined || !descendsFrom(p, daemonPid),
  );
  check(
    strays.length === 0,
    `${strays.length} component process(es) not started by the running nucleus: ${strays
      .slice(0, 5)
      .map((p) => `${p} (${readFileSync(`/proc/${p}/cmdline`, 'utf8').replace(/\0/g, ' ').trim()})`)
      .join(', ')}`,
  );
}

const CGROUP_ROOT = '/sys/fs/cgroup';

/** Component cgroups (every hierarchy, v1 and v2) whose name starts with `prefix`, with their pids. */
export function componentCgroups(prefix: string): { dir: string; pids: number[] }[] {
  const out: { dir: string; pids: number[] }[] = [];
  let mounts: string[];
  try {
    mounts = readdirSync(CGROUP_ROOT);
  } catch {
    return out;
  }
  const parents = [join(CGROUP_ROOT, 'tendril'), ...mounts.map((m) => join(CGROUP_ROOT, m, 'tendril'))];
  for (const parent of parents) {
    let names: string[];
    try {
      names = readdirSync(parent).filter((n) => n.startsWith(prefix));
    } catch {
      continue;
    }
    for (const n of names) {
      const dir = join(parent, n);
      let pids: number[] = [];
      try {
        pids = readFileSync(join(dir, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean).map(Number);
      } catch {
        /* removed meanwhile */
      }
      out.push({ dir, pids });
    }
  }
  return out;
}

/**
 * No orphan cgroup: every cgroup of a `prefix` component belongs to a component in `expected`, and
 * every process in it descends from the running nucleus.
 */
export function checkCgroups(prefix: string, expected: string[], daemonPid: number | undefined): void {
  for (const g of componentCgroups(prefix)) {
    const name = g.dir.split('/').at(-1)!;
    check(
      expected.includes(name) || g.pids.length === 0 || daemonPid === undefined,
      `cgroup ${g.dir} of ${name} (not a running component) holds pids ${g.pids.join(',')}`,
    );
    const foreign = g.pids.filter((p) => daemonPid === undefined || !descendsFrom(p, daemonPid));
    check(foreign.length === 0, `cgroup ${g.dir} holds pids ${foreign.join(',')} not of the running nucleus`);
  }
}

/** Empty cgroups of `prefix` components that are not running: left behind (reported, then removed). */
export function leftoverCgroups(prefix: string, running: string[]): string[] {
  return componentCgroups(prefix)
    .filter((g) => !running.includes(g.dir.split('/').at(-1)!))
    .map((g) => g.dir);
}

/** Removes the empty cgroups of `prefix` components (after the nucleus stopped); returns them. */
export function removeCgroups(prefix: string): string[] {
  const removed: string[] = [];
  for (const g of componentCgroups(prefix))
    try {
      rmdirSync(g.dir);
      removed.push(g.dir);
    } catch {
      /* still in use, or gone */
    }
  return removed;
}

/**
 * The component store holds the recipe of `name@version` and every artifact it names with the
 * recipe's digest; no import or download is left half done.
 */
export async function checkStore(root: string, name: string, version: string): Promise<void> {
  const store = new ComponentStore(root);
  const versions = await store.listVersions(name);
  const found = versions.find((v) => v.version === version);
  check(
    found,
    `the component store has no recipe of ${name}@${version} (it has ${versions.map((v) => v.version).join(', ') || 'none'})`,
  );
  const raw = yaml.load(readFileSync(join(recipesDir(root), recipeFileName(name, version)), 'utf8')) as {
    Manifests?: { Artifacts?: { Uri: string; Digest?: string }[] }[];
  };
  for (const a of raw.Manifests?.flatMap((m) => m.Artifacts ?? []) ?? []) {
    const file = join(root, 'packages', 'artifacts', name, version, a.Uri.split(/[:/]/).at(-1)!);
    check(existsSync(file), `artifact ${a.Uri} of ${name}@${version} is missing from the store`);
    if (a.Digest) {
      const h = createHash('sha256');
      h.update(readFileSync(file));
      check(h.digest('base64') === a.Digest, `artifact ${file} does not match its recipe digest`);
    }
  }
  const staging = readdirSync(join(root, 'packages')).filter((n) => n.startsWith('.staging-'));
  check(staging.length === 0, `import staging left behind: ${staging.join(', ')}`);
}

/**
 * The config tlog reloads (read-only, as a restart would): every line parses, and the services tree
 * it yields has `name` at `version` (undefined: absent).
 */
export async function checkTlog(root: string, name: string, version: string | undefined): Promise<string> {
  const file = join(root, 'config', 'config.tlog');
  const parsed = await readTlogFile(file);
  const config = new Configuration();
  applyTlog(config, parsed.lines);
  const services = config.toMap(['services']) as Record<string, { version?: string } | undefined>;
  const found = services[name]?.version;
  check(
    found === version,
    `the reloaded tlog has ${name} at ${found ?? 'absent'}, expected ${version ?? 'absent'}`,
  );
  return `${parsed.lines.length} lines${parsed.tornTail ? ', torn tail dropped' : ''}`;
}
