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

/** Routes launcher output lines into the component logs [LC-86]. */
export function componentLogOutput(
  logs: ComponentLogs,
): (launch: { component: string; step: string }, stream: 'stdout' | 'stderr', line: string) => void {
  return (launch, stream, line) =>
    logs.get(launch.component).output(stream, line, scriptNameOf(launch.component, launch.step));
}
