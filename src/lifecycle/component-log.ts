// Per-component log files `<root>/logs/<Component>.log` [LC-87], rotated like greengrass.log
// [LC-93], with process output as TEXT lines: stdout at INFO event `stdout`, stderr at WARN event
// `stderr`, key scriptName [LC-86, LC-90].

import {
  type Contexts,
  type LogLevel,
  RotatingFileWriter,
  formatText,
  DEFAULT_FILE_SIZE_KB,
  DEFAULT_TOTAL_LOGS_SIZE_KB,
} from '../log/index.js';

export interface ComponentLogOptions {
  /** `<root>/logs` */
  logsDir: string;
  fileSizeKB?: number;
  totalLogsSizeKB?: number;
  now?: () => number;
}

/** Stands for the message when the line format of a batch is taken apart (never in a name). */
const SENTINEL = '\u0000tendril-line\u0000';

/** The thread name the reference prints for process output lines. */
export const OUTPUT_THREAD = 'Copier';

/** `services.<name>.lifecycle.<Step>`: the step key as recipes spell it (Run, Install, ...). */
export function scriptNameOf(component: string, step: string): string {
  return `services.${component}.lifecycle.${step.charAt(0).toUpperCase()}${step.slice(1)}`;
}

export class ComponentLog {
  private readonly writer: RotatingFileWriter;

  constructor(
    readonly component: string,
    options: ComponentLogOptions,
    private readonly now: () => number = options.now ?? Date.now,
  ) {
    this.writer = new RotatingFileWriter({
      dir: options.logsDir,
      name: component,
      fileSizeKB: options.fileSizeKB ?? DEFAULT_FILE_SIZE_KB,
      totalLogsSizeKB: options.totalLogsSizeKB ?? DEFAULT_TOTAL_LOGS_SIZE_KB,
      now: this.now,
    });
  }

  get path(): string {
    return this.writer.path;
  }

  /** One line of process output [LC-86]. */
  output(stream: 'stdout' | 'stderr', line: string, scriptName: string, contexts: Contexts = {}): void {
    this.event(
      stream === 'stdout' ? 'INFO' : 'WARN',
      stream,
      line,
      { scriptName, ...contexts },
      OUTPUT_THREAD,
    );
  }

  /**
   * Lines of process output from one stream, each formatted as `output` formats it (one timestamp
   * for the batch) and written with one write per log file they land in [LC-86, LC-93].
   */
  outputLines(stream: 'stdout' | 'stderr', lines: readonly string[], scriptName: string): void {
    const timestamp = this.now();
    const record = (message: string) =>
      formatText({
        timestamp,
        level: stream === 'stdout' ? 'INFO' : 'WARN',
        thread: OUTPUT_THREAD,
        loggerName: this.component,
        eventType: stream,
        message,
        contexts: { scriptName },
      });
    // A non-empty message is printed whole between the same head and tail: take them from the
    // format itself once per batch, rather than formatting every line (an empty one skips a part).
    const [head, tail] = record(SENTINEL).split(SENTINEL);
    this.writer.writeLines(
      lines.map((line) => (line === '' ? `${record(line)}\n` : `${head}${line}${tail}\n`)),
    );
  }

  /** A lifecycle event (e.g. `shell-runner-start`) in the component's log [LC-88]. */
  event(
    level: LogLevel,
    eventType: string,
    message: string | undefined,
    contexts: Contexts = {},
    thread?: string,
  ): void {
    const ctx: Record<string, string> = {};
    for (const [k, v] of Object.entries(contexts))
      ctx[k] = v === undefined || v === null ? 'null' : String(v);
    const text = formatText({
      timestamp: this.now(),
      level,
      thread: thread ?? `${this.component}-lifecycle`,
      loggerName: this.component,
      eventType,
      message,
      contexts: ctx,
    });
    this.writer.write(`${text}\n`);
  }

  close(): void {
    this.writer.close();
  }
}

/** One ComponentLog per component under one logs directory. */
export class ComponentLogs {
  private readonly logs = new Map<string, ComponentLog>();

  constructor(private readonly options: ComponentLogOptions) {}

  get(component: string): ComponentLog {
    let log = this.logs.get(component);
    if (!log) {
      log = new ComponentLog(component, this.options);
      this.logs.set(component, log);
    }
    return log;
  }

  close(component?: string): void {
    if (component !== undefined) {
      this.logs.get(component)?.close();
      this.logs.delete(component);
      return;
    }
    for (const log of this.logs.values()) log.close();
    this.logs.clear();
  }
}

interface StepRef {
  component: string;
  step: string;
}

/** Takes one output line of a step, or with `batch` a run of lines of one stream. */
export type OutputSink = ((launch: StepRef, stream: 'stdout' | 'stderr', line: string) => void) & {
  batch: (launch: StepRef, stream: 'stdout' | 'stderr', lines: string[]) => void;
};

/** Routes launcher output lines into the component logs [LC-86]. */
export function componentLogOutput(logs: ComponentLogs): OutputSink {
  const scriptName = (launch: StepRef) => scriptNameOf(launch.component, launch.step);
  const one = (launch: StepRef, stream: 'stdout' | 'stderr', line: string) =>
    logs.get(launch.component).output(stream, line, scriptName(launch));
  const batch = (launch: StepRef, stream: 'stdout' | 'stderr', lines: string[]) =>
    logs.get(launch.component).outputLines(stream, lines, scriptName(launch));
  return Object.assign(one, { batch });
}
