// Artifacts live in a directory of the data dir, <dataDir>/artifacts/:
//   s3://BUCKET/KEY           -> artifacts/s3/BUCKET/KEY
//   greengrass:NAME (recipe of component C version V) -> artifacts/greengrass/C/V/NAME
// They get there by copying files into that directory, or through the local upload route
// `PUT /tendril/artifacts?uri=URI[&componentName=C&componentVersion=V]` (see api/artifacts.ts).
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync, mkdirSync, renameSync, statSync } from 'node:fs';
import { dirname, join, sep } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';

export type ArtifactLocation = { ok: true; relPath: string } | { ok: false; reason: string };

function safeSegments(parts: string[]): boolean {
  return parts.every((p) => p !== '' && p !== '.' && p !== '..' && !p.includes('\\') && !p.includes('\0'));
}

/** Where an artifact URI of a component version lives in the store; docker: and others are not stored. */
export function artifactLocation(
  uri: string,
  componentName: string,
  componentVersion: string,
): ArtifactLocation {
  if (uri.startsWith('s3://')) {
    const parts = uri.slice('s3://'.length).split('/');
    if (parts.length < 2 || !safeSegments(parts))
      return { ok: false, reason: `${uri} is not an s3://bucket/key URI` };
    return { ok: true, relPath: ['s3', ...parts].join('/') };
  }
  if (uri.startsWith('greengrass:')) {
    const parts = uri.slice('greengrass:'.length).split('/');
    if (!safeSegments(parts)) return { ok: false, reason: `${uri} is not a valid greengrass: artifact URI` };
    return { ok: true, relPath: ['greengrass', componentName, componentVersion, ...parts].join('/') };
  }
  return { ok: false, reason: `the local cloud does not store ${uri.split(':')[0]}: artifacts` };
}

export interface SignedArtifactUrl {
  path: string;
  expiresMs: number;
}

export class ArtifactStore {
  readonly root: string;

  constructor(
    dataDir: string,
    private readonly secret: string,
  ) {
    this.root = join(dataDir, 'artifacts');
    mkdirSync(this.root, { recursive: true });
  }

  private abs(relPath: string): string {
    return join(this.root, ...relPath.split('/'));
  }

  exists(relPath: string): boolean {
    const p = this.abs(relPath);
    return existsSync(p) && statSync(p).isFile();
  }

  size(relPath: string): number {
    return statSync(this.abs(relPath)).size;
  }

  /** Base64 SHA-256 of the file, the recipe `Digest` form (CL-38). */
  async digest(relPath: string): Promise<string> {
    const hash = createHash('sha256');
    await pipeline(createReadStream(this.abs(relPath)), hash);
    return hash.digest('base64');
  }

  /** Writes the stream to the artifact path, atomically. */
  async write(relPath: string, data: Readable): Promise<void> {
    const target = this.abs(relPath);
    if (!target.startsWith(this.root + sep)) throw new Error(`artifact path escapes the store: ${relPath}`);
    mkdirSync(dirname(target), { recursive: true });
    const tmp = `${target}.upload-${process.pid}-${Date.now()}`;
    await pipeline(data, createWriteStream(tmp));
    renameSync(tmp, target);
  }

  read(relPath: string, range?: { start: number; end: number }): Readable {
    return createReadStream(this.abs(relPath), range);
  }

  sign(relPath: string, expiresMs: number): string {
    return createHmac('sha256', this.secret).update(`${relPath}\n${expiresMs}`).digest('hex');
  }

  verify(relPath: string, expiresMs: number, signature: string, nowMs: number): boolean {
    if (!(expiresMs > nowMs)) return false;
    const expected = Buffer.from(this.sign(relPath, expiresMs), 'hex');
    const given = Buffer.from(signature, 'hex');
    return given.length === expected.length && timingSafeEqual(given, expected);
  }
}
