// `greengrass-cli component list | details | restart | stop` over the CLI IPC operations
// (ipc.md IPC-72..IPC-75), printed as readable text like the Greengrass CLI's.
import type { greengrasscoreipc } from 'aws-iot-device-sdk-v2';
import { UsageError, type Command } from './command.js';
import { resolveRoot, withClient } from './greengrass-cli-client.js';

export const ROOT_OPTIONS = {
  root: { type: 'string' },
  ggcRootPath: { type: 'string' },
} as const;
export const ROOT_HELP = {
  root: 'the nucleus root directory (default GGC_ROOT_PATH, else ~/.greengrass)',
  ggcRootPath: 'same as --root (the Greengrass CLI spelling)',
};

type Values = Record<string, string | boolean | string[] | undefined>;

export function rootOf(values: Values, globalRoot: string | undefined): string {
  const flag =
    (values.root as string | undefined) ?? (values.ggcRootPath as string | undefined) ?? globalRoot;
  if (flag !== undefined && flag.trim() === '') throw new UsageError('--root must not be empty');
  return resolveRoot(flag);
}

function noPositionals(positionals: string[]): void {
  if (positionals.length) throw new UsageError(`unexpected argument '${positionals[0]}'`);
}

/** `--names "A,B"` (repeatable) -> ["A", "B"], refusing empty names. */
export function namesOf(values: Values, flag: string): string[] {
  const raw = values[flag];
  const list = (Array.isArray(raw) ? raw : raw === undefined ? [] : [String(raw)]).flatMap((v) =>
    v.split(',').map((n) => n.trim()),
  );
  if (list.length === 0) throw new UsageError(`--${flag} is required`);
  const empty = list.findIndex((n) => n === '');
  if (empty >= 0) throw new UsageError(`--${flag} has an empty component name (entry ${empty + 1})`);
  return list;
}

function formatDetails(c: greengrasscoreipc.model.ComponentDetails, indent: string): string {
  const lines = [
    `${indent}Version: ${c.version}`,
    `${indent}State: ${c.state}`,
    `${indent}Configuration: ${c.configuration === undefined ? 'null' : JSON.stringify(c.configuration)}`,
  ];
  return lines.join('\n');
}

export function componentCommands(globalRoot: string | undefined): Command[] {
  const list: Command = {
    name: 'list',
    summary: 'list the components of the nucleus with their version, state and configuration',
    usage: 'list [--root DIR]',
    options: { ...ROOT_OPTIONS },
    optionHelp: { ...ROOT_HELP },
    async run(values, positionals) {
      noPositionals(positionals);
      const { components } = await withClient(rootOf(values, globalRoot), (c) => c.listComponents({}));
      const out = ['Components currently running in Greengrass:'];
      for (const c of components ?? [])
        out.push(`Component Name: ${c.componentName}`, formatDetails(c, '    '));
      process.stdout.write(out.join('\n') + '\n');
      return 0;
    },
  };
  const details: Command = {
    name: 'details',
    summary: "show one component's version, state and configuration",
    usage: 'details --name NAME [--root DIR]',
    options: { name: { type: 'string', short: 'n' }, ...ROOT_OPTIONS },
    optionHelp: { name: 'the component name', ...ROOT_HELP },
    async run(values, positionals) {
      noPositionals(positionals);
      const name = values.name as string | undefined;
      if (name === undefined) throw new UsageError('--name is required');
      if (name.trim() === '') throw new UsageError('--name must not be empty');
      const r = await withClient(rootOf(values, globalRoot), (c) =>
        c.getComponentDetails({ componentName: name }),
      );
      process.stdout.write(
        `Component Name: ${r.componentDetails.componentName}\n${formatDetails(r.componentDetails, '')}\n`,
      );
      return 0;
    },
  };
  const action = (verb: 'restart' | 'stop'): Command => ({
    name: verb,
    summary: `${verb} components by name`,
    usage: `${verb} --names A[,B...] [--root DIR]`,
    options: { names: { type: 'string', short: 'n', multiple: true }, ...ROOT_OPTIONS },
    optionHelp: { names: 'comma-separated component names (repeatable)', ...ROOT_HELP },
    async run(values, positionals) {
      noPositionals(positionals);
      const names = namesOf(values, 'names');
      let failed = 0;
      await withClient(rootOf(values, globalRoot), async (c) => {
        // every name must exist before anything is restarted or stopped
        for (const componentName of names) await c.getComponentDetails({ componentName });
        for (const componentName of names) {
          const r =
            verb === 'restart'
              ? await c
                  .restartComponent({ componentName })
                  .then((x) => ({ status: x.restartStatus, message: x.message }))
              : await c
                  .stopComponent({ componentName })
                  .then((x) => ({ status: x.stopStatus, message: x.message }));
          if (r.status !== 'SUCCEEDED') failed++;
          process.stdout.write(
            `${verb === 'restart' ? 'Restart' : 'Stop'} ${componentName}: ${r.status}${r.message ? ` (${r.message})` : ''}\n`,
          );
        }
      });
      return failed ? 1 : 0;
    },
  });
  return [list, details, action('restart'), action('stop')];
}
