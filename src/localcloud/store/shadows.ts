// Device shadows (classic: name '') with their version, as the shadow MQTT API keeps them.
import type { Db } from './db.js';

export interface ShadowRecord {
  thingName: string;
  /** '' for the classic shadow. */
  shadowName: string;
  state: { desired?: Record<string, unknown>; reported?: Record<string, unknown> };
  metadata: { desired?: Record<string, unknown>; reported?: Record<string, unknown> };
  version: number;
  updatedMs: number;
}

export class ShadowStore {
  constructor(private readonly db: Db) {}

  get(thing: string, name: string): ShadowRecord | undefined {
    const r = this.db.prepare('SELECT * FROM shadows WHERE thing = ? AND name = ?').get(thing, name) as
      | { thing: string; name: string; state: string; metadata: string; version: number; updated_ms: number }
      | undefined;
    if (!r) return undefined;
    return {
      thingName: r.thing,
      shadowName: r.name,
      state: JSON.parse(r.state) as ShadowRecord['state'],
      metadata: JSON.parse(r.metadata) as ShadowRecord['metadata'],
      version: r.version,
      updatedMs: r.updated_ms,
    };
  }

  put(rec: ShadowRecord): void {
    this.db
      .prepare(
        `INSERT OR REPLACE INTO shadows (thing, name, state, metadata, version, updated_ms) VALUES (?, ?, ?, ?, ?, ?)`,
      )
      .run(
        rec.thingName,
        rec.shadowName,
        JSON.stringify(rec.state),
        JSON.stringify(rec.metadata),
        rec.version,
        rec.updatedMs,
      );
  }

  delete(thing: string, name: string): boolean {
    return this.db.prepare('DELETE FROM shadows WHERE thing = ? AND name = ?').run(thing, name).changes > 0;
  }
}
