// The transaction log format [CF-09], its validation [CF-12] and replay [CF-11].
import { readFile } from 'node:fs/promises';
import type { Configuration } from './configuration.js';
import { isPlainObject, parseJsonLossless, stringifyJson, type JsonValue } from './json.js';
import { Topic, Topics, writeLeaf, type ChangeKind, type ConfigNode } from './node.js';

export interface TlogLine {
  ts: number;
  path: string[];
  what: ChangeKind;
  value?: JsonValue;
}

export class TlogError extends Error {
  constructor(
    readonly file: string,
    readonly line: number,
    readonly reason: string,
  ) {
    super(`${file}${line ? `:${line}` : ''}: ${reason}`);
    this.name = 'TlogError';
  }
}

const KINDS: ReadonlySet<string> = new Set(['changed', 'removed', 'timestampUpdated', 'interiorAdded']);

/** One tlog line, without its newline. `removed` and `interiorAdded` carry no V. */
export function encodeTlogLine(l: TlogLine): string {
  const head = `{"TS":${l.ts},"TP":${JSON.stringify(l.path)},"W":"${l.what}"`;
  return l.what === 'changed' || l.what === 'timestampUpdated'
    ? `${head},"V":${stringifyJson(l.value ?? null)}}`
    : `${head}}`;
}

/** Parses one line; throws TlogError naming the field that is wrong. */
export function decodeTlogLine(text: string, file = '(tlog)', lineNo = 0): TlogLine {
  let o: JsonValue;
  try {
    o = parseJsonLossless(text);
  } catch (e) {
    throw new TlogError(file, lineNo, `not JSON (${(e as Error).message})`);
  }
  if (!isPlainObject(o)) throw new TlogError(file, lineNo, 'a line must be a JSON object');
  const { TS, TP, W, V } = o;
  if (typeof TS !== 'number' || !Number.isFinite(TS))
    throw new TlogError(file, lineNo, 'TS must be a number (epoch ms)');
  if (!Array.isArray(TP) || TP.length === 0 || !TP.every((k) => typeof k === 'string' && k.length > 0))
    throw new TlogError(file, lineNo, 'TP must be a non-empty list of non-empty strings');
  if (typeof W !== 'string' || !KINDS.has(W))
    throw new TlogError(file, lineNo, `W must be one of changed, removed, timestampUpdated, interiorAdded`);
  return { ts: TS, path: TP as string[], what: W as ChangeKind, value: V ?? null };
}

export interface ParsedTlog {
  lines: TlogLine[];
  /** Bytes of whole lines; a torn unterminated tail after them is not counted. */
  validBytes: number;
  /** The file ends with an unterminated fragment that does not parse (a write cut short, never acknowledged). */
  tornTail: boolean;
  /** The last line parsed but has no newline; the appender must add one first. */
  missingFinalNewline: boolean;
}

/**
 * Validates and parses a tlog [CF-12]: non-empty, every newline-terminated line parses, no NUL bytes. An
 * unterminated last fragment that fails to parse is treated as an unacknowledged torn write and dropped.
 */
export function parseTlog(buf: Buffer, file = '(tlog)'): ParsedTlog {
  if (buf.length === 0) throw new TlogError(file, 0, 'the file is empty');
  if (buf.includes(0))
    throw new TlogError(file, 0, 'the file contains NUL bytes (lost writes after power loss)');
  const text = buf.toString('utf8');
  const lines: TlogLine[] = [];
  let pos = 0;
  let lineNo = 0;
  for (;;) {
    const nl = text.indexOf('\n', pos);
    lineNo++;
    if (nl < 0) {
      const tail = text.slice(pos);
      if (tail.length === 0) return finish(lines, buf.length, false, false, file);
      try {
        lines.push(decodeTlogLine(tail, file, lineNo));
        return finish(lines, buf.length, false, true, file);
      } catch {
        return finish(lines, Buffer.byteLength(text.slice(0, pos)), true, false, file);
      }
    }
    const raw = text.slice(pos, nl);
    lines.push(decodeTlogLine(raw.endsWith('\r') ? raw.slice(0, -1) : raw, file, lineNo));
    pos = nl + 1;
  }
}

function finish(
  lines: TlogLine[],
  validBytes: number,
  tornTail: boolean,
  missingNl: boolean,
  file: string,
): ParsedTlog {
  if (lines.length === 0) throw new TlogError(file, 1, 'the file holds no complete line');
  return { lines, validBytes, tornTail, missingFinalNewline: missingNl };
}

export async function readTlogFile(file: string): Promise<ParsedTlog> {
  let buf: Buffer;
  try {
    buf = await readFile(file);
  } catch (e) {
    throw new TlogError(
      file,
      0,
      `cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`,
    );
  }
  return parseTlog(buf, file);
}

/** Replays one line with the CF-11 rules; `force` ignores newer timestamps (rollback snapshots). */
export function applyTlogLine(config: Configuration, l: TlogLine, force = false): void {
  switch (l.what) {
    case 'changed': {
      const parent = config.ensureTopics(l.path.slice(0, -1), l.ts, force);
      if (!parent) return;
      const name = l.path[l.path.length - 1];
      if (isPlainObject(l.value)) config.merge(l.value, { at: l.path, timestamp: l.ts });
      else writeLeaf(parent, name, l.value ?? null, l.ts, { force, bumpTimestamp: true });
      return;
    }
    case 'removed': {
      const n = config.find(l.path);
      if (n && n !== config.root) n.remove(l.ts, force);
      return;
    }
    case 'timestampUpdated': {
      const n = config.find(l.path);
      if (n instanceof Topic) n.raiseModtime(l.ts);
      return;
    }
    case 'interiorAdded':
      config.ensureTopics(l.path, l.ts, force);
      return;
  }
}

export function applyTlog(config: Configuration, lines: readonly TlogLine[], force = false): void {
  for (const l of lines) applyTlogLine(config, l, force);
}

/** The line that records `kind` happening to `node`, or undefined for memory-only nodes [CF-07]. */
export function lineForChange(kind: ChangeKind, node: ConfigNode): string | undefined {
  const path = node.path();
  if (path.length === 0 || path.some((k) => k.startsWith('_'))) return undefined;
  const value = kind === 'changed' || kind === 'timestampUpdated' ? (node as Topic).value : undefined;
  return encodeTlogLine({ ts: node.modtime, path, what: kind, value }) + '\n';
}

/** The whole persisted tree as tlog text: one `changed` per leaf, `interiorAdded` for empty containers. */
export function dumpTlog(config: Configuration): string {
  const out: string[] = [];
  const walk = (t: Topics, path: string[]): void => {
    let persisted = 0;
    for (const c of t.children()) {
      if (c.name.startsWith('_')) continue;
      persisted++;
      const p = [...path, c.name];
      if (c instanceof Topic)
        out.push(encodeTlogLine({ ts: c.modtime, path: p, what: 'changed', value: c.value }) + '\n');
      else walk(c as Topics, p);
    }
    if (persisted === 0 && path.length > 0)
      out.push(encodeTlogLine({ ts: t.modtime, path, what: 'interiorAdded' }) + '\n');
  };
  walk(config.root, []);
  return out.join('');
}
