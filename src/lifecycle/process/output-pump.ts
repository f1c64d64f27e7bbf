// Captures one step process's stdout and stderr as lines [LC-86] without letting a component that
// floods its output take the nucleus's event loop:
// - lines reach the sink in runs (one call per run of lines of one stream, so one log write);
// - at most `linesPerTurn` lines are delivered per event-loop turn, the rest wait for the next turn;
// - the process's pipes are read at most at `bytesPerSecond` (a token bucket `burstBytes` deep) and
//   while more than `maxQueuedLines` lines wait: past either, both pipes are paused, so the
//   component blocks in write(2) on its full pipe, and they are resumed once the budget refills.
// Nothing is dropped: every byte read is delivered, and a stream's end (after which its last,
// unterminated line is delivered) comes only once everything before it was read.

import type { Readable } from 'node:stream';
import { LineSplitter } from './line-splitter.js';

export type OutputStream = 'stdout' | 'stderr';

export interface OutputBudget {
  /** Sustained read rate per process, stdout and stderr together. Default 2 MiB/s. */
  bytesPerSecond: number;
  /** Read ahead of the rate, e.g. a burst at start. Default 512 KiB. */
  burstBytes: number;
  /** Lines delivered per event-loop turn per process. Default 256. */
  linesPerTurn: number;
  /** Lines read but not yet delivered past which the pipes are paused. Default 4096. */
  maxQueuedLines: number;
}

// 2 MiB/s of output is ~20k lines/s of `yes`-sized lines (~4 MiB/s of log written): far above what
// a component logs on purpose, and it keeps a flooding one to a few percent of one core. 256
// lines (~50 KB of log) cost well under a millisecond to format and write.
export const DEFAULT_OUTPUT_BUDGET: Readonly<OutputBudget> = Object.freeze({
  bytesPerSecond: 2 * 1024 * 1024,
  burstBytes: 512 * 1024,
  linesPerTurn: 256,
  maxQueuedLines: 4096,
});

/** The defaults with `budget` over them; throws naming a field that is not a positive number. */
export function outputBudget(budget: Partial<OutputBudget> = {}): OutputBudget {
  const out = { ...DEFAULT_OUTPUT_BUDGET, ...budget };
  for (const [k, v] of Object.entries(out)) {
    if (!(typeof v === 'number' && v > 0)) {
      throw new Error(`outputBudget.${k}: must be a positive number, got ${String(v)}`);
    }
  }
  return out;
}

export interface OutputStats {
  /** Bytes read from stdout and stderr. */
  bytes: number;
  /** Lines delivered to the sink. */
  lines: number;
  /** Times the pipes were paused because the process was over its budget. */
  pauses: number;
}

export type LinesSink = (stream: OutputStream, lines: string[]) => void;

interface Run {
  stream: OutputStream;
  lines: string[];
  next: number;
}

export class OutputPump {
  readonly stats: OutputStats = { bytes: 0, lines: 0, pauses: 0 };
  /** Resolves once every attached stream ended and every line was delivered. */
  readonly done: Promise<void>;
  private resolveDone: () => void = () => undefined;
  private readonly budget: OutputBudget;
  private readonly readables: Readable[] = [];
  private readonly queue: Run[] = [];
  private queued = 0;
  private turnLines = 0;
  private tickScheduled = false;
  private tokens: number;
  private refilledAt: number;
  private paused = false;
  private resumeTimer: NodeJS.Timeout | null = null;
  private open = 0;
  private sealed = false;

  constructor(
    private readonly sink: LinesSink,
    budget: Partial<OutputBudget> = {},
    private readonly clock: () => number = () => performance.now(),
  ) {
    this.budget = outputBudget(budget);
    this.tokens = this.budget.burstBytes;
    this.refilledAt = this.clock();
    this.done = new Promise((resolve) => (this.resolveDone = resolve));
  }

  /** Reads `readable` as `stream`; call for each stream, then `seal()`. */
  attach(stream: OutputStream, readable: Readable): void {
    this.open++;
    this.readables.push(readable);
    let lines: string[] = [];
    const splitter = new LineSplitter((line) => lines.push(line));
    const take = () => {
      if (lines.length === 0) return;
      const run = lines;
      lines = [];
      this.enqueue(stream, run);
    };
    let ended = false;
    const finish = () => {
      if (ended) return;
      ended = true;
      splitter.end(); // the last, unterminated line
      take();
      this.open--;
      this.settle();
    };
    readable.on('data', (chunk: Buffer) => {
      this.stats.bytes += chunk.length;
      splitter.push(chunk);
      take();
      this.spend(chunk.length);
    });
    readable.once('end', finish);
    readable.once('close', finish); // destroyed without an end: what was read still counts
  }

  /** No more streams: `done` may resolve. */
  seal(): void {
    this.sealed = true;
    this.settle();
  }

  private enqueue(stream: OutputStream, lines: string[]): void {
    this.queue.push({ stream, lines, next: 0 });
    this.queued += lines.length;
    this.deliver();
    if (this.queued > this.budget.maxQueuedLines) this.pause();
  }

  /** Delivers queued lines up to this turn's allowance. */
  private deliver(): void {
    while (this.queue.length > 0 && this.turnLines < this.budget.linesPerTurn) {
      const run = this.queue[0];
      const n = Math.min(run.lines.length - run.next, this.budget.linesPerTurn - this.turnLines);
      const lines =
        run.next === 0 && n === run.lines.length ? run.lines : run.lines.slice(run.next, run.next + n);
      run.next += n;
      if (run.next === run.lines.length) this.queue.shift();
      this.queued -= n;
      this.turnLines += n;
      this.stats.lines += n;
      try {
        this.sink(run.stream, lines);
      } catch {
        // a sink that throws loses its lines, not the capture of the rest
      }
    }
    if (this.turnLines > 0 && !this.tickScheduled) {
      this.tickScheduled = true;
      setImmediate(() => this.tick());
    }
  }

  /** A new turn: a new allowance. */
  private tick(): void {
    this.tickScheduled = false;
    this.turnLines = 0;
    this.deliver();
    this.maybeResume();
    this.settle();
  }

  private refill(): void {
    const now = this.clock();
    const earned = ((now - this.refilledAt) / 1000) * this.budget.bytesPerSecond;
    this.tokens = Math.min(this.budget.burstBytes, this.tokens + earned);
    this.refilledAt = now;
  }

  private spend(bytes: number): void {
    this.refill();
    this.tokens -= bytes;
    if (this.tokens < 0) {
      this.pause();
      this.scheduleRefill();
    }
  }

  private scheduleRefill(): void {
    if (this.resumeTimer) return;
    const ms = Math.max(1, Math.ceil((-this.tokens / this.budget.bytesPerSecond) * 1000));
    this.resumeTimer = setTimeout(() => {
      this.resumeTimer = null;
      this.maybeResume();
    }, ms);
  }

  private pause(): void {
    if (this.paused) return;
    this.paused = true;
    this.stats.pauses++;
    for (const r of this.readables) r.pause();
  }

  private maybeResume(): void {
    if (!this.paused) return;
    // the queue must drain to half before reading more; each turn's tick checks again
    if (this.queued > this.budget.maxQueuedLines / 2) return;
    this.refill();
    if (this.tokens < 0) {
      this.scheduleRefill();
      return;
    }
    this.paused = false;
    for (const r of this.readables) r.resume();
  }

  private settle(): void {
    if (!this.sealed || this.open > 0 || this.queued > 0) return;
    if (this.resumeTimer) clearTimeout(this.resumeTimer);
    this.resumeTimer = null;
    this.resolveDone();
  }
}
