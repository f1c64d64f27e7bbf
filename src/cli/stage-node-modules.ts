// The example components written with the official IPC client need aws-iot-device-sdk-v2 at run time.
// They run as their own user (nobody, ggc_user), who usually cannot read Tendril's own node_modules
// (a clone under /root, a 0700 temp dir). This stages the package and its dependency closure into a
// directory the component user can read: hard links where the file system allows, copies otherwise.
import {
  chmodSync,
  copyFileSync,
  existsSync,
  linkSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  statSync,
} from 'node:fs';
import { join } from 'node:path';

/** The package and everything it depends on, as hoisted in `nodeModules` (nested trees come along). */
export function dependencyClosure(nodeModules: string, roots: string[]): string[] {
  const seen = new Set<string>();
  const queue = [...roots];
  while (queue.length) {
    const name = queue.pop()!;
    if (seen.has(name)) continue;
    const manifest = join(nodeModules, name, 'package.json');
    if (!existsSync(manifest)) throw new Error(`${name} is not installed in ${nodeModules}`);
    seen.add(name);
    const deps = (JSON.parse(readFileSync(manifest, 'utf8')) as { dependencies?: Record<string, string> })
      .dependencies;
    // a dependency nested under the package itself is copied with it; only hoisted ones are queued
    for (const d of Object.keys(deps ?? {}))
      if (!existsSync(join(nodeModules, name, 'node_modules', d))) queue.push(d);
  }
  return [...seen].sort();
}

function mirror(from: string, to: string): void {
  mkdirSync(to, { recursive: true, mode: 0o755 });
  chmodSync(to, 0o755);
  for (const entry of readdirSync(from, { withFileTypes: true })) {
    const a = join(from, entry.name);
    const b = join(to, entry.name);
    if (entry.isDirectory()) mirror(a, b);
    else if (entry.isFile() && !existsSync(b)) {
      try {
        linkSync(a, b);
      } catch {
        copyFileSync(a, b);
      }
      if ((statSync(b).mode & 0o004) === 0) chmodSync(b, statSync(b).mode | 0o044);
    }
  }
}

/** Stages `roots` and their closure from `nodeModules` into `dest` (a node_modules directory); returns `dest`. */
export function stageNodeModules(nodeModules: string, roots: string[], dest: string): string {
  for (const name of dependencyClosure(nodeModules, roots)) mirror(join(nodeModules, name), join(dest, name));
  return dest;
}
