// A small tmpfs for disk-full tests and faults (root only): mount, fill to the last byte, unmount.
import { execFileSync } from 'node:child_process';
import { closeSync, mkdirSync, openSync, statfsSync, writeSync } from 'node:fs';

/** Mounts a tmpfs of `mb` MiB at `dir`; returns the reason when that is not possible here. */
export function mountTmpfs(dir: string, mb: number): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root to mount a tmpfs';
  mkdirSync(dir, { recursive: true });
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${mb}m,mode=755`, 'tmpfs', dir], { stdio: 'pipe' });
    return undefined;
  } catch (e) {
    return `mount -t tmpfs failed: ${String((e as { stderr?: Buffer }).stderr ?? (e as Error).message).trim()}`;
  }
}

export function unmount(dir: string, lazy = false): void {
  execFileSync('umount', lazy ? ['-l', dir] : [dir], { stdio: 'pipe' });
}

/** Bytes still usable on the file system of `dir`. */
export function freeBytes(dir: string): number {
  const s = statfsSync(dir);
  return s.bavail * s.bsize;
}

/** Writes zeros to `file` until the file system is full (down to the last byte). */
export function fill(file: string): void {
  const fd = openSync(file, 'w');
  try {
    for (const size of [2 ** 20, 4096, 1]) {
      const chunk = Buffer.alloc(size);
      for (;;) {
        try {
          writeSync(fd, chunk);
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code === 'ENOSPC') break;
          throw e;
        }
      }
    }
  } finally {
    closeSync(fd);
  }
}
