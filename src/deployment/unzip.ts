// Safe ZIP extraction for `Unarchive: ZIP` artifacts [RC-43]: every entry must stay inside the
// destination (no absolute paths, no `..`, no symlink pointing out), and the archive's total
// uncompressed size and per-entry compression ratio are capped against decompression bombs. The
// archive is checked from its central directory before anything is written, extracted into a fresh
// temporary folder, and renamed into place only when complete; on any failure nothing remains.
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { chmod, mkdir, open, realpath, rename, rm, symlink } from 'node:fs/promises';
import path from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type yauzl from 'yauzl';

export interface ZipLimits {
  /** Cap on the sum of the entries' uncompressed sizes; default 4 GiB. */
  maxTotalBytes?: number;
  /** Cap on one entry's uncompressed/compressed ratio; default 200. */
  maxCompressionRatio?: number;
  /** Entries smaller than this are exempt from the ratio cap (tiny files compress oddly); default 1 MiB. */
  ratioExemptBytes?: number;
  /** Cap on the number of entries; default 100,000. */
  maxEntries?: number;
}

export const DEFAULT_ZIP_LIMITS: Required<ZipLimits> = {
  maxTotalBytes: 4 * 1024 ** 3,
  maxCompressionRatio: 200,
  ratioExemptBytes: 1024 ** 2,
  maxEntries: 100_000,
};

export class UnsafeArchiveError extends Error {
  constructor(
    readonly archive: string,
    readonly entry: string | undefined,
    reason: string,
  ) {
    super(
      `archive ${path.basename(archive)}: ${entry === undefined ? '' : `entry ${JSON.stringify(entry)}: `}${reason}`,
    );
    this.name = 'UnsafeArchiveError';
  }
}

export interface ExtractOptions extends ZipLimits {
  /** Mode for extracted regular files (directories get 0o755). Default: keep 0o644. */
  fileMode?: number;
}

const S_IFMT = 0o170000;
const S_IFLNK = 0o120000;
const S_IFDIR = 0o040000;
const MAX_LINK_TARGET = 4096;

/**
 * Extracts `archive` to `dest`, which must not exist yet. Returns the number of files written.
 * Throws UnsafeArchiveError naming the archive and the entry; `dest` then does not exist.
 */
export async function extractZipSafely(
  archive: string,
  dest: string,
  opts: ExtractOptions = {},
): Promise<number> {
  const limits = { ...DEFAULT_ZIP_LIMITS, ...opts };
  const entries = await readEntries(archive);
  checkEntries(archive, entries, limits);
  const tmp = `${dest}.partial-${randomBytes(6).toString('hex')}`;
  await mkdir(tmp, { recursive: true, mode: 0o755 });
  try {
    const count = await writeEntries(archive, tmp, entries, limits, opts.fileMode);
    await rename(tmp, dest);
    return count;
  } catch (e) {
    await rm(tmp, { recursive: true, force: true });
    throw e;
  }
}

interface EntryInfo {
  name: string;
  kind: 'file' | 'dir' | 'symlink';
  uncompressedSize: number;
  compressedSize: number;
  entry: yauzl.Entry;
}

// loaded on first use: most deployments carry no ZIP, and the daemon's idle memory counts
let yauzlModule: Promise<typeof yauzl> | undefined;

async function openZip(archive: string): Promise<yauzl.ZipFile> {
  const lib = await (yauzlModule ??= import('yauzl').then((m) => m.default));
  return new Promise((resolve, reject) => {
    lib.open(archive, { lazyEntries: true, autoClose: false, validateEntrySizes: true }, (err, zip) => {
      if (err) reject(wrap(archive, err));
      else resolve(zip);
    });
  });
}

/** yauzl refuses absolute and `..` names itself; its message carries the entry name. */
function wrap(archive: string, err: Error): UnsafeArchiveError {
  const m = /^(absolute path|invalid relative path|invalid characters in fileName): (.*)$/s.exec(err.message);
  if (m) return new UnsafeArchiveError(archive, m[2], `escapes the extraction folder (${m[1]})`);
  return new UnsafeArchiveError(archive, undefined, `not a readable ZIP archive: ${err.message}`);
}

async function readEntries(archive: string): Promise<EntryInfo[]> {
  const zip = await openZip(archive);
  try {
    return await new Promise<EntryInfo[]>((resolve, reject) => {
      const out: EntryInfo[] = [];
      zip.on('entry', (entry: yauzl.Entry) => {
        const mode = (entry.externalFileAttributes >>> 16) & S_IFMT;
        const isDir = entry.fileName.endsWith('/') || mode === S_IFDIR;
        out.push({
          name: entry.fileName,
          kind: isDir ? 'dir' : mode === S_IFLNK ? 'symlink' : 'file',
          uncompressedSize: entry.uncompressedSize,
          compressedSize: entry.compressedSize,
          entry,
        });
        zip.readEntry();
      });
      zip.on('end', () => resolve(out));
      zip.on('error', (e: Error) => reject(wrap(archive, e)));
      zip.readEntry();
    });
  } finally {
    zip.close();
  }
}

