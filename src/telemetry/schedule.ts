// Pure scheduling of the aggregation and publication periods. Periods are anchored at persisted
// boundaries (`aggregateFrom`, `publishFrom`), so that a restart neither loses a period (an overdue
// boundary is acted on at once) nor doubles one (a boundary already passed is never passed again).

export interface PeriodBoundaries {
  /** start of the open aggregation window, epoch ms */
  aggregateFrom: number;
  /** start of the open publication period, epoch ms */
  publishFrom: number;
}

export interface DueWork {
  /** close the aggregation window at this end, when one is over */
  closeWindowAt?: number;
  /** publish what is pending at this end, when a publication period is over */
  publishAt?: number;
  next: PeriodBoundaries;
}

/** The last boundary `from + k*interval` that is <= now (k >= 0), or undefined if none has passed. */
export function lastBoundary(from: number, intervalMs: number, now: number): number | undefined {
  if (now < from + intervalMs) return undefined;
  return from + Math.floor((now - from) / intervalMs) * intervalMs;
}

/**
 * What is due at `now`. Windows missed while the nucleus was down collapse into one (they had no
 * samples); a boundary in the future (a clock set back) re-anchors the period at `now`.
 */
export function dueWork(
  b: PeriodBoundaries,
  intervals: { aggregateMs: number; publishMs: number },
  now: number,
): DueWork {
  const next = { ...b };
  const out: DueWork = { next };
  if (next.aggregateFrom > now) next.aggregateFrom = now;
  if (next.publishFrom > now) next.publishFrom = now;
  const windowEnd = lastBoundary(next.aggregateFrom, intervals.aggregateMs, now);
  if (windowEnd !== undefined) {
    out.closeWindowAt = windowEnd;
    next.aggregateFrom = windowEnd;
  }
  const periodEnd = lastBoundary(next.publishFrom, intervals.publishMs, now);
  if (periodEnd !== undefined) {
    out.publishAt = periodEnd;
    next.publishFrom = periodEnd;
    // what is aggregated by the publication boundary goes out with it
    if (out.closeWindowAt === undefined || out.closeWindowAt < periodEnd) {
      out.closeWindowAt = periodEnd;
      next.aggregateFrom = periodEnd;
    }
  }
  return out;
}

/** When the next boundary of either period falls. */
export function nextBoundaryAt(
  b: PeriodBoundaries,
  intervals: { aggregateMs: number; publishMs: number },
  now: number,
): number {
  const after = (from: number, iv: number) => from + (Math.floor(Math.max(0, now - from) / iv) + 1) * iv;
  return Math.min(after(b.aggregateFrom, intervals.aggregateMs), after(b.publishFrom, intervals.publishMs));
}
