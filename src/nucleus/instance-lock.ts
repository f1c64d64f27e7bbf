// One nucleus per root: a pid file created exclusively. A lock left by a process that no longer
// exists (kill -9, power loss) is taken over; a live holder makes the second instance refuse.
import { closeSync, openSync, readFileSync, unlinkSync, writeSync, fsyncSync } from 'node:fs';

export class InstanceLockedError extends Error {
  constructor(
    readonly lockFile: string,
    readonly holderPid: number,
  ) {
    super(`another Tendril nucleus (pid ${holderPid}) already runs on this root (lock ${lockFile})`);
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export interface InstanceLock {
  release(): void;
}

export function acquireInstanceLock(lockFile: string): InstanceLock {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(lockFile, 'wx', 0o600);
      writeSync(fd, `${process.pid}\n`);
      fsyncSync(fd);
      closeSync(fd);
      let released = false;
      return {
        release() {
          if (released) return;
          released = true;
          try {
            if (Number(readFileSync(lockFile, 'utf8').trim()) === process.pid) unlinkSync(lockFile);
          } catch {
            /* already gone */
          }
        },
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const holder = Number(readFileSync(lockFile, 'utf8').trim());
      if (Number.isInteger(holder) && holder > 0 && holder !== process.pid && alive(holder)) {
        throw new InstanceLockedError(lockFile, holder);
      }
      unlinkSync(lockFile); // stale: its holder is gone
    }
  }
  throw new Error(`could not take the instance lock ${lockFile}`);
}
