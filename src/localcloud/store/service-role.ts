// The account's Greengrass service role [CP-23], [CP-33], [CP-39].
import type { Db } from './db.js';

export interface ServiceRoleRecord {
  roleArn: string;
  associatedAt: string;
}

export class ServiceRoleStore {
  constructor(private readonly db: Db) {}

  get(): ServiceRoleRecord | undefined {
    const row = this.db.prepare('SELECT role_arn, associated_at FROM service_role WHERE id = 1').get() as
      { role_arn: string; associated_at: string } | undefined;
    return row ? { roleArn: row.role_arn, associatedAt: row.associated_at } : undefined;
  }

  set(rec: ServiceRoleRecord): void {
    this.db
      .prepare('INSERT OR REPLACE INTO service_role (id, role_arn, associated_at) VALUES (1, ?, ?)')
      .run(rec.roleArn, rec.associatedAt);
  }

  clear(): void {
    this.db.prepare('DELETE FROM service_role WHERE id = 1').run();
  }
}