function checkEntries(archive: string, entries: readonly EntryInfo[], limits: Required<ZipLimits>): void {
  if (entries.length > limits.maxEntries) {
    throw new UnsafeArchiveError(
      archive,
      undefined,
      `has ${entries.length} entries, over the cap of ${limits.maxEntries}`,
    );
  }
  let total = 0;
  for (const e of entries) {
    // Our own check as well as yauzl's, so the guarantee does not rest on the library alone.
    const normal = path.posix.normalize(e.name);
    if (
      path.posix.isAbsolute(e.name) ||
      normal === '..' ||
      normal.startsWith('../') ||
      e.name.includes('\\')
    ) {
      throw new UnsafeArchiveError(archive, e.name, 'escapes the extraction folder');
    }
    total += e.uncompressedSize;
    if (total > limits.maxTotalBytes) {
      throw new UnsafeArchiveError(
        archive,
        e.name,
        `total uncompressed size reaches ${total} bytes, over the cap of ${limits.maxTotalBytes}`,
      );
    }
    if (e.uncompressedSize >= limits.ratioExemptBytes) {
      const ratio = e.uncompressedSize / Math.max(e.compressedSize, 1);
      if (ratio > limits.maxCompressionRatio) {
        throw new UnsafeArchiveError(
          archive,
          e.name,
          `compression ratio ${Math.round(ratio)}:1 (${e.uncompressedSize} bytes from ${e.compressedSize}) is over the cap of ${limits.maxCompressionRatio}:1`,
        );
      }
    }
  }
}

async function writeEntries(
  archive: string,
  root: string,
  entries: readonly EntryInfo[],
  limits: Required<ZipLimits>,
  fileMode: number | undefined,
): Promise<number> {
  const zip = await openZip(archive);
  const realRoot = await realpath(root);
  let written = 0;
  let files = 0;
  try {
    for (const e of entries) {
      const target = path.join(root, e.name);
      if (e.kind === 'dir') {
        await mkdir(target, { recursive: true, mode: 0o755 });
        await assertInside(archive, e.name, realRoot, target);
        continue;
      }
      await mkdir(path.dirname(target), { recursive: true, mode: 0o755 });
      await assertInside(archive, e.name, realRoot, path.dirname(target));
      const stream = await openEntry(zip, e.entry, archive);
      if (e.kind === 'symlink') {
        const linkTarget = (await readSmall(stream, archive, e.name)).toString('utf8');
        const resolved = path.resolve(path.dirname(target), linkTarget);
        if (!isInside(root, resolved)) {
          throw new UnsafeArchiveError(
            archive,
            e.name,
            `symbolic link to ${JSON.stringify(linkTarget)} points outside the extraction folder`,
          );
        }
        await symlink(linkTarget, target);
        continue;
      }
      const counter = new Transform({
        transform(chunk: Buffer, _enc, cb) {
          written += chunk.length;
          if (written > limits.maxTotalBytes) {
            cb(
              new UnsafeArchiveError(
                archive,
                e.name,
                `extracted bytes exceed the cap of ${limits.maxTotalBytes}`,
              ),
            );
          } else cb(null, chunk);
        },
      });
      try {
        await pipeline(stream, counter, createWriteStream(target, { flags: 'wx', mode: 0o600 }));
      } catch (err) {
        if (err instanceof UnsafeArchiveError) throw err;
        throw new UnsafeArchiveError(archive, e.name, `cannot be extracted: ${(err as Error).message}`);
      }
      const fh = await open(target, 'r');
      await fh.sync();
      await fh.close();
      await chmod(target, fileMode ?? 0o644);
      files++;
    }
  } finally {
    zip.close();
  }
  return files;
}

function openEntry(zip: yauzl.ZipFile, entry: yauzl.Entry, archive: string): Promise<Readable> {
  return new Promise((resolve, reject) => {
    zip.openReadStream(entry, (err, s) => {
      if (err) reject(new UnsafeArchiveError(archive, entry.fileName, `cannot be read: ${err.message}`));
      else resolve(s);
    });
  });
}

async function readSmall(stream: Readable, archive: string, name: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const c of stream) {
    n += (c as Buffer).length;
    if (n > MAX_LINK_TARGET) throw new UnsafeArchiveError(archive, name, 'symbolic link target is too long');
    chunks.push(c as Buffer);
  }
  return Buffer.concat(chunks);
}

function isInside(root: string, p: string): boolean {
  const rel = path.relative(root, p);
  return rel === '' || (rel !== '..' && !rel.startsWith('../') && !path.isAbsolute(rel));
}

/** Refuses writing through a symlink (from an earlier entry) that leads out of the folder. */
async function assertInside(archive: string, name: string, realRoot: string, dir: string): Promise<void> {
  const real = await realpath(dir);
  if (!isInside(realRoot, real)) {
    throw new UnsafeArchiveError(
      archive,
      name,
      'would be written outside the extraction folder through a symbolic link',
    );
  }
}
