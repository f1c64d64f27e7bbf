// The local cloud's state: one SQLite database in the data directory, migrated forward by
// `PRAGMA user_version`. Later parts (data plane, IoT jobs, shadows) add migrations to the list.
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

export type Db = Database.Database;

const MIGRATIONS: string[] = [
  `
  CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
  CREATE TABLE component_versions (
    name TEXT NOT NULL,
    version TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    state TEXT NOT NULL,
    message TEXT,
    errors TEXT,
    recipe TEXT NOT NULL,
    description TEXT,
    publisher TEXT,
    platforms TEXT NOT NULL,
    PRIMARY KEY (name, version)
  );
  CREATE TABLE deployments (
    id TEXT PRIMARY KEY,
    seq INTEGER NOT NULL UNIQUE,
    target_arn TEXT NOT NULL,
    revision INTEGER NOT NULL,
    name TEXT,
    status TEXT NOT NULL,
    job_id TEXT,
    job_arn TEXT,
    spec TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    is_latest INTEGER NOT NULL,
    parent_target_arn TEXT
  );
  CREATE INDEX deployments_target ON deployments (target_arn, revision);
  CREATE TABLE core_devices (
    thing TEXT PRIMARY KEY,
    core_version TEXT,
    platform TEXT,
    architecture TEXT,
    runtime TEXT,
    status TEXT NOT NULL,
    last_update_ms INTEGER NOT NULL
  );
  CREATE TABLE installed_components (
    thing TEXT NOT NULL,
    name TEXT NOT NULL,
    version TEXT,
    lifecycle_state TEXT,
    details TEXT,
    is_root INTEGER NOT NULL,
    last_change_ms INTEGER,
    last_reported_ms INTEGER,
    source TEXT,
    status_codes TEXT,
    PRIMARY KEY (thing, name)
  );
  CREATE TABLE effective_deployments (
    thing TEXT NOT NULL,
    deployment_id TEXT NOT NULL,
    name TEXT NOT NULL,
    job_id TEXT,
    job_arn TEXT,
    description TEXT,
    target_arn TEXT NOT NULL,
    status TEXT NOT NULL,
    reason TEXT,
    created_ms INTEGER NOT NULL,
    modified_ms INTEGER NOT NULL,
    details TEXT,
    PRIMARY KEY (thing, deployment_id)
  );
  CREATE TABLE thing_group_members (
    group_name TEXT NOT NULL,
    thing TEXT NOT NULL,
    PRIMARY KEY (group_name, thing)
  );
  CREATE TABLE client_devices (
    core TEXT NOT NULL,
    thing TEXT NOT NULL,
    associated_ms INTEGER NOT NULL,
    PRIMARY KEY (core, thing)
  );
  CREATE TABLE connectivity (
    thing TEXT PRIMARY KEY,
    info TEXT NOT NULL,
    version INTEGER NOT NULL
  );
  CREATE TABLE tags (
    arn TEXT NOT NULL,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (arn, key)
  );
  CREATE TABLE idempotency (
    operation TEXT NOT NULL,
    token TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    response TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    PRIMARY KEY (operation, token)
  );
  CREATE TABLE service_role (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    role_arn TEXT NOT NULL,
    associated_at TEXT NOT NULL
  );
  `,
  // The device-facing side: the thing registry, IoT jobs and their executions, shadows.
  `
  CREATE TABLE things (
    name TEXT PRIMARY KEY,
    created_ms INTEGER NOT NULL,
    certificate_sha256 TEXT
  );
  CREATE TABLE thing_groups (
    name TEXT PRIMARY KEY,
    created_ms INTEGER NOT NULL
  );
  CREATE TABLE jobs (
    job_id TEXT PRIMARY KEY,
    deployment_id TEXT NOT NULL,
    target_arn TEXT NOT NULL,
    document TEXT NOT NULL,
    status TEXT NOT NULL,
    created_ms INTEGER NOT NULL
  );
  CREATE TABLE job_executions (
    job_id TEXT NOT NULL,
    thing TEXT NOT NULL,
    status TEXT NOT NULL,
    status_details TEXT NOT NULL,
    queued_ms INTEGER NOT NULL,
    started_ms INTEGER,
    updated_ms INTEGER NOT NULL,
    version INTEGER NOT NULL,
    execution_number INTEGER NOT NULL,
    PRIMARY KEY (job_id, thing)
  );
  CREATE INDEX job_executions_thing ON job_executions (thing, status, queued_ms);
  CREATE TABLE shadows (
    thing TEXT NOT NULL,
    name TEXT NOT NULL,
    state TEXT NOT NULL,
    metadata TEXT NOT NULL,
    version INTEGER NOT NULL,
    updated_ms INTEGER NOT NULL,
    PRIMARY KEY (thing, name)
  );
  `,
  // telemetry messages received on $aws/things/<thing>/greengrass/health/json [CL-80], one per period end
  `
  CREATE TABLE telemetry (
    thing TEXT NOT NULL,
    ts INTEGER NOT NULL,
    received_ms INTEGER NOT NULL,
    message TEXT NOT NULL,
    PRIMARY KEY (thing, ts)
  );
  `,
];

export function openDatabase(dataDir: string): Db {
  mkdirSync(dataDir, { recursive: true });
  const db = new Database(join(dataDir, 'localcloud.sqlite'));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('foreign_keys = ON');
  const current = db.pragma('user_version', { simple: true }) as number;
  for (let v = current; v < MIGRATIONS.length; v++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[v]);
      db.pragma(`user_version = ${v + 1}`);
    })();
  }
  return db;
}

/** Reads a value from the meta table, creating it with `init()` the first time. */
export function metaValue(db: Db, key: string, init: () => string): string {
  const row = db.prepare('SELECT value FROM meta WHERE key = ?').get(key) as { value: string } | undefined;
  if (row) return row.value;
  const value = init();
  db.prepare('INSERT INTO meta (key, value) VALUES (?, ?)').run(key, value);
  return value;
}
