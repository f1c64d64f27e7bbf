// `tendril run`: the nucleus daemon, and its own loader (spec/config.md CF-86..CF-90): it restarts the
// nucleus when a deployment asks for it (bootstrap exit 100, self-update), runs the reboot command on
// 101, and runs the Tendril installation `<root>/alts/current` designates (see nucleus/launcher.ts).
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { isLaunched, runLaunched, runLauncher, StopSignal, SystemdNotifier } from '../nucleus/index.js';
import { UsageError, type Command } from './command.js';

/** A positive number of seconds from the environment, or undefined. */
function envSeconds(name: string): number | undefined {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return undefined;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0)
    throw new UsageError(`${name} must be a positive number of seconds, got '${raw}'`);
  return n * 1000;
}

export const runCommand: Command = {
  name: 'run',
  summary: 'run the nucleus daemon on a root directory until SIGTERM/SIGINT',
  usage: 'run [--root DIR] [--init-config FILE | --config FILE]',
  options: {
    root: { type: 'string', short: 'r' },
    'init-config': { type: 'string', short: 'i' },
    config: { type: 'string' },
  },
  optionHelp: {
    root: 'the Greengrass root directory (default ~/.greengrass); created with the standard layout',
    'init-config': 'YAML/JSON config in the Greengrass format, merged over the saved config at its mtime',
    config: 'YAML/JSON/tlog config that replaces the saved config',
  },
  details:
    'Logs go to <root>/logs/greengrass.log and <root>/logs/<Component>.log; the IPC socket is <root>/ipc.socket.\n' +
    'A second nucleus on the same root refuses to start.\n' +
    'The nucleus restarts itself when a deployment asks for it (bootstrap exit 100, self-update) and runs the\n' +
    'Tendril installation <root>/alts/current designates. Environment: TENDRIL_REBOOT_COMMAND (run with sh -c\n' +
    'when a bootstrap step exits 101; default systemctl reboot), TENDRIL_LAUNCH_READY_TIMEOUT_SEC (how long a\n' +
    'newly installed version may take to start before it counts as failed; default 120).',
  async run(values, positionals) {
    if (positionals.length) throw new UsageError(`unexpected argument '${positionals[0]}'`);
    if (values['init-config'] && values.config)
      throw new UsageError('--init-config and --config are exclusive: one merges, the other replaces');
    const root = resolve(String(values.root ?? join(homedir(), '.greengrass')));
    const readyTimeoutMs = envSeconds('TENDRIL_LAUNCH_READY_TIMEOUT_SEC');
    // Signals are ours from the first instant: components start inside Nucleus.start, and a SIGTERM
    // that arrived before a handler was installed would kill the daemon and orphan them.
    const stop = new StopSignal().install();
    // before any component starts: components must not inherit NOTIFY_SOCKET (systemd Type=notify)
    const notifier = SystemdNotifier.fromEnvironment((line) => process.stderr.write(`tendril: ${line}\n`));
    const options = {
      root,
      initConfigFile: values['init-config'] ? resolve(String(values['init-config'])) : undefined,
      configFile: values.config ? resolve(String(values.config)) : undefined,
      notifier,
      out: (line: string) => process.stdout.write(`${line}\n`),
      err: (line: string) => process.stderr.write(`${line}\n`),
      rebootCommand: process.env.TENDRIL_REBOOT_COMMAND || undefined,
      readyTimeoutMs,
    };
    try {
      return isLaunched() ? await runLaunched(options, stop) : await runLauncher(options, stop);
    } finally {
      stop.uninstall();
    }
  },
};
