// The telemetry agent: samples on its interval (local topic + latest.json), aggregates the samples
// and the metrics components put over IPC into windows of periodicAggregateMetricsIntervalSeconds,
// and publishes the windows every periodicPublishMetricsIntervalSeconds (CF-43, CL-80). Boundaries,
// the open window, pending points and unsent messages are written to <root>/telemetry before they
// count, so a restart neither loses nor repeats a period: a message leaves the outbox only once
// the broker acknowledged it, and it carries its period's end (TS) by which the cloud keeps one.
import { join } from 'node:path';
import { cloudMessage, samplePoints, WindowAccumulator } from './aggregate.js';
import { dueWork, nextBoundaryAt } from './schedule.js';
import {
  AGENT_STATE_FILE,
  LATEST_SAMPLE_FILE,
  readAgentState,
  writeAtomic,
  type AgentState,
} from './state-file.js';
import type { CloudTelemetryMessage, MetricPoint, TelemetrySample, TelemetrySettings } from './types.js';

export const DEFAULT_TELEMETRY_SETTINGS: TelemetrySettings = {
  enabled: true,
  aggregateIntervalMs: 3600_000,
  publishIntervalMs: 86400_000,
  sampleIntervalMs: 60_000,
};

/** Messages kept while the cloud is unreachable; the oldest go first. */
export const OUTBOX_LIMIT = 32;

export interface AgentTimers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export interface TelemetryAgentOptions {
  /** <root>/telemetry */
  dir: string;
  settings: TelemetrySettings;
  sample(): Promise<TelemetrySample>;
  publishLocal(sample: TelemetrySample): void;
  /** QoS 1 publication; resolves on the broker's acknowledgement, rejects when it cannot be sent */
  publishCloud?(message: CloudTelemetryMessage): Promise<void>;
  /** epoch ms */
  now?(): number;
  timers?: AgentTimers;
  log(msg: string): void;
}

const realTimers: AgentTimers = {
  setTimeout: (fn, ms) => {
    const t = setTimeout(fn, ms);
    t.unref();
    return t;
  },
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

export class TelemetryAgent {
  private settings: TelemetrySettings;
  private state: AgentState | undefined;
  private window = new WindowAccumulator();
  private timer: unknown;
  private nextSampleAt = 0;
  private chain: Promise<void> = Promise.resolve();
  private stopped = false;
  private flushing = false;
  private readonly now: () => number;
  private readonly timers: AgentTimers;
  /** the last sample taken */
  latest: TelemetrySample | undefined;

  constructor(private readonly o: TelemetryAgentOptions) {
    this.settings = o.settings;
    this.now = o.now ?? Date.now;
    this.timers = o.timers ?? realTimers;
  }

  get pendingMessages(): readonly CloudTelemetryMessage[] {
    return this.state?.outbox ?? [];
  }

  async start(): Promise<void> {
    const now = this.now();
    const saved = await readAgentState(this.o.dir);
    this.state = saved ?? {
      aggregateFrom: now,
      publishFrom: now,
      window: {},
      pending: [],
      outbox: [],
      dropped: 0,
    };
    this.window = WindowAccumulator.from(this.state.window);
    if (!saved) await this.persist();
    this.nextSampleAt = now;
    this.schedule(0);
  }

  /** New intervals or enabled flag; takes effect from the next step. */
  reconfigure(settings: TelemetrySettings): void {
    this.settings = settings;
    this.nextSampleAt = Math.min(this.nextSampleAt, this.now() + settings.sampleIntervalMs);
    this.schedule(0);
  }

  /** Adds metrics put by a component over IPC [IPC-66]; resolves once they are on disk. */
  putMetrics(points: MetricPoint[]): Promise<void> {
    return this.serial(async () => {
      if (!this.settings.enabled) throw new Error('telemetry is disabled (telemetry.enabled is false)');
      this.window.add(points);
      await this.persist();
    });
  }

  /** Runs whatever is due now (sample, window close, publication); what the timer does. */
  step(): Promise<void> {
    return this.serial(() => this.runDue());
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== undefined) this.timers.clearTimeout(this.timer);
    this.timer = undefined;
    await this.chain;
    if (this.state) await this.persist();
  }

  private serial(fn: () => Promise<void>): Promise<void> {
    const run = this.chain.then(fn);
    this.chain = run.catch((e: unknown) => this.o.log(`telemetry: ${String(e)}`));
    return run;
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    if (this.timer !== undefined) this.timers.clearTimeout(this.timer);
    this.timer = this.timers.setTimeout(
      () => {
        this.timer = undefined;
        void this.step().finally(() => this.scheduleNext());
      },
      Math.max(0, delayMs),
    );
  }

  private scheduleNext(): void {
    if (this.stopped || !this.state) return;
    const now = this.now();
    let at = this.nextSampleAt;
    if (this.settings.enabled) at = Math.min(at, nextBoundaryAt(this.state, this.intervals(), now));
    this.schedule(at - now);
  }

  private intervals() {
    return { aggregateMs: this.settings.aggregateIntervalMs, publishMs: this.settings.publishIntervalMs };
  }

  private async runDue(): Promise<void> {
    const state = this.state;
    if (!state || this.stopped) return;
    let now = this.now();
    if (now >= this.nextSampleAt) {
      const sample = await this.o.sample();
      this.latest = sample;
      this.nextSampleAt = now + this.settings.sampleIntervalMs;
      try {
        this.o.publishLocal(sample);
      } catch (e) {
        this.o.log(`telemetry: local publish failed: ${String(e)}`);
      }
      await writeAtomic(join(this.o.dir, LATEST_SAMPLE_FILE), JSON.stringify(sample));
      if (this.settings.enabled) this.window.add(samplePoints(sample));
      now = this.now();
    }
    if (!this.settings.enabled) return;
    const due = dueWork(state, this.intervals(), now);
    let changed =
      due.next.aggregateFrom !== state.aggregateFrom || due.next.publishFrom !== state.publishFrom;
    if (due.closeWindowAt !== undefined && !this.window.empty) {
      state.pending.push(...this.window.close(due.closeWindowAt));
      changed = true;
    }
    if (due.publishAt !== undefined) {
      const msg = cloudMessage(state.pending, due.publishAt);
      if (msg) {
        state.outbox.push(msg);
        state.pending = [];
        while (state.outbox.length > OUTBOX_LIMIT) {
          state.outbox.shift();
          state.dropped++;
        }
      }
    }
    state.aggregateFrom = due.next.aggregateFrom;
    state.publishFrom = due.next.publishFrom;
    if (changed) await this.persist();
    await this.flushOutbox();
  }

  /** Sends the unsent messages in order; stops at the first that cannot be sent (retried next step). */
  async flushOutbox(): Promise<void> {
    const state = this.state;
    if (!state || !this.o.publishCloud || this.flushing) return;
    this.flushing = true;
    try {
      while (state.outbox.length > 0 && !this.stopped) {
        const msg = state.outbox[0];
        try {
          await this.o.publishCloud(msg);
        } catch (e) {
          this.o.log(
            `telemetry: message of ${new Date(msg.TS).toISOString()} not sent: ${(e as Error).message}`,
          );
          return;
        }
        state.outbox.shift();
        await this.persist();
      }
    } finally {
      this.flushing = false;
    }
  }

  private async persist(): Promise<void> {
    if (!this.state) return;
    this.state.window = this.window.snapshot();
    await writeAtomic(join(this.o.dir, AGENT_STATE_FILE), JSON.stringify(this.state));
  }
}
