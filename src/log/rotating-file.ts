// Size-and-time rotating log file [LC-93]: the active file is `<dir>/<name>.log`; when it would grow
// past `fileSizeKB`, or when the hour changes, it is renamed to `<name>_<yyyy_MM_dd_HH>_<i>.log`
// (the hour the file was written in, local time as logback does; i counts from 0 within the hour)
// and the oldest rolled files are deleted while all files together exceed `totalLogsSizeKB`.
// Writes are synchronous so that a line is on disk before the call returns and nothing is lost
// on a crash; nucleus log volume is small.

import * as fs from 'node:fs';
import * as path from 'node:path';

export const DEFAULT_FILE_SIZE_KB = 1024;
export const DEFAULT_TOTAL_LOGS_SIZE_KB = 10240;

export interface RotatingFileOptions {
  dir: string;
  /** base name without extension, e.g. `greengrass` or a component name */
  name: string;
  fileSizeKB?: number;
  totalLogsSizeKB?: number;
  /** epoch ms; injected for tests */
  now?: () => number;
}

function pad(n: number, width = 2): string {
  return String(n).padStart(width, '0');
}

/** `yyyy_MM_dd_HH` in local time, the period key of the rotation pattern. */
export function hourKey(epochMs: number): string {
  const d = new Date(epochMs);
  return `${d.getFullYear()}_${pad(d.getMonth() + 1)}_${pad(d.getDate())}_${pad(d.getHours())}`;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function positiveNumber(value: number | undefined, fallback: number, field: string): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value <= 0) {
    throw new Error(`${field}: must be a positive number of KB, got ${String(value)}`);
  }
  return value;
}

export interface RolledFile {
  file: string;
  period: string;
  index: number;
  size: number;
}

export class RotatingFileWriter {
  readonly path: string;
  private readonly dir: string;
  private readonly name: string;
  private readonly maxBytes: number;
  private readonly totalBytes: number;
  private readonly now: () => number;
  private readonly archivePattern: RegExp;
  private fd: number | null = null;
  private size = 0;
  private period = '';

  constructor(options: RotatingFileOptions) {
    if (options.name.length === 0 || options.name.includes('/')) {
      throw new Error(`name: log file name '${options.name}' must be non-empty and contain no '/'`);
    }
    this.dir = options.dir;
    this.name = options.name;
    this.maxBytes = positiveNumber(options.fileSizeKB, DEFAULT_FILE_SIZE_KB, 'fileSizeKB') * 1024;
    this.totalBytes =
      positiveNumber(options.totalLogsSizeKB, DEFAULT_TOTAL_LOGS_SIZE_KB, 'totalLogsSizeKB') * 1024;
    this.now = options.now ?? Date.now;
    this.path = path.join(this.dir, `${this.name}.log`);
    this.archivePattern = new RegExp(
      `^${escapeRegExp(this.name)}_(\\d{4}_\\d{2}_\\d{2}_\\d{2})_(\\d+)\\.log$`,
    );
  }

  /** Lines lost to a failed write (disk full, I/O error): a log never throws at the code that logs. */
  lost = 0;
  /** The last failed write may have left a line without its end: the next write starts a new line. */
  private torn = false;

  /** Appends `text` (the caller supplies line ends), rotating first when needed. */
  write(text: string): void {
    this.writeLines([text]);
  }

  /**
   * Appends records (each with its line end) with one write per file they land in: a batch that
   * would grow the file past `fileSizeKB` is cut between records and the rest goes to the next
   * file, so a record never straddles two files.
   */
  writeLines(records: readonly string[]): void {
    let from = 0;
    while (from < records.length) {
      try {
        from = this.appendSome(records, from);
        this.torn = false;
      } catch {
        this.lost += records.length - from;
        this.torn = true;
        try {
          this.close(); // reopened (and its size read again) by the next write
        } catch {
          /* the descriptor is gone either way */
        }
        return;
      }
    }
  }

  /** Writes the records from `from` on that fit the active file (rolling it first when due). */
  private appendSome(records: readonly string[], from: number): number {
    const key = hourKey(this.now());
    this.open(key);
    if (this.size > 0 && key !== this.period) {
      this.roll();
      this.open(key);
    }
    this.period = key;
    // the last failed write may have left a line without its end: this one starts a new line
    let text = this.torn ? '\n' : '';
    let bytes = text.length;
    let to = from;
    while (to < records.length) {
      const n = Buffer.byteLength(records[to], 'utf8');
      // a record longer than a whole file still goes alone into a fresh one
      if (this.size + bytes + n > this.maxBytes && (to > from || this.size > 0)) break;
      bytes += n;
      to++;
    }
    if (to === from) {
      this.roll();
      return from;
    }
    text += to === from + 1 ? records[from] : records.slice(from, to).join('');
    const buf = Buffer.from(text, 'utf8');
    let off = 0;
    while (off < buf.length) off += fs.writeSync(this.fd as number, buf, off);
    this.size += buf.length;
    return to;
  }

  /** Rolled files of this log, oldest first. */
  rolledFiles(): RolledFile[] {
    let names: string[];
    try {
      names = fs.readdirSync(this.dir);
    } catch {
      return [];
    }
    const out: RolledFile[] = [];
    for (const file of names) {
      const m = this.archivePattern.exec(file);
      if (!m) continue;
      let size = 0;
      try {
        size = fs.statSync(path.join(this.dir, file)).size;
      } catch {
        continue;
      }
      out.push({ file, period: m[1], index: Number(m[2]), size });
    }
    return out.sort((a, b) => (a.period === b.period ? a.index - b.index : a.period < b.period ? -1 : 1));
  }

  close(): void {
    if (this.fd !== null) {
      const fd = this.fd;
      this.fd = null;
      fs.closeSync(fd);
    }
  }

  private open(key: string): void {
    if (this.fd !== null) return;
    fs.mkdirSync(this.dir, { recursive: true });
    this.fd = fs.openSync(this.path, 'a', 0o644);
    const st = fs.fstatSync(this.fd);
    this.size = st.size;
    this.period = st.size > 0 ? hourKey(st.mtimeMs) : key;
  }

  private roll(): void {
    this.close();
    const sameHour = this.rolledFiles().filter((f) => f.period === this.period);
    const index = sameHour.length === 0 ? 0 : Math.max(...sameHour.map((f) => f.index)) + 1;
    fs.renameSync(this.path, path.join(this.dir, `${this.name}_${this.period}_${index}.log`));
    this.size = 0;
    this.enforceTotalCap();
  }

  private enforceTotalCap(): void {
    // Room is kept for a full active file, so that all files together never exceed the cap.
    const rolled = this.rolledFiles();
    let total = rolled.reduce((sum, f) => sum + f.size, 0) + this.maxBytes;
    for (const f of rolled) {
      if (total <= this.totalBytes) break;
      fs.rmSync(path.join(this.dir, f.file), { force: true });
      total -= f.size;
    }
  }
}
