// Download of an artifact (cloud.md CL-36..CL-38): a presigned URL, or a request the caller opens
// itself (a SigV4-signed S3 GET, CL-63); streamed to disk in constant memory, resumed from a partial
// file with `Range: bytes=<offset>-` (a 200 is accepted by skipping the bytes already there), and
// verified with a digest computed as the bytes arrive (a resumed file's prefix is read once first);
// a file whose digest already matches is not downloaded again. Requests go through the network proxy
// when one is configured [CF-40]. A presigned URL is fetched by `getInto` (reads land in the file
// buffers: no per-read garbage); an opened request, or https through the proxy, through node:http.
import { createHash } from 'node:crypto';
import { mkdir, rm, stat, statfs } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import { dirname } from 'node:path';
import { hashFileInto } from '../deployment/artifact-files.js';
import { directGetSupported, getInto, type ResponseHead } from './artifact-get.js';
import { ArtifactFileSink } from './artifact-sink.js';
import { httpGet, type NetworkProxy } from './proxy.js';

export interface ArtifactDownload {
  /** Fetches a fresh presigned URL (they expire). */
  url?(): Promise<string>;
  /**
   * Instead of `url`: opens the GET with these extra headers (Range) and answers the response; may
   * throw ArtifactDownloadError with a code of its own (a final failure, not retried).
   */
  open?(headers: Record<string, string>): Promise<IncomingMessage>;
  /** For `url`: the network proxy [CF-40]. */
  proxy?: NetworkProxy;
  file: string;
  /** Base64 digest from the recipe, and its node:crypto algorithm name; undefined = no check. */
  digest?: string;
  algorithm?: string;
  /**
   * Failed attempts in a row before giving up (default 3); an attempt cut short after adding bytes
   * does not count (at most MAX_ATTEMPTS in all); a digest mismatch deletes the file first [CL-38].
   */
  attempts?: number;
  log?: (msg: string) => void;
}

export class ArtifactDownloadError extends Error {
  constructor(
    readonly code:
      | 'ARTIFACT_CHECKSUM_MISMATCH'
      | 'ARTIFACT_DOWNLOAD_ERROR'
      | 'GREENGRASS_ARTIFACT_SIZE_NOT_FOUND'
      | 'S3_GET_OBJECT_ACCESS_DENIED'
      | 'S3_GET_OBJECT_RESOURCE_NOT_FOUND'
      | 'MISSING_DOCKER_APPLICATION_MANAGER'
      | 'DOCKER_ARTIFACTS_NOT_SUPPORTED'
      | 'DISK_SPACE_CRITICAL',
    message: string,
  ) {
    super(message);
  }
}

/** Attempts of one download in all, however many of them made progress. */
export const MAX_ATTEMPTS = 10;

/** [RC-41] No download starts with less than this usable on the component store's disk. */
export const MIN_USABLE_DISK_BYTES = 20 * 2 ** 20;

/** Bytes an unprivileged writer may still use on the file system of `dir`. */
export async function usableBytes(dir: string): Promise<number> {
  const s = await statfs(dir);
  return s.bavail * s.bsize;
}

const noSpace = (e: unknown) => {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ENOSPC' || code === 'EDQUOT';
};

const sizeOf = (file: string) =>
  stat(file).then(
    (s) => s.size,
    () => -1,
  );

/**
 * Returns 'cached' when a matching file was already there, else 'downloaded'. A download that fails
 * removes its partial file (a restart of the nucleus, which fails nothing, resumes from it instead);
 * a full disk fails it at once with DISK_SPACE_CRITICAL [RC-41].
 */
export async function downloadArtifact(d: ArtifactDownload): Promise<'cached' | 'downloaded'> {
  try {
    return await download(d);
  } catch (e) {
    await rm(d.file, { force: true });
    throw e;
  }
}

