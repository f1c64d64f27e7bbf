// The IoT thing registry the device side needs: things (with the SHA-256 of the certificate issued to
// them) and thing groups. Membership lives in thing_group_members (see CoreDeviceStore.addToThingGroup).
import type { Db } from './db.js';

export interface ThingRecord {
  thingName: string;
  createdMs: number;
  certificateSha256?: string;
}

export class ThingStore {
  constructor(private readonly db: Db) {}

  /** Creates the thing if it does not exist; returns whether it was created. */
  create(name: string, nowMs: number): boolean {
    return (
      this.db.prepare('INSERT OR IGNORE INTO things (name, created_ms) VALUES (?, ?)').run(name, nowMs)
        .changes > 0
    );
  }

  get(name: string): ThingRecord | undefined {
    const r = this.db.prepare('SELECT * FROM things WHERE name = ?').get(name) as
      { name: string; created_ms: number; certificate_sha256: string | null } | undefined;
    return r
      ? { thingName: r.name, createdMs: r.created_ms, certificateSha256: r.certificate_sha256 ?? undefined }
      : undefined;
  }

  setCertificate(name: string, sha256: string): void {
    this.db.prepare('UPDATE things SET certificate_sha256 = ? WHERE name = ?').run(sha256, name);
  }

  createGroup(name: string, nowMs: number): boolean {
    return (
      this.db.prepare('INSERT OR IGNORE INTO thing_groups (name, created_ms) VALUES (?, ?)').run(name, nowMs)
        .changes > 0
    );
  }

  groupExists(name: string): boolean {
    return this.db.prepare('SELECT 1 FROM thing_groups WHERE name = ?').get(name) !== undefined;
  }

  /** Member things of a group, in name order. */
  members(group: string): string[] {
    const rows = this.db
      .prepare('SELECT thing FROM thing_group_members WHERE group_name = ? ORDER BY thing')
      .all(group) as { thing: string }[];
    return rows.map((r) => r.thing);
  }
}
