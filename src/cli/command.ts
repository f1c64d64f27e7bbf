// A small command framework over node:util parseArgs: every command gets --help, unknown flags and
// bad values are refused with a message naming the flag, and nothing runs on bad input.
import { parseArgs, type ParseArgsConfig } from 'node:util';

type Options = NonNullable<ParseArgsConfig['options']>;
type OptionHelp = Record<string, string>;

export interface Command<O extends Options = Options> {
  name: string;
  summary: string;
  usage: string;
  options: O;
  optionHelp: OptionHelp;
  /** Extra text printed after the options in --help. */
  details?: string;
  run(
    values: Record<string, string | boolean | string[] | undefined>,
    positionals: string[],
  ): Promise<number>;
}

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export function helpText(prog: string, cmd: Command): string {
  const lines = [`Usage: ${prog} ${cmd.usage}`, '', cmd.summary, '', 'Options:'];
  const entries = Object.entries(cmd.options).map(([name, o]) => {
    const flag = `--${name}${o.short ? `, -${o.short}` : ''}${o.type === 'string' ? ' VALUE' : ''}`;
    return [flag, cmd.optionHelp[name] ?? ''] as const;
  });
  entries.push(['--help, -h', 'show this help']);
  const width = Math.max(...entries.map(([f]) => f.length));
  for (const [flag, text] of entries) lines.push(`  ${flag.padEnd(width)}  ${text}`);
  if (cmd.details) lines.push('', cmd.details);
  return lines.join('\n') + '\n';
}

/** Parses argv for one command and runs it; returns the process exit code. */
export async function runCommand(prog: string, cmd: Command, argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: { ...cmd.options, help: { type: 'boolean', short: 'h' } },
      allowPositionals: true,
      strict: true,
    });
  } catch (e) {
    process.stderr.write(`${prog} ${cmd.name}: ${(e as Error).message}\nRun '${prog} ${cmd.name} --help'.\n`);
    return 2;
  }
  if (parsed.values.help) {
    process.stdout.write(helpText(`${prog}`, cmd));
    return 0;
  }
  try {
    return await cmd.run(
      parsed.values as Record<string, string | boolean | string[] | undefined>,
      parsed.positionals,
    );
  } catch (e) {
    // by name: a lazily loaded command module may see its own copy of this class (tsx loaders)
    if (e instanceof Error && e.name === 'UsageError') {
      process.stderr.write(`${prog} ${cmd.name}: ${e.message}\nRun '${prog} ${cmd.name} --help'.\n`);
      return 2;
    }
    throw e;
  }
}

/**
 * A command in the program's table: its name and summary are known up front, its module is loaded
 * only when it runs, so that `tendril run` never loads what `tendril localcloud` needs.
 */
export interface CommandEntry {
  name: string;
  summary: string;
  load(): Promise<Command>;
}

/** Dispatches `prog <command> ...` over a table of commands. */
export async function runProgram(
  prog: string,
  summary: string,
  commands: Array<Command | CommandEntry>,
  argv: string[],
): Promise<number> {
  const [name, ...rest] = argv;
  const usage = () =>
    [
      `Usage: ${prog} <command> [options]`,
      '',
      summary,
      '',
      'Commands:',
      ...commands.map((c) => `  ${c.name.padEnd(14)} ${c.summary}`),
      '',
      `Run '${prog} <command> --help' for a command's options.`,
    ].join('\n') + '\n';
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(usage());
    return name === undefined ? 2 : 0;
  }
  const entry = commands.find((c) => c.name === name);
  if (!entry) {
    process.stderr.write(`${prog}: unknown command '${name}'\n\n${usage()}`);
    return 2;
  }
  const cmd = 'run' in entry ? entry : await entry.load();
  return runCommand(prog, cmd, rest);
}
