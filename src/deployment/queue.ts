// The deployment queue [DP-03]: insertion-ordered, bounded, one entry per key, persisted under
// `<root>/deployments/queue/` so that an acknowledged offer survives a restart (durable before
// acknowledged: `offer` resolves after the entry file and its directory are fsync'd).
import { mkdir, open, readdir, readFile, rename, unlink } from 'node:fs/promises';
import path from 'node:path';
import type { DeploymentType } from './result.js';

/** Stage of a deployment [DP-31]; anything but DEFAULT is a resumed kernel-update deployment. */
export type DeploymentStage =
  'DEFAULT' | 'BOOTSTRAP' | 'KERNEL_ACTIVATION' | 'KERNEL_ROLLBACK' | 'ROLLBACK_BOOTSTRAP';

export interface QueuedDeployment {
  /** The deployment id (for SHADOW deployments the configurationArn [DP-80]). */
  id: string;
  type: DeploymentType;
  stage: DeploymentStage;
  /** A cancellation request rather than a deployment [DP-04]. */
  cancelled?: boolean;
  /** The deployment document as received (any of the forms parseDeploymentDocument accepts). */
  document?: unknown;
}

export type OfferOutcome = 'queued' | 'replaced' | 'ignored' | 'full';

export interface DeploymentQueueOptions {
  /** At most this many entries; further offers are refused and counted (default 100). */
  maxEntries?: number;
}

interface Slot {
  key: string;
  seq: number;
  entry: QueuedDeployment;
}

const FILE = /^(\d{12})\.json$/;

/** The queue key [DP-03]: SHADOW deployments share one slot, others are keyed by type and id. */
export function queueKey(d: Pick<QueuedDeployment, 'type' | 'id'>): string {
  return d.type === 'SHADOW' ? 'SHADOW' : `${d.type}:${d.id}`;
}

/**
 * [DP-03] Whether `incoming` replaces the queued `existing` of the same key: a queued entry in a
 * non-DEFAULT stage never is; a SHADOW deployment, a cancellation or a non-DEFAULT offer replaces
 * a queued DEFAULT one; anything else is a duplicate.
 */
export function replacesQueued(existing: QueuedDeployment, incoming: QueuedDeployment): boolean {
  if (existing.stage !== 'DEFAULT') return false;
  if (incoming.type === 'SHADOW') return true;
  return incoming.cancelled === true || incoming.stage !== 'DEFAULT';
}

export class DeploymentQueue {
  private readonly slots: Slot[] = [];
  private nextSeq = 1;
  private waiters: Array<() => void> = [];
  private chain: Promise<unknown> = Promise.resolve();
  /** Offers refused because the queue was full [DESIGN: every queue a bound and a drop counter]. */
  dropped = 0;

  private constructor(
    readonly dir: string,
    private readonly maxEntries: number,
  ) {}

  /** Opens (creating) `<root>/deployments/queue` and loads what a previous run left, in order. */
  static async open(root: string, opts: DeploymentQueueOptions = {}): Promise<DeploymentQueue> {
    const dir = path.join(root, 'deployments', 'queue');
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const q = new DeploymentQueue(dir, opts.maxEntries ?? 100);
    const files = (await readdir(dir)).filter((f) => FILE.test(f)).sort();
    for (const f of files) {
      const seq = Number(FILE.exec(f)?.[1]);
      q.nextSeq = Math.max(q.nextSeq, seq + 1);
      const entry = parseEntry(await readFile(path.join(dir, f), 'utf8'));
      if (!entry) continue; // a torn write never got acknowledged
      q.slots.push({ key: queueKey(entry), seq, entry });
    }
    return q;
  }

  get size(): number {
    return this.slots.length;
  }

  /** Entries in order (copies). */
  entries(): QueuedDeployment[] {
    return this.slots.map((s) => structuredClone(s.entry));
  }

  /** Adds or replaces per DP-03; resolves once the change is durable. */
  offer(entry: QueuedDeployment): Promise<OfferOutcome> {
    return this.serial(async () => {
      checkEntry(entry);
      const key = queueKey(entry);
      const existing = this.slots.find((s) => s.key === key);
      if (existing) {
        if (!replacesQueued(existing.entry, entry)) return 'ignored';
        await this.write(existing.seq, entry);
        existing.entry = structuredClone(entry);
        this.wake();
        return 'replaced';
      }
      if (this.slots.length >= this.maxEntries) {
        this.dropped++;
        return 'full';
      }
      const seq = this.nextSeq++;
      await this.write(seq, entry);
      this.slots.push({ key, seq, entry: structuredClone(entry) });
      this.wake();
      return 'queued';
    });
  }

  /** The oldest entry, left in the queue (and on disk) until `remove`. */
  peek(): QueuedDeployment | undefined {
    const s = this.slots[0];
    return s && structuredClone(s.entry);
  }

  /** Removes the entry of `entry`'s key durably; false when it is not queued. */
  remove(entry: Pick<QueuedDeployment, 'type' | 'id'>): Promise<boolean> {
    return this.serial(async () => {
      const key = queueKey(entry);
      const i = this.slots.findIndex((s) => s.key === key);
      if (i < 0) return false;
      const [slot] = this.slots.splice(i, 1);
      await unlink(this.fileOf(slot.seq)).catch((e: NodeJS.ErrnoException) => {
        if (e.code !== 'ENOENT') throw e;
      });
      await fsyncDir(this.dir);
      return true;
    });
  }

  /** Resolves when an entry is queued (immediately if one is), or when `signal` aborts. */
  waitForEntry(signal?: AbortSignal): Promise<void> {
    if (this.slots.length > 0 || signal?.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        signal?.removeEventListener('abort', done);
        this.waiters = this.waiters.filter((w) => w !== done);
        resolve();
      };
      this.waiters.push(done);
      signal?.addEventListener('abort', done, { once: true });
    });
  }

  private wake(): void {
    for (const w of [...this.waiters]) w();
  }

  private fileOf(seq: number): string {
    return path.join(this.dir, `${String(seq).padStart(12, '0')}.json`);
  }

  private async write(seq: number, entry: QueuedDeployment): Promise<void> {
    const file = this.fileOf(seq);
    const tmp = `${file}.tmp`;
    const fh = await open(tmp, 'w', 0o600);
    try {
      await fh.writeFile(JSON.stringify(entry));
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, file);
    await fsyncDir(this.dir);
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.chain.then(fn, fn);
    this.chain = run.catch(() => undefined);
    return run;
  }
}

const TYPES: readonly DeploymentType[] = ['IOT_JOBS', 'SHADOW', 'LOCAL'];
const STAGES: readonly DeploymentStage[] = [
  'DEFAULT',
  'BOOTSTRAP',
  'KERNEL_ACTIVATION',
  'KERNEL_ROLLBACK',
  'ROLLBACK_BOOTSTRAP',
];

function checkEntry(e: QueuedDeployment): void {
  if (typeof e.id !== 'string' || e.id.length === 0)
    throw new TypeError('deployment queue entry: id must be a non-empty string');
  if (!TYPES.includes(e.type))
    throw new TypeError(
      `deployment queue entry: type must be one of ${TYPES.join(', ')}, got ${String(e.type)}`,
    );
  if (!STAGES.includes(e.stage))
    throw new TypeError(
      `deployment queue entry: stage must be one of ${STAGES.join(', ')}, got ${String(e.stage)}`,
    );
}

function parseEntry(text: string): QueuedDeployment | undefined {
  try {
    const e = JSON.parse(text) as QueuedDeployment;
    checkEntry(e);
    return e;
  } catch {
    return undefined;
  }
}

async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}
