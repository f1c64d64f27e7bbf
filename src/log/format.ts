// Nucleus log line formats [LC-90, LC-92]. Pure functions over one record.

export const LOG_LEVELS = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export type LogFormat = 'TEXT' | 'JSON';

/** One log event, as the Greengrass logging library models it. */
export interface LogRecord {
  /** epoch milliseconds */
  timestamp: number;
  level: LogLevel;
  thread: string;
  loggerName: string;
  eventType?: string;
  message?: string;
  /** key/value context, printed in insertion order */
  contexts: Record<string, string>;
  cause?: Error;
}

/** Severity rank, TRACE lowest. */
export function levelRank(level: LogLevel): number {
  return LOG_LEVELS.indexOf(level);
}

/** Parses a configured level name (case-insensitive); the error names the field and the value. */
export function parseLogLevel(value: string, field = 'level'): LogLevel {
  const up = value.trim().toUpperCase();
  if (up === 'WARNING') return 'WARN';
  if ((LOG_LEVELS as readonly string[]).includes(up)) return up as LogLevel;
  throw new Error(`${field}: unknown log level '${value}' (expected one of ${LOG_LEVELS.join(', ')})`);
}

/** Parses a configured format name (case-insensitive). */
export function parseLogFormat(value: string, field = 'format'): LogFormat {
  const up = value.trim().toUpperCase();
  if (up === 'TEXT' || up === 'JSON') return up;
  throw new Error(`${field}: unknown log format '${value}' (expected TEXT or JSON)`);
}

/**
 * ISO-8601 instant as java.time.Instant prints it: the fraction is omitted when it is zero,
 * otherwise printed with three digits (millisecond precision).
 */
export function isoInstant(epochMs: number): string {
  const iso = new Date(epochMs).toISOString();
  return iso.endsWith('.000Z') ? `${iso.slice(0, -5)}Z` : iso;
}

function contextsText(contexts: Record<string, string>): string {
  const entries = Object.entries(contexts);
  if (entries.length === 0) return '';
  return `{${entries.map(([k, v]) => `${k}=${v}`).join(', ')}}`;
}

function stackText(cause: Error): string {
  return cause.stack ?? `${cause.name}: ${cause.message}`;
}

/**
 * TEXT line [LC-90]: `<instant> [<LEVEL>] (<thread>) <loggerName>: <eventType>. <message>. {k=v}`;
 * empty parts are skipped and the rest joined by ". "; a stack trace follows on the next lines.
 * The result carries no trailing newline.
 */
export function formatText(record: LogRecord): string {
  const parts = [record.eventType ?? '', record.message ?? '', contextsText(record.contexts)].filter(
    (p) => p.length > 0,
  );
  const head = `${isoInstant(record.timestamp)} [${record.level}] (${record.thread}) ${record.loggerName}: ${parts.join('. ')}`;
  return record.cause ? `${head}\n${stackText(record.cause)}` : head;
}

/**
 * JSON line [LC-92]: the fields `thread, level, eventType, message, contexts, loggerName, timestamp,
 * cause` in that order; absent eventType/message/cause are null.
 */
export function formatJson(record: LogRecord): string {
  const cause = record.cause
    ? { name: record.cause.name, message: record.cause.message, stack: record.cause.stack ?? null }
    : null;
  return JSON.stringify({
    thread: record.thread,
    level: record.level,
    eventType: record.eventType ?? null,
    message: record.message ?? null,
    contexts: record.contexts,
    loggerName: record.loggerName,
    timestamp: record.timestamp,
    cause,
  });
}

export function formatRecord(record: LogRecord, format: LogFormat): string {
  return format === 'JSON' ? formatJson(record) : formatText(record);
}
