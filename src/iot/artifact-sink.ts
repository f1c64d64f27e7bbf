// Where a downloaded artifact's bytes go (cloud.md CL-37, CL-38): hashed as they arrive and written
// to the file through a few reusable 1 MiB buffers, each written whole with one write(2) on one file
// descriptor (no per-chunk fsync), so memory stays constant whatever the artifact size and nothing is
// read back. A socket can read straight into `region()` (net/tls `onread`, no copy); a stream source
// copies its chunks in with `push()`. Either way the caller stops reading when told to and resumes
// on `ondrain`, so at most BUFFERS MiB are held.
import { close, open, write } from 'node:fs';
import type { Hash } from 'node:crypto';

const BUFFER_SIZE = 1 << 20;
/** Normally held: the one being filled, one being written, one spare. */
const BUFFERS = 3;
/** A buffer with less room than this is written out: reads stay large. */
const MIN_READ = 64 * 1024;

export class ArtifactFileSink {
  private readonly free: Buffer[] = [];
  private readonly queued: Array<{ buf: Buffer; len: number }> = [];
  private cur: Buffer;
  private used = 0;
  private writing = false;
  private closed = false;
  private waiters: Array<() => void> = [];
  /** The first write error; the caller stops reading and `finish()` rejects with it. */
  error: Error | undefined;
  /** Bytes accepted (after the skipped prefix). */
  received = 0;
  /** Called when reading may go on after a false from `commit`/`push` (or `error` is set). */
  ondrain: (() => void) | undefined;

  private constructor(
    private readonly fd: number,
    private readonly hash: Hash,
    /** Leading bytes to drop (a 200 answering a Range request restarts at byte 0). */
    private skip: number,
  ) {
    for (let i = 0; i < BUFFERS - 1; i++) this.free.push(Buffer.allocUnsafeSlow(BUFFER_SIZE));
    this.cur = Buffer.allocUnsafeSlow(BUFFER_SIZE);
  }

  /** Opens `file` for writing (`append`: after a partial download) with mode 0644. */
  static async open(file: string, append: boolean, hash: Hash, skip: number): Promise<ArtifactFileSink> {
    const fd = await new Promise<number>((resolve, reject) =>
      open(file, append ? 'a' : 'w', 0o644, (e, fd) => (e ? reject(e) : resolve(fd))),
    );
    return new ArtifactFileSink(fd, hash, skip);
  }

  /** Where the next read may put its bytes; valid until the next `commit`/`push`. */
  region(): Buffer {
    return this.cur.subarray(this.used);
  }

  /** `n` bytes were read into `region()`: hashed and queued. False = stop reading until `ondrain`. */
  commit(n: number): boolean {
    const start = this.used;
    if (this.skip > 0) {
      const drop = Math.min(this.skip, n);
      this.skip -= drop;
      this.cur.copyWithin(start, start + drop, start + n);
      n -= drop;
    }
    if (n === 0) return this.free.length > 0;
    this.hash.update(this.cur.subarray(start, start + n));
    this.used += n;
    this.received += n;
    if (this.cur.length - this.used < MIN_READ) this.seal();
    return this.free.length > 0 && this.error === undefined;
  }

  /** Copies a chunk in (a stream source). False = pause the source until `ondrain`. */
  push(chunk: Buffer): boolean {
    let off = 0;
    while (off < chunk.length) {
      const room = this.region();
      const n = Math.min(room.length, chunk.length - off);
      chunk.copy(room, 0, off, off + n);
      off += n;
      this.commit(n);
      if (this.cur.length === this.used) this.seal();
    }
    return this.free.length > 0 && this.error === undefined;
  }

  /** Writes what is left, waits for every write and closes the file; rejects with a write error. */
  async finish(): Promise<void> {
    this.seal();
    await this.drained();
    await this.closeFd();
    if (this.error) throw this.error;
  }

  /** Stops: waits for the write in flight (the file keeps a whole prefix for a resume) and closes. */
  async abort(): Promise<void> {
    this.queued.length = 0;
    await this.drained();
    await this.closeFd();
  }

  private seal(): void {
    if (this.used === 0) return;
    this.queued.push({ buf: this.cur, len: this.used });
    // Normally a spare is there; a push larger than the spare room borrows one more for a moment.
    this.cur = this.free.pop() ?? Buffer.allocUnsafeSlow(BUFFER_SIZE);
    this.used = 0;
    this.pump();
  }

  private pump(): void {
    if (this.writing) return;
    const next = this.queued.shift();
    if (!next || this.error) {
      this.queued.length = 0;
      for (const w of this.waiters.splice(0)) w();
      return;
    }
    this.writing = true;
    this.writeAll(next.buf, 0, next.len, (e) => {
      this.writing = false;
      if (e) this.error ??= e;
      if (this.free.length < BUFFERS - 1) this.free.push(next.buf);
      this.pump();
      if (this.free.length > 0 || this.error) this.ondrain?.(); // the reader sees `error` and stops
    });
  }

  private writeAll(buf: Buffer, off: number, len: number, done: (e: Error | null) => void): void {
    write(this.fd, buf, off, len, null, (e, n) => {
      if (e) return done(e);
      if (n < len) return this.writeAll(buf, off + n, len - n, done);
      done(null);
    });
  }

  private drained(): Promise<void> {
    if (!this.writing && this.queued.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  private closeFd(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closed = true;
    return new Promise((resolve, reject) => close(this.fd, (e) => (e ? reject(e) : resolve())));
  }
}
