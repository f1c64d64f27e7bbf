// Connectivity information of core devices (cloud.md CL-76). `version` increases with every update so the
// later shadow side can bump `desired.version` of the `{core}-gci` shadow (CL-78).
import type { Db } from './db.js';

export interface ConnectivityEndpoint {
  id?: string;
  hostAddress?: string;
  portNumber?: number;
  metadata?: string;
}

export interface ConnectivityRecord {
  thingName: string;
  endpoints: ConnectivityEndpoint[];
  version: number;
}

export class ConnectivityStore {
  constructor(private readonly db: Db) {}

  get(thing: string): ConnectivityRecord | undefined {
    const row = this.db.prepare('SELECT info, version FROM connectivity WHERE thing = ?').get(thing) as
      { info: string; version: number } | undefined;
    return row
      ? { thingName: thing, endpoints: JSON.parse(row.info) as ConnectivityEndpoint[], version: row.version }
      : undefined;
  }

  /** Replaces the list; returns the new version. */
  put(thing: string, endpoints: ConnectivityEndpoint[]): number {
    const version = (this.get(thing)?.version ?? 0) + 1;
    this.db
      .prepare('INSERT OR REPLACE INTO connectivity (thing, info, version) VALUES (?, ?, ?)')
      .run(thing, JSON.stringify(endpoints), version);
    return version;
  }
}
