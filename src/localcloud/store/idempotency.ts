// clientToken idempotency [CP-08], [CP-59]: the first result of (operation, token) is kept with a hash of
// the request; a repeat with the same request gets that result, a different request is a conflict.
import type { Db } from './db.js';

export type IdempotencyLookup =
  { kind: 'new' } | { kind: 'replay'; response: unknown } | { kind: 'mismatch' };

export class IdempotencyStore {
  constructor(private readonly db: Db) {}

  lookup(operation: string, token: string, requestHash: string): IdempotencyLookup {
    const row = this.db
      .prepare('SELECT request_hash, response FROM idempotency WHERE operation = ? AND token = ?')
      .get(operation, token) as { request_hash: string; response: string } | undefined;
    if (!row) return { kind: 'new' };
    if (row.request_hash !== requestHash) return { kind: 'mismatch' };
    return { kind: 'replay', response: JSON.parse(row.response) as unknown };
  }

  record(operation: string, token: string, requestHash: string, response: unknown, atMs: number): void {
    this.db
      .prepare(
        'INSERT INTO idempotency (operation, token, request_hash, response, created_ms) VALUES (?, ?, ?, ?, ?)',
      )
      .run(operation, token, requestHash, JSON.stringify(response), atMs);
  }
}
