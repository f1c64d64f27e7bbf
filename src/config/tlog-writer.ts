// The appending tlog writer: group commit (one fdatasync per batch) and compaction [CF-10, CF-14, CF-15].
import { open, rename, unlink, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { exists, fsyncDir, writeFileSynced } from './files.js';

/** [CF-14] */
export const DEFAULT_MAX_TLOG_ENTRIES = 15_000;

export interface TlogWriterOptions {
  /** Compact after more than this many entries since the last compaction. */
  maxEntries?: number;
  /** Full effective config as tlog text, taken synchronously when a compaction starts. */
  dump: () => string;
  /** Called when a compaction fails (it is retried after maxEntries/2 more entries) [CF-15]. */
  onCompactionError?: (err: unknown) => void;
  /** Called when a batch could not be written (disk full, I/O error); it is retried after `retryInMs`. */
  onWriteError?: (err: unknown, retryInMs: number) => void;
}

/** Backoff between attempts at a batch that failed: doubling from the first, capped. */
export const WRITE_RETRY_FIRST_MS = 250;
export const WRITE_RETRY_MAX_MS = 2000;

export interface TlogWriterStats {
  lines: number;
  batches: number;
  compactions: number;
  failedCompactions: number;
  /** Batches that failed to write (each kept and tried again). */
  failedWrites: number;
}

interface Waiter {
  seq: number;
  resolve: () => void;
  reject: (e: unknown) => void;
}

export class TlogWriter {
  readonly stats: TlogWriterStats = {
    lines: 0,
    batches: 0,
    compactions: 0,
    failedCompactions: 0,
    failedWrites: 0,
  };
  private pending: string[] = [];
  private appended = 0;
  private durable = 0;
  private waiters: Waiter[] = [];
  private running: Promise<void> | undefined;
  private sinceCompaction = 0;
  private compactAt: number;
  private compactRequested = false;
  /** Failed attempts in a row (the backoff's exponent). */
  private failures = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  /** Bytes of whole lines in the file: a failed write is cut back to this. */
  private size: number;
  /** The cut after a failed write failed too: the next attempt cuts first. */
  private cutPending = false;
  private closed = false;
  private readonly maxEntries: number;

  private constructor(
    readonly file: string,
    private fh: FileHandle,
    size: number,
    private readonly opts: TlogWriterOptions,
  ) {
    this.size = size;
    this.maxEntries = opts.maxEntries ?? DEFAULT_MAX_TLOG_ENTRIES;
    if (!Number.isInteger(this.maxEntries) || this.maxEntries < 1)
      throw new RangeError(`maxEntries: must be a positive integer, got ${String(opts.maxEntries)}`);
    this.compactAt = this.maxEntries;
  }

  /** Opens `file` (which must end with a whole line) for appending, creating it. */
  static async open(file: string, opts: TlogWriterOptions): Promise<TlogWriter> {
    const fh = await open(file, 'a', 0o600);
    return new TlogWriter(file, fh, (await fh.stat()).size, opts);
  }

  /** Queues a line (with its newline). Durable once a later sync() resolves. */
  append(line: string): void {
    if (this.closed) throw new Error(`tlog writer for ${this.file} is closed`);
    this.pending.push(line);
    this.appended++;
    this.kick();
  }

  /**
   * Resolves when every line appended so far is on disk (fdatasync'd). Rejects with the error of the
   * attempt that was to write them when it fails (after a failure, that is the next retry); the lines
   * stay queued and are written by a later attempt, so a later sync() can still resolve.
   */
  sync(): Promise<void> {
    if (this.durable >= this.appended) return Promise.resolve();
    if (this.closed) return Promise.reject(new Error(`tlog writer for ${this.file} is closed`));
    return new Promise((resolve, reject) => this.waiters.push({ seq: this.appended, resolve, reject }));
  }

  /** Compacts now (after a rollback [CF-16]); resolves when done. */
  async truncateNow(): Promise<void> {
    this.compactRequested = true;
    this.kick();
    await this.running;
  }

  /** Writes what is queued (one more attempt if the last failed), then closes; lines it cannot write are lost. */
  async close(): Promise<void> {
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.kick();
    await this.sync().catch(() => undefined);
    await this.running;
    this.closed = true;
    clearTimeout(this.retryTimer);
    await this.fh.close();
  }

  private kick(): void {
    if (this.running || this.retryTimer || this.closed) return;
    this.running = this.loop().finally(() => {
      this.running = undefined;
      if (this.pending.length || this.compactRequested) this.kick();
    });
  }

  private async loop(): Promise<void> {
    try {
      while (this.pending.length || this.compactRequested) {
        if (this.compactRequested) {
          this.compactRequested = false;
          try {
            await this.compact();
          } catch (e) {
            this.compactRequested = true;
            throw e;
          }
          continue;
        }
        await this.writeBatch();
        if (this.sinceCompaction > this.compactAt) this.compactRequested = true;
      }
      this.failures = 0;
    } catch (e) {
      // the lines stay queued: the waiters hear of the failure, a later attempt writes them
      this.stats.failedWrites++;
      const delay = Math.min(WRITE_RETRY_FIRST_MS * 2 ** this.failures, WRITE_RETRY_MAX_MS);
      this.failures++;
      for (const w of this.waiters.splice(0)) w.reject(e);
      this.opts.onWriteError?.(e, delay);
      if (this.closed) return;
      this.retryTimer = setTimeout(() => {
        this.retryTimer = undefined;
        this.kick();
      }, delay);
      this.retryTimer.unref();
    }
  }

  /**
   * One write and one fdatasync for everything queued. On failure the file is cut back to its last
   * whole line (a partial write would join the next line) and the batch goes back to the queue's front.
   */
  private async writeBatch(): Promise<void> {
    const batch = this.pending;
    this.pending = [];
    const upto = this.appended;
    const buf = Buffer.from(batch.join(''));
    try {
      if (this.cutPending) {
        await this.fh.truncate(this.size);
        this.cutPending = false;
      }
      let off = 0;
      while (off < buf.length) off += (await this.fh.write(buf, off)).bytesWritten;
      await this.fh.datasync();
    } catch (e) {
      this.pending = batch.concat(this.pending);
      await this.fh.truncate(this.size).catch(() => (this.cutPending = true));
      throw e;
    }
    this.size += buf.length;
    this.stats.lines += batch.length;
    this.stats.batches++;
    this.sinceCompaction += batch.length;
    this.markDurable(upto);
  }

  private markDurable(upto: number): void {
    this.durable = upto;
    const keep: Waiter[] = [];
    for (const w of this.waiters) {
      if (w.seq <= upto) w.resolve();
      else keep.push(w);
    }
    this.waiters = keep;
  }

  /**
   * [CF-14] Lines queued before the snapshot go to the old file first, so `config.tlog.old` always holds every
   * acknowledged write; the snapshot then becomes `config.tlog` via `+` and rename; `.old` is deleted before any
   * new line is appended, so restoring `.old` at boot can never lose an acknowledged line.
   */
  private async compact(): Promise<void> {
    const snapshot = this.opts.dump();
    if (this.pending.length) await this.writeBatch();
    const old = `${this.file}.old`;
    const plus = `${this.file}+`;
    const dir = dirname(this.file);
    await this.fh.close();
    let committed = false;
    try {
      await rename(this.file, old);
      await writeFileSynced(plus, snapshot);
      await rename(plus, this.file);
      committed = true;
      await fsyncDir(dir);
      await unlink(old);
      await fsyncDir(dir);
      this.stats.compactions++;
      this.sinceCompaction = 0;
      this.compactAt = this.maxEntries;
    } catch (e) {
      // [CF-15] restore the old file and retry after another maxEntries/2 entries.
      if (committed) await unlink(old).catch(() => undefined);
      else if ((await exists(old)) && !(await exists(this.file))) await rename(old, this.file);
      await unlink(plus).catch(() => undefined);
      this.stats.failedCompactions++;
      this.compactAt = this.sinceCompaction + Math.ceil(this.maxEntries / 2);
      this.opts.onCompactionError?.(e);
    } finally {
      this.fh = await open(this.file, 'a', 0o600);
      this.size = (await this.fh.stat()).size;
    }
  }
}
