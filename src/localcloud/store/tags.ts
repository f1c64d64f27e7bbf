// Tags of taggable resources (components, component versions, deployments, core devices), keyed by ARN.
import type { Db } from './db.js';

export class TagStore {
  constructor(private readonly db: Db) {}

  get(arn: string): Record<string, string> {
    const rows = this.db.prepare('SELECT key, value FROM tags WHERE arn = ? ORDER BY key').all(arn) as {
      key: string;
      value: string;
    }[];
    return Object.fromEntries(rows.map((r) => [r.key, r.value]));
  }

  put(arn: string, tags: Record<string, string>): void {
    const stmt = this.db.prepare('INSERT OR REPLACE INTO tags (arn, key, value) VALUES (?, ?, ?)');
    for (const [k, v] of Object.entries(tags)) stmt.run(arn, k, v);
  }

  remove(arn: string, keys: string[]): void {
    const stmt = this.db.prepare('DELETE FROM tags WHERE arn = ? AND key = ?');
    for (const k of keys) stmt.run(arn, k);
  }

  removeAll(arn: string): void {
    this.db.prepare('DELETE FROM tags WHERE arn = ?').run(arn);
  }
}
