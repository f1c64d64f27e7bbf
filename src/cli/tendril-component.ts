// `tendril component list | details NAME | restart NAME... | stop NAME...` over the CLI IPC
// operations of a running nucleus (ipc.md IPC-72..IPC-75): a table by default, JSON with --json.
import { UsageError, type Command } from './command.js';
import { withClient } from './greengrass-cli-client.js';
import {
  COMMON_HELP,
  COMMON_OPTIONS,
  groupCommand,
  printJson,
  rootOf,
  table,
  type Subcommand,
} from './tendril-component-group.js';

function names(positionals: string[], verb: string): string[] {
  const list = positionals.flatMap((p) => p.split(',')).map((n) => n.trim());
  if (list.length === 0) throw new UsageError(`give the component names to ${verb}`);
  const empty = list.findIndex((n) => n === '');
  if (empty >= 0) throw new UsageError(`empty component name (entry ${empty + 1})`);
  return list;
}

const list: Subcommand = {
  name: 'list',
  summary: "list the nucleus's components with version and state",
  usage: 'list [--root DIR] [--json]',
  options: { ...COMMON_OPTIONS },
  optionHelp: { ...COMMON_HELP },
  async run(values, positionals) {
    if (positionals.length) throw new UsageError(`unexpected argument '${positionals[0]}'`);
    const r = await withClient(rootOf(values), (c) => c.listComponents({}));
    const components = r.components ?? [];
    if (values.json) printJson(components);
    else
      process.stdout.write(
        table(
          ['NAME', 'VERSION', 'STATE'],
          components.map((c) => [c.componentName, c.version, c.state]),
        ),
      );
    return 0;
  },
};

const details: Subcommand = {
  name: 'details',
  summary: "show one component's version, state and configuration",
  usage: 'details NAME [--root DIR] [--json]',
  options: { ...COMMON_OPTIONS },
  optionHelp: { ...COMMON_HELP },
  async run(values, positionals) {
    if (positionals.length !== 1) throw new UsageError('give exactly one component name');
    const componentName = positionals[0];
    if (componentName.trim() === '') throw new UsageError('the component name must not be empty');
    const r = await withClient(rootOf(values), (c) => c.getComponentDetails({ componentName }));
    const d = r.componentDetails;
    if (values.json) printJson(d);
    else
      process.stdout.write(
        [
          `Name:          ${d.componentName}`,
          `Version:       ${d.version}`,
          `State:         ${d.state}`,
          `Configuration: ${d.configuration === undefined ? '(none)' : JSON.stringify(d.configuration, null, 2).replace(/\n/g, '\n               ')}`,
        ].join('\n') + '\n',
      );
    return 0;
  },
};

function action(verb: 'restart' | 'stop'): Subcommand {
  return {
    name: verb,
    summary: `${verb} components by name (all names are checked before any is ${verb === 'stop' ? 'stopped' : 'restarted'})`,
    usage: `${verb} NAME... [--root DIR] [--json]`,
    options: { ...COMMON_OPTIONS },
    optionHelp: { ...COMMON_HELP },
    async run(values, positionals) {
      const wanted = names(positionals, verb);
      const results = await withClient(rootOf(values), async (c) => {
        for (const componentName of wanted) await c.getComponentDetails({ componentName });
        const out: Array<{ componentName: string; status: string; message?: string }> = [];
        for (const componentName of wanted) {
          const r =
            verb === 'restart'
              ? await c
                  .restartComponent({ componentName })
                  .then((x) => ({ status: x.restartStatus as string, message: x.message }))
              : await c
                  .stopComponent({ componentName })
                  .then((x) => ({ status: x.stopStatus as string, message: x.message }));
          out.push({ componentName, ...r });
        }
        return out;
      });
      if (values.json) printJson(results);
      else
        process.stdout.write(
          table(
            ['NAME', 'RESULT', 'MESSAGE'],
            results.map((r) => [r.componentName, r.status, r.message ?? '']),
          ),
        );
      return results.every((r) => r.status === 'SUCCEEDED') ? 0 : 1;
    },
  };
}

export const componentCommand: Command = groupCommand(
  'component',
  'list, inspect, restart and stop the components of a running nucleus (over its IPC socket)',
  [list, details, action('restart'), action('stop')],
);
