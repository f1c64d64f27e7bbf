// The nucleus logger: named loggers with context keys writing one shared output, either the
// rotating `greengrass.log` or the console, in TEXT or JSON [LC-89..LC-94].

import * as path from 'node:path';
import {
  type LogFormat,
  type LogLevel,
  type LogRecord,
  formatRecord,
  levelRank,
  parseLogFormat,
  parseLogLevel,
} from './format.js';
import { DEFAULT_FILE_SIZE_KB, DEFAULT_TOTAL_LOGS_SIZE_KB, RotatingFileWriter } from './rotating-file.js';

export type LogOutputType = 'FILE' | 'CONSOLE';

/** The logging configuration, as in `services.<nucleus>.configuration.logging` [LC-94]. */
export interface LogConfig {
  level: LogLevel;
  format: LogFormat;
  outputType: LogOutputType;
  /** directory of `greengrass.log` (`<root>/logs`) */
  outputDirectory: string;
  fileSizeKB: number;
  totalLogsSizeKB: number;
}

/** Validates a raw logging configuration object; errors name the field and the reason. */
export function parseLogConfig(raw: Record<string, unknown>, defaults: LogConfig): LogConfig {
  const str = (field: string): string | undefined => {
    const v = raw[field];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'string') throw new Error(`logging.${field}: expected a string, got ${typeof v}`);
    return v;
  };
  const num = (field: string): number | undefined => {
    const v = raw[field];
    if (v === undefined || v === null) return undefined;
    const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
    if (typeof n !== 'number' || !Number.isFinite(n) || n <= 0) {
      throw new Error(`logging.${field}: expected a positive number, got ${JSON.stringify(v)}`);
    }
    return n;
  };
  const level = str('level');
  const format = str('format');
  const outputType = str('outputType');
  let out: LogOutputType = defaults.outputType;
  if (outputType !== undefined) {
    const up = outputType.trim().toUpperCase();
    if (up !== 'FILE' && up !== 'CONSOLE') {
      throw new Error(`logging.outputType: unknown output type '${outputType}' (expected FILE or CONSOLE)`);
    }
    out = up;
  }
  return {
    level: level === undefined ? defaults.level : parseLogLevel(level, 'logging.level'),
    format: format === undefined ? defaults.format : parseLogFormat(format, 'logging.format'),
    outputType: out,
    outputDirectory: str('outputDirectory') ?? defaults.outputDirectory,
    fileSizeKB: num('fileSizeKB') ?? defaults.fileSizeKB,
    totalLogsSizeKB: num('totalLogsSizeKB') ?? defaults.totalLogsSizeKB,
  };
}

export function defaultLogConfig(logsDir: string): LogConfig {
  return {
    level: 'INFO',
    format: 'TEXT',
    outputType: 'FILE',
    outputDirectory: logsDir,
    fileSizeKB: DEFAULT_FILE_SIZE_KB,
    totalLogsSizeKB: DEFAULT_TOTAL_LOGS_SIZE_KB,
  };
}

export interface LogOutput {
  write(line: string): void;
  close(): void;
}

export interface LogManagerOptions {
  /** base name of the main file, default `greengrass` [LC-89] */
  storeName?: string;
  /** where CONSOLE output goes; default process.stdout */
  console?: { write(chunk: string): unknown };
  now?: () => number;
}

/** Owns the configuration and the output; hands out loggers. */
export class LogManager {
  private config: LogConfig;
  private output: LogOutput;
  private readonly storeName: string;
  private readonly consoleStream: { write(chunk: string): unknown };
  readonly now: () => number;

  constructor(config: LogConfig, options: LogManagerOptions = {}) {
    this.storeName = options.storeName ?? 'greengrass';
    this.consoleStream = options.console ?? process.stdout;
    this.now = options.now ?? Date.now;
    this.config = config;
    this.output = this.makeOutput(config);
  }

  get current(): LogConfig {
    return { ...this.config };
  }

  /** The path of the active log file (meaningful for FILE output). */
  get filePath(): string {
    return path.join(this.config.outputDirectory, `${this.storeName}.log`);
  }

  /** Applies a new configuration at runtime [LC-94]; the output is reopened only if it changed. */
  reconfigure(next: LogConfig): void {
    const prev = this.config;
    this.config = next;
    const outputChanged =
      prev.outputType !== next.outputType ||
      prev.outputDirectory !== next.outputDirectory ||
      prev.fileSizeKB !== next.fileSizeKB ||
      prev.totalLogsSizeKB !== next.totalLogsSizeKB;
    if (outputChanged) {
      this.output.close();
      this.output = this.makeOutput(next);
    }
  }

  isEnabled(level: LogLevel): boolean {
    return levelRank(level) >= levelRank(this.config.level);
  }

  emit(record: LogRecord): void {
    if (!this.isEnabled(record.level)) return;
    this.output.write(`${formatRecord(record, this.config.format)}\n`);
  }

  logger(loggerName: string, thread = 'main'): Logger {
    return new Logger(this, loggerName, thread, {});
  }

  close(): void {
    this.output.close();
  }

  private makeOutput(config: LogConfig): LogOutput {
    if (config.outputType === 'CONSOLE') {
      const stream = this.consoleStream;
      return { write: (line) => void stream.write(line), close: () => undefined };
    }
    const writer = new RotatingFileWriter({
      dir: config.outputDirectory,
      name: this.storeName,
      fileSizeKB: config.fileSizeKB,
      totalLogsSizeKB: config.totalLogsSizeKB,
      now: this.now,
    });
    return { write: (line) => writer.write(line), close: () => writer.close() };
  }
}

export type Contexts = Record<string, string | number | boolean | null | undefined>;

function stringify(contexts: Contexts): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(contexts)) out[k] = v === undefined || v === null ? 'null' : String(v);
  return out;
}

/** A named logger with fixed context keys (e.g. serviceName, currentState [LC-91]). */
export class Logger {
  constructor(
    private readonly manager: LogManager,
    readonly name: string,
    readonly thread: string,
    private readonly contexts: Record<string, string>,
  ) {}

  /** A logger with extra (or replaced) context keys. */
  with(contexts: Contexts): Logger {
    return new Logger(this.manager, this.name, this.thread, { ...this.contexts, ...stringify(contexts) });
  }

  /** The same logger on another thread name, e.g. `<service>-lifecycle`. */
  onThread(thread: string): Logger {
    return new Logger(this.manager, this.name, thread, this.contexts);
  }

  log(level: LogLevel, eventType: string, message?: string, contexts: Contexts = {}, cause?: Error): void {
    if (!this.manager.isEnabled(level)) return;
    this.manager.emit({
      timestamp: this.manager.now(),
      level,
      thread: this.thread,
      loggerName: this.name,
      eventType,
      message,
      contexts: { ...this.contexts, ...stringify(contexts) },
      cause,
    });
  }

  trace(eventType: string, message?: string, contexts?: Contexts): void {
    this.log('TRACE', eventType, message, contexts);
  }
  debug(eventType: string, message?: string, contexts?: Contexts): void {
    this.log('DEBUG', eventType, message, contexts);
  }
  info(eventType: string, message?: string, contexts?: Contexts): void {
    this.log('INFO', eventType, message, contexts);
  }
  warn(eventType: string, message?: string, contexts?: Contexts, cause?: Error): void {
    this.log('WARN', eventType, message, contexts, cause);
  }
  error(eventType: string, message?: string, contexts?: Contexts, cause?: Error): void {
    this.log('ERROR', eventType, message, contexts, cause);
  }
}
