// What `tendril deployment ...` and `tendril component ...` share: one group command that holds
// several subcommands (options are the union, each subcommand refuses flags that are not its own),
// the root flag, plain-text tables and `--json`. The connection to the daemon is greengrass-cli's
// (the IPC socket with the token from <root>/cli_ipc_info [CF-75]); nothing here reads state files.
import { UsageError, type Command } from './command.js';
import { resolveRoot } from './greengrass-cli-client.js';

export type Values = Record<string, string | boolean | string[] | undefined>;
type OptionSpec = Command['options'][string];

export interface Subcommand {
  name: string;
  summary: string;
  usage: string;
  options: Record<string, OptionSpec>;
  optionHelp: Record<string, string>;
  run(values: Values, positionals: string[]): Promise<number>;
}

export const COMMON_OPTIONS = {
  root: { type: 'string', short: 'r' },
  json: { type: 'boolean' },
} as const satisfies Record<string, OptionSpec>;

export const COMMON_HELP: Record<string, string> = {
  root: 'the nucleus root directory (default GGC_ROOT_PATH, else ~/.greengrass)',
  json: 'print JSON instead of a table',
};

export function rootOf(values: Values): string {
  const flag = values.root as string | undefined;
  if (flag !== undefined && flag.trim() === '') throw new UsageError('--root must not be empty');
  return resolveRoot(flag);
}

export function printJson(value: unknown): void {
  process.stdout.write(
    JSON.stringify(value, (_k, v: unknown) => (v instanceof Map ? Object.fromEntries(v) : v), 2) + '\n',
  );
}

/** Left-aligned columns separated by two spaces; the header row comes first. */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n') + '\n';
}

/**
 * One `tendril <group>` command over its subcommands: `tendril <group> <sub> [options]`. The
 * options are the union of the subcommands' (the parser sees them all); a flag given to a
 * subcommand that does not have it is refused by name. Operation failures (CliFailure) are printed
 * in one line with exit 1.
 */
export function groupCommand(name: string, summary: string, subs: Subcommand[]): Command {
  const options: Record<string, OptionSpec> = {};
  const optionHelp: Record<string, string> = {};
  for (const s of subs) {
    Object.assign(options, s.options);
    Object.assign(optionHelp, s.optionHelp);
  }
  const details = [
    'Subcommands:',
    ...subs.map((s) => `  ${s.usage}\n      ${s.summary}`),
    '',
    'Options apply only to the subcommands whose usage shows them.',
    'Exit status: 0 on success, 1 when the operation failed or the nucleus cannot be reached, 2 on bad usage.',
  ].join('\n');
  return {
    name,
    summary,
    usage: `${name} <${subs.map((s) => s.name).join('|')}> [options]`,
    options,
    optionHelp,
    details,
    async run(values, positionals) {
      const [subName, ...rest] = positionals;
      if (subName === undefined)
        throw new UsageError(`give a subcommand: ${subs.map((s) => s.name).join(', ')}`);
      const sub = subs.find((s) => s.name === subName);
      if (!sub)
        throw new UsageError(
          `unknown subcommand '${subName}' (one of ${subs.map((s) => s.name).join(', ')})`,
        );
      for (const [flag, v] of Object.entries(values))
        if (v !== undefined && !(flag in sub.options))
          throw new UsageError(`--${flag} does not apply to '${name} ${sub.name}'`);
      try {
        return await sub.run(values, rest);
      } catch (e) {
        // by name: lazily loaded modules may see their own copy of the class (tsx loaders)
        if (e instanceof Error && e.name === 'CliFailure') {
          process.stderr.write(`tendril ${name} ${sub.name}: ${e.message}\n`);
          return 1;
        }
        throw e;
      }
    },
  };
}
