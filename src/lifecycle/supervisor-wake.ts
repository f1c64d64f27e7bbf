// The supervisor loop's sleep and wake-up: the loop idles until a request or an event wakes it, and
// callers wait for a status predicate, re-checked on every wake-up and whenever the loop goes idle.

export class LoopWake {
  private flag = false;
  private resolveIdle: (() => void) | null = null;
  private readonly waiters = new Set<() => void>();
  /** True while the loop has nothing to do until the next wake-up. */
  idle = false;

  /** Called at the top of each loop round: wake-ups from now on count for the next idle. */
  beginRound(): void {
    this.flag = false;
  }

  wake(): void {
    this.flag = true;
    this.idle = false;
    const r = this.resolveIdle;
    this.resolveIdle = null;
    r?.();
    this.notify();
  }

  /** Resolves at the next wake-up (at once if one came since beginRound, or when `closed`). */
  async sleep(closed: boolean): Promise<void> {
    if (this.flag || closed) return;
    this.idle = true;
    this.notify();
    await new Promise<void>((resolve) => (this.resolveIdle = resolve));
    this.idle = false;
  }

  /** Resolves with `status()` once `pred` holds for it. */
  waitFor<S>(status: () => S, pred: (s: S) => boolean): Promise<S> {
    return new Promise((resolve) => {
      const check = () => {
        const s = status();
        if (!pred(s)) return;
        this.waiters.delete(check);
        resolve(s);
      };
      this.waiters.add(check);
      check();
    });
  }

  private notify(): void {
    for (const w of [...this.waiters]) w();
  }
}
