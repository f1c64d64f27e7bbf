// Client devices associated with a core device (cloud.md CL-79).
import type { Db } from './db.js';

export interface ClientDeviceAssociation {
  thingName: string;
  associatedMs: number;
}

export class ClientDeviceStore {
  constructor(private readonly db: Db) {}

  /** Associating twice keeps the first association time. */
  associate(core: string, thing: string, atMs: number): void {
    this.db
      .prepare('INSERT OR IGNORE INTO client_devices (core, thing, associated_ms) VALUES (?, ?, ?)')
      .run(core, thing, atMs);
  }

  disassociate(core: string, thing: string): boolean {
    return (
      this.db.prepare('DELETE FROM client_devices WHERE core = ? AND thing = ?').run(core, thing).changes > 0
    );
  }

  /** In thing-name order. */
  list(core: string): ClientDeviceAssociation[] {
    const rows = this.db
      .prepare('SELECT thing, associated_ms FROM client_devices WHERE core = ? ORDER BY thing')
      .all(core) as { thing: string; associated_ms: number }[];
    return rows.map((r) => ({ thingName: r.thing, associatedMs: r.associated_ms }));
  }
}
