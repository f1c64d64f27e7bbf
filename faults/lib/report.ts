// The campaign's bookkeeping: every fault is a tally of injections and of the injections after which
// every check held; failures keep the check's message. Figures are measured values (with the idle
// value they are compared with). The report is rendered from these records only: nothing in it is
// written by hand.

export interface FaultRecord {
  family: string;
  fault: string;
  /** What is checked after each injection, in a few words. */
  expect: string;
  injected: number;
  passed: number;
  failures: string[];
  /** Measured facts worth reading beside the outcome (retries seen, bytes resumed, errors returned). */
  notes: string[];
  /** Attempts that never reached the instant to inject at, as text. */
  missed?: string;
  /** Measured quantities over the injections, as text. */
  measured?: string[];
  /** Set when the fault could not be injected here, with the reason. */
  skipped?: string;
}

export interface Figure {
  family: string;
  name: string;
  value: number;
  unit: string;
  /** The value it is compared with, measured in the same run. */
  baseline?: { name: string; value: number };
  /** The campaign's bound on value/baseline, as text (not a test assertion). */
  bound?: string;
  within?: boolean;
}

/** Thrown by an injection whose instant never came: it does not count as an injection. */
export class NotInjected extends Error {}

export class Fault {
  /** Attempts whose instant never came (not counted as injections). */
  missed = 0;

  readonly record: FaultRecord;
  constructor(family: string, fault: string, expect: string) {
    this.record = { family, fault, expect, injected: 0, passed: 0, failures: [], notes: [] };
  }

  /**
   * Injects the fault once through `body`: the injection counts when body starts, and passes when
   * body returns. A thrown error is the failed check (its message is kept).
   */
  async inject(body: () => Promise<void>): Promise<boolean> {
    this.record.injected++;
    try {
      await body();
      this.record.passed++;
      return true;
    } catch (e) {
      if (e instanceof NotInjected) {
        this.record.injected--;
        this.missed++;
        this.record.missed = `${this.missed} attempt(s) missed the instant (${e.message}); not counted`;
        return false;
      }
      this.fail(e);
      return false;
    }
  }

  fail(e: unknown): void {
    const msg = e instanceof Error ? e.message : String(e);
    this.record.failures.push(`#${this.record.injected}: ${msg.split('\n').slice(0, 6).join(' / ')}`);
  }

  note(text: string): void {
    if (!this.record.notes.includes(text)) this.record.notes.push(text);
  }

  private readonly samples = new Map<string, { unit: string; values: number[] }>();

  /** Adds a sample of a measured quantity; the record's notes show min/mean/max over the samples. */
  measure(name: string, value: number, unit: string): void {
    const m = this.samples.get(name) ?? { unit, values: [] };
    m.values.push(value);
    this.samples.set(name, m);
    this.record.measured = [...this.samples].map(([n, { unit: u, values: v }]) => {
      const mean = v.reduce((a, b) => a + b, 0) / v.length;
      const unit = u ? ` ${u}` : '';
      return v.length === 1
        ? `${n}: ${fmt(v[0])}${unit}`
        : `${n}: ${fmt(Math.min(...v))}/${fmt(mean)}/${fmt(Math.max(...v))}${unit} (min/mean/max of ${v.length})`;
    });
  }

  skip(reason: string): void {
    this.record.skipped = reason;
  }
}

/** Throws with `message` unless `ok`: the checks read as a list of claims. */
export function check(ok: unknown, message: string): asserts ok {
  if (!ok) throw new Error(message);
}

const fmt = (n: number) => (Math.abs(n) >= 100 ? Math.round(n).toString() : n.toPrecision(3));
const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

export function outcomeOf(r: FaultRecord): string {
  if (r.skipped) return `skipped: ${r.skipped}`;
  if (r.injected === 0) return 'not injected';
  return r.passed === r.injected
    ? `held ${r.passed}/${r.injected}`
    : `FAILED ${r.injected - r.passed}/${r.injected}`;
}

export interface ReportInput {
  title: string;
  header: string[];
  families: { name: string; title: string; error?: string }[];
  records: FaultRecord[];
  figures: Figure[];
}

export function renderReport(r: ReportInput): string {
  const out: string[] = [`# ${r.title}`, '', ...r.header, ''];
  const total = r.records.reduce((n, x) => n + x.injected, 0);
  const failed = r.records.filter((x) => !x.skipped && x.passed !== x.injected);
  out.push(
    `${r.records.length} faults, ${total} injections; ${failed.length} fault(s) with a failed check; ` +
      `${r.records.filter((x) => x.skipped).length} skipped.`,
    '',
  );
  for (const fam of r.families) {
    out.push(`## ${fam.title}`, '');
    if (fam.error) out.push(`The family stopped early: ${cell(fam.error)}`, '');
    const rows = r.records.filter((x) => x.family === fam.name);
    if (rows.length) {
      out.push('| fault | checked after each injection | injected | outcome | notes and failures |');
      out.push('|---|---|---|---|---|');
      for (const x of rows) {
        const notes = [
          ...(x.measured ?? []),
          ...(x.missed ? [x.missed] : []),
          ...x.notes,
          ...x.failures.map((f) => `FAILED ${f}`),
        ].join('; ');
        out.push(
          `| ${cell(x.fault)} | ${cell(x.expect)} | ${x.injected} | ${outcomeOf(x)} | ${cell(notes) || '-'} |`,
        );
      }
      out.push('');
    }
    const figs = r.figures.filter((f) => f.family === fam.name);
    if (figs.length) {
      out.push('| figure | value | compared with (same run) | ratio | bound |', '|---|---|---|---|---|');
      for (const f of figs) {
        const ratio =
          f.baseline && f.baseline.value > 0 ? `${(f.value / f.baseline.value).toFixed(2)}x` : '-';
        const base = f.baseline ? `${f.baseline.name}: ${fmt(f.baseline.value)} ${f.unit}` : '-';
        const bound = f.bound ? `${f.bound} (${f.within ? 'within' : 'EXCEEDED'})` : '-';
        out.push(`| ${cell(f.name)} | ${fmt(f.value)} ${f.unit} | ${cell(base)} | ${ratio} | ${bound} |`);
      }
      out.push('');
    }
  }
  return out.join('\n');
}
