// `tendril run`: the nucleus daemon.
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { InstanceLockedError, Nucleus, SystemdNotifier } from '../nucleus/index.js';
import { UsageError, type Command } from './command.js';

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
    'A second nucleus on the same root refuses to start.',
  async run(values, positionals) {
    if (positionals.length) throw new UsageError(`unexpected argument '${positionals[0]}'`);
    if (values['init-config'] && values.config)
      throw new UsageError('--init-config and --config are exclusive: one merges, the other replaces');
    const root = resolve(String(values.root ?? join(homedir(), '.greengrass')));
    // before any component starts: components must not inherit NOTIFY_SOCKET (systemd Type=notify)
    const notifier = SystemdNotifier.fromEnvironment((line) => process.stderr.write(`tendril: ${line}\n`));
    // Signals are ours from the first instant: components start inside Nucleus.start, and a SIGTERM
    // that arrived before a handler was installed would kill the daemon and orphan them.
    let signalled: string | undefined;
    let onSignal: (sig: string) => void = (sig) => (signalled ??= sig);
    const sigterm = () => onSignal('SIGTERM');
    const sigint = () => onSignal('SIGINT');
    process.on('SIGTERM', sigterm);
    process.on('SIGINT', sigint);
    let nucleus: Nucleus;
    try {
      nucleus = await Nucleus.start({
        root,
        initConfigFile: values['init-config'] ? resolve(String(values['init-config'])) : undefined,
        configFile: values.config ? resolve(String(values.config)) : undefined,
      });
    } catch (e) {
      process.off('SIGTERM', sigterm);
      process.off('SIGINT', sigint);
      if (e instanceof InstanceLockedError) {
        process.stderr.write(`tendril run: ${e.message}\n`);
        return 1;
      }
      process.stderr.write(`tendril run: could not start: ${(e as Error).message}\n`);
      return 1;
    }
    process.stdout.write(
      `tendril: nucleus running on ${root} (IPC ${nucleus.paths.ipcSocket}); logs in ${nucleus.paths.logs}\n`,
    );
    void notifier.ready(`nucleus running on ${root}`);
    await new Promise<void>((done) => {
      let stopping = false;
      onSignal = (sig: string) => {
        if (stopping) return; // a second signal while stopping changes nothing
        stopping = true;
        process.stdout.write(`tendril: ${sig}, stopping components\n`);
        void notifier.stopping('stopping components');
        void nucleus.stop().then(done, (e) => {
          process.stderr.write(`tendril: shutdown error: ${(e as Error).message}\n`);
          done();
        });
      };
      if (signalled) onSignal(signalled);
    });
    process.off('SIGTERM', sigterm);
    process.off('SIGINT', sigint);
    return 0;
  },
};
