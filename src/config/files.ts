// Durable file primitives: fsync'd writes, directory fsync, and the `+`/`~` commit protocol [CF-18].
import { open, rename, stat } from 'node:fs/promises';
import { dirname } from 'node:path';

export async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

export async function exists(file: string): Promise<boolean> {
  try {
    await stat(file);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw e;
  }
}

/** Writes `data` to `file` and fsyncs it (truncating any previous content). */
export async function writeFileSynced(file: string, data: string | Buffer): Promise<void> {
  const fh = await open(file, 'w', 0o600);
  try {
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** [CF-18] write `<f>+` with sync, then move `<f>` -> `<f>~` and `<f>+` -> `<f>`, then fsync the directory. */
export async function commitFile(file: string, data: string | Buffer): Promise<void> {
  await writeFileSynced(`${file}+`, data);
  if (await exists(file)) await rename(file, `${file}~`);
  await rename(`${file}+`, file);
  await fsyncDir(dirname(file));
}
