// Artifact digests [RC-40] and file permissions [RC-42] as small pure helpers plus one file read.
import { createHash, type Hash } from 'node:crypto';
import { open } from 'node:fs/promises';
import type { Artifact } from '../recipe/index.js';

const ALGORITHMS: Record<string, string> = {
  'SHA-256': 'sha256',
  'SHA-384': 'sha384',
  'SHA-512': 'sha512',
  'SHA-1': 'sha1',
  MD5: 'md5',
};

/** Node's hash name for a recipe `Algorithm`, or undefined when unsupported. */
export function hashAlgorithm(recipeAlgorithm: string): string | undefined {
  return ALGORITHMS[recipeAlgorithm.toUpperCase()];
}

/** Standard Base64 of the file's digest [RC-40]. */
export async function fileDigest(file: string, nodeAlgorithm: string): Promise<string> {
  const hash = createHash(nodeAlgorithm);
  await hashFileInto(hash, file);
  return hash.digest('base64');
}

/** Feeds a whole file to `hash` through one reused buffer: constant memory, no per-read garbage. */
export async function hashFileInto(hash: Hash, file: string): Promise<void> {
  const f = await open(file, 'r');
  try {
    const buf = Buffer.allocUnsafeSlow(1 << 20);
    for (;;) {
      const { bytesRead } = await f.read(buf, 0, buf.length, null);
      if (bytesRead === 0) break;
      hash.update(buf.subarray(0, bytesRead));
    }
  } finally {
    await f.close();
  }
}

/**
 * [RC-42] Owner read always; OWNER adds the user and group bits, ALL adds the others' bits too; the
 * same for execute.
 */
export function permissionMode(permission: Artifact['permission']): number {
  let mode = 0o400;
  if (permission.read === 'OWNER') mode |= 0o040;
  if (permission.read === 'ALL') mode |= 0o044;
  if (permission.execute === 'OWNER') mode |= 0o110;
  if (permission.execute === 'ALL') mode |= 0o111;
  return mode;
}
