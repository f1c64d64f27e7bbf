// The status outbox [DP-68, DP-69]: every status is stored durably in the config tree under
// `services.DeploymentService.runtime.ProcessedDeployments.<epochMs>` before any consumer sees it,
// and consumers are called in timestamp order; an entry is dropped only once every consumer has
// accepted it, and a refusal stops the flush so the order is kept.
import type { ConfigStore, JsonObject } from '../config/index.js';
import type { DeploymentType, JobStatus } from './result.js';

export const PROCESSED_DEPLOYMENTS_PATH = [
  'services',
  'DeploymentService',
  'runtime',
  'ProcessedDeployments',
] as const;

/** One stored status, with the field names of DP-68. */
export interface ProcessedDeployment {
  DeploymentId: string;
  GreengrassDeploymentId: string;
  ConfigurationArn: string;
  DeploymentType: DeploymentType;
  DeploymentStatus: JobStatus;
  DeploymentStatusDetails: Record<string, string>;
  /** Root component names of the deployment. */
  DeploymentRootPackages: string[];
}

/** A status consumer (IoT Jobs, shadow, local status, fleet status); implemented outside deployment/. */
export interface DeploymentStatusReporter {
  /** Stable name, recorded once the consumer accepted an entry so a retry skips it. */
  readonly name: string;
  /** Resolves true when the status was accepted (published); false or a rejection = retry later. */
  report(status: ProcessedDeployment): Promise<boolean>;
}

const ACCEPTED_BY = 'AcceptedBy';

export class StatusOutbox {
  private last = 0;
  private flushing: Promise<number> | undefined;
  private again: Promise<number> | undefined;

  constructor(
    private readonly store: ConfigStore,
    private readonly reporters: readonly DeploymentStatusReporter[],
  ) {}

  /** Stores `status` durably; resolves with its key once it is on disk [DP-68]. */
  async record(status: ProcessedDeployment): Promise<string> {
    const keys = this.keys();
    const newest = keys.length ? Number(keys[keys.length - 1]) : 0;
    const key = String(Math.max(this.store.config.now(), newest + 1, this.last + 1));
    this.last = Number(key);
    const value: JsonObject = {
      ...status,
      DeploymentStatusDetails: { ...status.DeploymentStatusDetails },
      DeploymentRootPackages: [...status.DeploymentRootPackages],
    };
    await this.store.merge(value, { at: [...PROCESSED_DEPLOYMENTS_PATH, key] });
    return key;
  }

  /** Stored entries, oldest first. */
  pending(): Array<{ key: string; status: ProcessedDeployment }> {
    const map = this.store.config.toMap([...PROCESSED_DEPLOYMENTS_PATH]);
    return this.keys().map((key) => {
      const v = { ...(map[key] as JsonObject) };
      delete v[ACCEPTED_BY];
      return { key, status: v as unknown as ProcessedDeployment };
    });
  }

  /**
   * Delivers stored statuses in order [DP-69]; stops at the first refusal. Resolves with the number
   * of entries fully delivered and removed. Flushes never overlap: a call during a flush gets one
   * more pass after it (shared by every call meanwhile), since that flush may have started before
   * the caller's status was stored.
   */
  flush(): Promise<number> {
    if (this.flushing) {
      const next = () => {
        this.again = undefined;
        return this.flush();
      };
      this.again ??= this.flushing.then(next, next);
      return this.again;
    }
    this.flushing = this.flushOnce().finally(() => {
      this.flushing = undefined;
    });
    return this.flushing;
  }

  private async flushOnce(): Promise<number> {
    // only what is on disk goes out: a status the tlog could not take yet (disk full) waits for it
    await this.store.sync();
    let delivered = 0;
    for (const { key, status } of this.pending()) {
      const path = [...PROCESSED_DEPLOYMENTS_PATH, key];
      if (typeof status.DeploymentId !== 'string' || typeof status.DeploymentStatus !== 'string') {
        // a record cut short by a crash (its lines can span two tlog batches): never acknowledged,
        // since record() resolves only once all of it is durable; left in place it would stop every flush
        await this.store.remove(path);
        continue;
      }
      const accepted = new Set(asStrings(this.store.config.get([...path, ACCEPTED_BY])));
      for (const r of this.reporters) {
        if (accepted.has(r.name)) continue;
        const ok = await r.report(status).catch(() => false);
        if (!ok) return delivered;
        accepted.add(r.name);
        await this.store.set([...path, ACCEPTED_BY], [...accepted]);
      }
      await this.store.remove(path);
      delivered++;
    }
    return delivered;
  }

  private keys(): string[] {
    const map = this.store.config.toMap([...PROCESSED_DEPLOYMENTS_PATH]);
    return Object.keys(map)
      .filter((k) => /^\d+$/.test(k))
      .sort((a, b) => Number(a) - Number(b));
  }
}

function asStrings(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}
