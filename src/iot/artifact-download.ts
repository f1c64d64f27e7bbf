// Download of an artifact (cloud.md CL-36..CL-38): a presigned URL, or a request the caller opens
// itself (a SigV4-signed S3 GET, CL-63); streamed to disk in constant memory, resumed from a partial
// file with `Range: bytes=<offset>-` (a 200 is accepted by skipping the bytes already there), and
// verified with a streaming digest of the whole file; a file whose digest already matches is not
// downloaded again. Requests go through the network proxy when one is configured [CF-40].
import { createHash, type Hash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rm, stat } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import { dirname } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
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
  /** Attempts before giving up (default 3); a digest mismatch deletes the file first [CL-38]. */
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
      | 'DOCKER_ARTIFACTS_NOT_SUPPORTED',
    message: string,
  ) {
    super(message);
  }
}

async function hashFile(file: string, h: Hash): Promise<void> {
  for await (const chunk of createReadStream(file)) h.update(chunk as Buffer);
}

const sizeOf = (file: string) =>
  stat(file).then(
    (s) => s.size,
    () => -1,
  );

/** Returns 'cached' when a matching file was already there, else 'downloaded'. */
export async function downloadArtifact(d: ArtifactDownload): Promise<'cached' | 'downloaded'> {
  const alg = d.algorithm ?? 'sha256';
  const check = async (): Promise<boolean> => {
    if (d.digest === undefined) return true;
    const h = createHash(alg);
    await hashFile(d.file, h);
    return h.digest('base64') === d.digest;
  };
  if ((await sizeOf(d.file)) >= 0 && d.digest !== undefined && (await check())) return 'cached';
  await mkdir(dirname(d.file), { recursive: true, mode: 0o755 });
  const attempts = d.attempts ?? 3;
  let last = '';
  for (let i = 1; i <= attempts; i++) {
    try {
      const digest = await fetchInto(d, alg);
      if (d.digest === undefined || digest === d.digest) return 'downloaded';
      last = `${d.file}: the ${d.algorithm ?? 'SHA-256'} digest does not match the recipe`;
      await rm(d.file, { force: true });
      if (i === attempts) throw new ArtifactDownloadError('ARTIFACT_CHECKSUM_MISMATCH', last);
    } catch (e) {
      if (e instanceof ArtifactDownloadError && (e.code !== 'ARTIFACT_DOWNLOAD_ERROR' || i === attempts))
        throw e;
      last = (e as Error).message;
      if (i === attempts) throw new ArtifactDownloadError('ARTIFACT_DOWNLOAD_ERROR', last);
    }
    d.log?.(`artifact ${d.file}: attempt ${i} failed (${last}); retrying`);
    await new Promise((r) => setTimeout(r, 500 * i));
  }
  throw new ArtifactDownloadError('ARTIFACT_DOWNLOAD_ERROR', last);
}

/**
 * One GET from the current end of the partial file to the end [CL-37]; returns the base64 digest of
 * the whole file, computed as the bytes stream to disk (a resumed file's prefix is read once first),
 * so a download is never read back.
 */
async function fetchInto(d: ArtifactDownload, alg: string): Promise<string> {
  const offset = Math.max(0, await sizeOf(d.file));
  const h = createHash(alg);
  if (offset > 0) await hashFile(d.file, h);
  const headers: Record<string, string> = offset > 0 ? { range: `bytes=${offset}-` } : {};
  let res: IncomingMessage;
  if (d.open) res = await d.open(headers);
  else if (d.url) res = await httpGet(await d.url(), { headers, proxy: d.proxy });
  else throw new ArtifactDownloadError('ARTIFACT_DOWNLOAD_ERROR', `${d.file}: no URL to download from`);
  const status = res.statusCode ?? 0;
  if (status === 416) {
    res.resume();
    return h.digest('base64'); // already complete: the digest check decides
  }
  if (status < 200 || status >= 300) {
    res.resume();
    throw new ArtifactDownloadError('ARTIFACT_DOWNLOAD_ERROR', `GET artifact: HTTP ${status}`);
  }
  if (res.headers['content-length'] === undefined && status === 200) {
    res.destroy();
    throw new ArtifactDownloadError(
      'GREENGRASS_ARTIFACT_SIZE_NOT_FOUND',
      'the artifact URL gives no Content-Length',
    );
  }
  let skip = status === 206 ? 0 : offset; // a 200 restarts from byte 0: skip what we have
  const skipper = new Transform({
    transform(chunk: Buffer, _enc, done) {
      if (skip >= chunk.length) {
        skip -= chunk.length;
        return done();
      }
      const out = skip > 0 ? chunk.subarray(skip) : chunk;
      skip = 0;
      h.update(out);
      done(null, out);
    },
  });
  await pipeline(res, skipper, createWriteStream(d.file, { flags: offset > 0 ? 'a' : 'w', mode: 0o644 }));
  return h.digest('base64');
}
