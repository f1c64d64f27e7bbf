#!/usr/bin/env node
// `greengrass-cli`: the Greengrass CLI compatible commands. They talk to a running nucleus over its
// IPC socket only, with the token the nucleus writes under `<root>/cli_ipc_info` [CF-75].
//   greengrass-cli [--root DIR] component list|details|restart|stop ...
//   greengrass-cli [--root DIR] deployment create|status|list|cancel ...
import { runProgram, type Command } from './command.js';

const PROG = 'greengrass-cli';

interface Group {
  name: string;
  summary: string;
  load(root: string | undefined): Promise<Command[]>;
}

const groups: Group[] = [
  {
    name: 'component',
    summary: 'list, inspect, restart and stop components',
    load: async (root) => (await import('./greengrass-cli-component.js')).componentCommands(root),
  },
  {
    name: 'deployment',
    summary: 'create, inspect, list and cancel local deployments',
    load: async (root) => (await import('./greengrass-cli-deployment.js')).deploymentCommands(root),
  },
];

const usage = () =>
  [
    `Usage: ${PROG} [--root DIR] <command> <subcommand> [options]`,
    '',
    'Greengrass CLI compatible commands: they talk to a running Tendril nucleus over its IPC socket.',
    '',
    'Commands:',
    ...groups.map((g) => `  ${g.name.padEnd(12)} ${g.summary}`),
    '',
    'Global options:',
    '  --root DIR, --ggcRootPath DIR  the nucleus root (default GGC_ROOT_PATH, else ~/.greengrass)',
    '',
    `Run '${PROG} <command> --help' for its subcommands.`,
  ].join('\n') + '\n';

/** Splits leading `--root DIR` / `--ggcRootPath DIR` (or `=DIR`) off argv. */
function globalRoot(argv: string[]): { root?: string; rest: string[]; error?: string } {
  let root: string | undefined;
  let i = 0;
  while (i < argv.length) {
    const a = argv[i];
    const m = /^--(root|ggcRootPath)(?:=(.*))?$/.exec(a);
    if (!m) break;
    const value = m[2] ?? argv[i + 1];
    if (value === undefined || value === '' || (m[2] === undefined && value.startsWith('-')))
      return { rest: [], error: `--${m[1]} needs a directory` };
    root = value;
    i += m[2] === undefined ? 2 : 1;
  }
  return { root, rest: argv.slice(i) };
}

async function main(argv: string[]): Promise<number> {
  const { root, rest, error } = globalRoot(argv);
  if (error) {
    process.stderr.write(`${PROG}: ${error}\n`);
    return 2;
  }
  const [name, ...sub] = rest;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(usage());
    return name === undefined ? 2 : 0;
  }
  const group = groups.find((g) => g.name === name);
  if (!group) {
    process.stderr.write(`${PROG}: unknown command '${name}'\n\n${usage()}`);
    return 2;
  }
  const commands = await group.load(root);
  try {
    return await runProgram(`${PROG} ${group.name}`, group.summary, commands, sub);
  } catch (e) {
    // by name: lazily loaded modules may see their own copy of the class (tsx loaders)
    if (e instanceof Error && e.name === 'CliFailure') {
      process.stderr.write(`${PROG} ${group.name}: ${e.message}\n`);
      return 1;
    }
    throw e;
  }
}

process.exitCode = await main(process.argv.slice(2));