async function download(d: ArtifactDownload): Promise<'cached' | 'downloaded'> {
  const alg = d.algorithm ?? 'sha256';
  const check = async (): Promise<boolean> => {
    if (d.digest === undefined) return true;
    const h = createHash(alg);
    await hashFileInto(h, d.file);
    return h.digest('base64') === d.digest;
  };
  if ((await sizeOf(d.file)) >= 0 && d.digest !== undefined && (await check())) return 'cached';
  await mkdir(dirname(d.file), { recursive: true, mode: 0o755 });
  const usable = await usableBytes(dirname(d.file));
  if (usable < MIN_USABLE_DISK_BYTES)
    throw new ArtifactDownloadError(
      'DISK_SPACE_CRITICAL',
      `DISK_SPACE_CRITICAL: ${d.file}: disk space critical: ${usable} bytes usable, ${MIN_USABLE_DISK_BYTES} bytes minimum before a download`,
    );
  const attempts = d.attempts ?? 3;
  let last = '';
  // attempts that failed without adding a byte, in a row: one cut short after some bytes resumes
  // from them and is not held against the download (up to MAX_ATTEMPTS in all)
  let failed = 0;
  for (let i = 1; i <= MAX_ATTEMPTS; i++) {
    const before = Math.max(0, await sizeOf(d.file));
    try {
      const digest = await fetchInto(d, alg);
      if (d.digest === undefined || digest === d.digest) return 'downloaded';
      last = `${d.file}: the ${d.algorithm ?? 'SHA-256'} digest does not match the recipe`;
      await rm(d.file, { force: true });
      if (++failed >= attempts) throw new ArtifactDownloadError('ARTIFACT_CHECKSUM_MISMATCH', last);
    } catch (e) {
      if (noSpace(e))
        throw new ArtifactDownloadError(
          'DISK_SPACE_CRITICAL',
          `DISK_SPACE_CRITICAL: ${d.file}: the disk became full during the download (${(e as Error).message})`,
        );
      if (e instanceof ArtifactDownloadError && e.code !== 'ARTIFACT_DOWNLOAD_ERROR') throw e;
      last = (e as Error).message;
      failed = (await sizeOf(d.file)) > before ? 0 : failed + 1;
      if (failed >= attempts || i === MAX_ATTEMPTS)
        throw new ArtifactDownloadError('ARTIFACT_DOWNLOAD_ERROR', last);
    }
    d.log?.(`artifact ${d.file}: attempt ${i} failed (${last}); retrying`);
    await new Promise((r) => setTimeout(r, 500 * Math.max(1, failed)));
  }
  throw new ArtifactDownloadError('ARTIFACT_DOWNLOAD_ERROR', last);
}

/**
 * One GET from the current end of the partial file to the end [CL-37]; returns the base64 digest of
 * the whole file, computed as the bytes go to disk, so a download is never read back.
 */
async function fetchInto(d: ArtifactDownload, alg: string): Promise<string> {
  const offset = Math.max(0, await sizeOf(d.file));
  const h = createHash(alg);
  if (offset > 0) await hashFileInto(h, d.file);
  const headers: Record<string, string> = offset > 0 ? { range: `bytes=${offset}-` } : {};
  let sink = undefined as ArtifactFileSink | undefined;
  /** Decides from the status line what becomes of the body [CL-37]: the sink for it, or none. */
  const accept = async (status: number, head: ResponseHead['headers']) => {
    if (status === 416) return undefined; // already complete: the digest check decides
    if (status < 200 || status >= 300)
      throw new ArtifactDownloadError('ARTIFACT_DOWNLOAD_ERROR', `GET artifact: HTTP ${status}`);
    if (head['content-length'] === undefined && status === 200)
      throw new ArtifactDownloadError(
        'GREENGRASS_ARTIFACT_SIZE_NOT_FOUND',
        'the artifact URL gives no Content-Length',
      );
    // [RC-41] what is still to come must fit on the disk
    const length = Number(head['content-length'] ?? NaN);
    const needed = status === 206 ? length : length - offset;
    if (needed > 0) {
      const usable = await usableBytes(dirname(d.file));
      if (needed > usable)
        throw new ArtifactDownloadError(
          'DISK_SPACE_CRITICAL',
          `DISK_SPACE_CRITICAL: ${d.file}: the artifact needs ${needed} more bytes, ${usable} bytes usable on its disk`,
        );
    }
    // A 206 continues where the file ends; a 200 restarts at byte 0: skip what is already there.
    sink = await ArtifactFileSink.open(d.file, offset > 0, h, status === 206 ? 0 : offset);
    return sink;
  };
  const url = d.open ? undefined : await d.url?.();
  if (!d.open && url === undefined)
    throw new ArtifactDownloadError('ARTIFACT_DOWNLOAD_ERROR', `${d.file}: no URL to download from`);
  let failure: unknown;
  try {
    if (url !== undefined && directGetSupported(url, d.proxy))
      await getInto(url, { headers, proxy: d.proxy }, (r) => accept(r.status, r.headers));
    else {
      const res = d.open ? await d.open(headers) : await httpGet(url!, { headers, proxy: d.proxy });
      await streamInto(res, (r) => accept(r.statusCode ?? 0, r.headers as ResponseHead['headers']));
    }
  } catch (e) {
    failure = e;
  }
  // What arrived is written out either way: a failed attempt resumes from the end of the file.
  await sink?.finish().catch((e: unknown) => (failure ??= e));
  if (failure !== undefined) throw failure;
  return h.digest('base64');
}

/** The body of a node:http response into the sink `accept` gives, pausing while the sink is full. */
async function streamInto(
  res: IncomingMessage,
  accept: (res: IncomingMessage) => Promise<ArtifactFileSink | undefined>,
): Promise<void> {
  let sink: ArtifactFileSink | undefined;
  try {
    sink = await accept(res);
  } finally {
    if (!sink) res.destroy();
  }
  if (!sink) return;
  const s = sink;
  await new Promise<void>((resolve, reject) => {
    s.ondrain = () => (s.error ? res.destroy(s.error) : res.resume());
    res.on('data', (c: Buffer) => {
      if (!s.push(c)) res.pause();
      if (s.error) res.destroy(s.error);
    });
    res.once('end', () => (res.complete ? resolve() : reject(new Error('the response ended early'))));
    res.once('error', reject);
    res.once('close', () => reject(new Error('the connection closed before the end of the body')));
  });
}
