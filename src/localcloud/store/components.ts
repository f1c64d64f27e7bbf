// Component versions: the stored recipe document, its cloud status and the metadata the list and
// describe operations show [CP-27], [CP-32], [CP-41], [CP-42].
import semver from 'semver';
import type { Db } from './db.js';

export type ComponentState = 'REQUESTED' | 'INITIATED' | 'DEPLOYABLE' | 'FAILED' | 'DEPRECATED';

export interface ComponentPlatform {
  name?: string;
  attributes?: Record<string, string>;
}

export interface ComponentVersionRecord {
  name: string;
  version: string;
  createdMs: number;
  state: ComponentState;
  message?: string;
  /** Artifact URI -> problem, set when the state is FAILED. */
  errors?: Record<string, string>;
  /** The recipe document as submitted (original property names), with artifact digests once computed. */
  recipe: Record<string, unknown>;
  description?: string;
  publisher?: string;
  platforms: ComponentPlatform[];
}

interface Row {
  name: string;
  version: string;
  created_ms: number;
  state: string;
  message: string | null;
  errors: string | null;
  recipe: string;
  description: string | null;
  publisher: string | null;
  platforms: string;
}

function fromRow(r: Row): ComponentVersionRecord {
  return {
    name: r.name,
    version: r.version,
    createdMs: r.created_ms,
    state: r.state as ComponentState,
    message: r.message ?? undefined,
    errors: r.errors ? (JSON.parse(r.errors) as Record<string, string>) : undefined,
    recipe: JSON.parse(r.recipe) as Record<string, unknown>,
    description: r.description ?? undefined,
    publisher: r.publisher ?? undefined,
    platforms: JSON.parse(r.platforms) as ComponentPlatform[],
  };
}

/** Greatest first; versions that are not semver sort last, by text. */
export function compareVersionsDescending(a: string, b: string): number {
  const va = semver.valid(a);
  const vb = semver.valid(b);
  if (va && vb) return semver.rcompare(va, vb);
  if (va) return -1;
  if (vb) return 1;
  return b.localeCompare(a);
}

export class ComponentStore {
  constructor(private readonly db: Db) {}

  insert(rec: ComponentVersionRecord): void {
    this.db
      .prepare(
        `INSERT INTO component_versions (name, version, created_ms, state, message, errors, recipe, description, publisher, platforms)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        rec.name,
        rec.version,
        rec.createdMs,
        rec.state,
        rec.message ?? null,
        rec.errors ? JSON.stringify(rec.errors) : null,
        JSON.stringify(rec.recipe),
        rec.description ?? null,
        rec.publisher ?? null,
        JSON.stringify(rec.platforms),
      );
  }

  get(name: string, version: string): ComponentVersionRecord | undefined {
    const row = this.db
      .prepare('SELECT * FROM component_versions WHERE name = ? AND version = ?')
      .get(name, version) as Row | undefined;
    return row ? fromRow(row) : undefined;
  }

  /** All versions of one component, greatest first. */
  versions(name: string): ComponentVersionRecord[] {
    const rows = this.db.prepare('SELECT * FROM component_versions WHERE name = ?').all(name) as Row[];
    return rows.map(fromRow).sort((a, b) => compareVersionsDescending(a.version, b.version));
  }

  /** Component names in name order. */
  names(): string[] {
    const rows = this.db.prepare('SELECT DISTINCT name FROM component_versions ORDER BY name').all() as {
      name: string;
    }[];
    return rows.map((r) => r.name);
  }

  /** Versions still waiting for their artifact check. */
  pending(): ComponentVersionRecord[] {
    const rows = this.db
      .prepare(`SELECT * FROM component_versions WHERE state = 'REQUESTED' ORDER BY created_ms`)
      .all() as Row[];
    return rows.map(fromRow);
  }

  setStatus(
    name: string,
    version: string,
    status: { state: ComponentState; message?: string; errors?: Record<string, string> },
    recipe?: Record<string, unknown>,
  ): void {
    const current = this.get(name, version);
    if (!current) return;
    this.db
      .prepare(
        'UPDATE component_versions SET state = ?, message = ?, errors = ?, recipe = ? WHERE name = ? AND version = ?',
      )
      .run(
        status.state,
        status.message ?? null,
        status.errors ? JSON.stringify(status.errors) : null,
        JSON.stringify(recipe ?? current.recipe),
        name,
        version,
      );
  }

  delete(name: string, version: string): boolean {
    return (
      this.db.prepare('DELETE FROM component_versions WHERE name = ? AND version = ?').run(name, version)
        .changes > 0
    );
  }
}
