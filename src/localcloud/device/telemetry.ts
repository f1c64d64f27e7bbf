// Telemetry consumer (cloud.md section 8, CL-80): messages on `$aws/things/<thing>/greengrass/health/json`
// are kept per thing, one per period end (TS): a message sent again after a device restart replaces
// nothing and is counted once. `readTelemetry` is the query behind the demo's view. A malformed
// message changes nothing; the reason, naming the field, is logged.
import { openDatabase, type Db } from '../store/db.js';

const TOPIC = /^\$aws\/things\/([^/]+)\/greengrass\/health\/json$/;

export interface StoredTelemetry {
  thingName: string;
  /** the period end the device stamped, epoch ms */
  timestamp: number;
  receivedMs: number;
  message: { TS: number; ADP: Array<{ TS: number; NS: string; M: Array<Record<string, unknown>> }> };
}

export class TelemetryError extends Error {}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Checks a message's shape; throws TelemetryError naming the field. */
export function parseTelemetryMessage(payload: Buffer): StoredTelemetry['message'] {
  let msg: unknown;
  try {
    msg = JSON.parse(payload.toString('utf8'));
  } catch (e) {
    throw new TelemetryError(`the payload is not valid JSON: ${(e as Error).message}`);
  }
  if (!isObj(msg)) throw new TelemetryError('the payload must be a JSON object');
  if (typeof msg.TS !== 'number' || !Number.isInteger(msg.TS) || msg.TS < 0)
    throw new TelemetryError('TS must be epoch milliseconds');
  if (!Array.isArray(msg.ADP)) throw new TelemetryError('ADP must be a list');
  msg.ADP.forEach((p, i) => {
    if (!isObj(p)) throw new TelemetryError(`ADP[${i}] must be an object`);
    if (typeof p.NS !== 'string' || p.NS === '') throw new TelemetryError(`ADP[${i}].NS must be a string`);
    if (typeof p.TS !== 'number') throw new TelemetryError(`ADP[${i}].TS must be a number`);
    if (!Array.isArray(p.M)) throw new TelemetryError(`ADP[${i}].M must be a list`);
    p.M.forEach((m, j) => {
      if (!isObj(m) || typeof m.N !== 'string')
        throw new TelemetryError(`ADP[${i}].M[${j}].N must be a string`);
    });
  });
  return msg as StoredTelemetry['message'];
}

export class TelemetryConsumer {
  private readonly db: Db;
  /** messages stored, and repeats of a stored period ignored */
  stored = 0;
  repeats = 0;

  constructor(
    dataDir: string,
    private readonly now: () => number,
    private readonly log: (msg: string) => void,
  ) {
    this.db = openDatabase(dataDir); // its own connection to the local cloud's database (WAL)
  }

  /** Handles a device publish; returns false if the topic is not the telemetry topic. */
  handle(thing: string, topic: string, payload: Buffer): boolean {
    const m = TOPIC.exec(topic);
    if (!m) return false;
    if (m[1] !== thing) {
      this.log(`telemetry: ${thing} published for another thing (${m[1]}); ignored`);
      return true;
    }
    try {
      const msg = parseTelemetryMessage(payload);
      const r = this.db
        .prepare('INSERT OR IGNORE INTO telemetry (thing, ts, received_ms, message) VALUES (?, ?, ?, ?)')
        .run(thing, msg.TS, this.now(), JSON.stringify(msg));
      if (r.changes > 0) this.stored++;
      else this.repeats++;
    } catch (e) {
      if (!(e instanceof TelemetryError)) throw e;
      this.log(`telemetry from ${thing} refused: ${e.message}`);
    }
    return true;
  }

  list(thing: string, limit = 100): StoredTelemetry[] {
    return queryTelemetry(this.db, thing, limit);
  }

  close(): void {
    this.db.close();
  }
}

function queryTelemetry(db: Db, thing: string, limit: number): StoredTelemetry[] {
  const rows = db
    .prepare('SELECT * FROM telemetry WHERE thing = ? ORDER BY ts DESC LIMIT ?')
    .all(thing, limit) as Array<{ thing: string; ts: number; received_ms: number; message: string }>;
  return rows.reverse().map((r) => ({
    thingName: r.thing,
    timestamp: r.ts,
    receivedMs: r.received_ms,
    message: JSON.parse(r.message) as StoredTelemetry['message'],
  }));
}

/** The telemetry a local cloud data directory holds for `thing`, oldest first (running or not). */
export function readTelemetry(dataDir: string, thing: string, limit = 100): StoredTelemetry[] {
  const db = openDatabase(dataDir);
  try {
    return queryTelemetry(db, thing, limit);
  } finally {
    db.close();
  }
}
