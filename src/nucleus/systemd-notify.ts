// Readiness notification for a systemd Type=notify service (sd_notify): a datagram of KEY=VALUE lines
// sent to the Unix socket named by $NOTIFY_SOCKET. Node has no datagram Unix sockets, so the message is
// sent by the `systemd-notify` binary, which ships with systemd and, unless --no-block is given, waits
// until the manager has processed the message (BARRIER=1). The binary runs as our child, so the unit
// sets NotifyAccess=all and the message carries MAINPID=<this process>.
import { execFile } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

const NOTIFY_TIMEOUT_MS = 10_000;

export interface SystemdNotifierOptions {
  /** The socket path from $NOTIFY_SOCKET; undefined when not started by systemd as Type=notify. */
  socket: string | undefined;
  /** Absolute path of systemd-notify, or undefined when it is not installed. */
  binary: string | undefined;
  log: (line: string) => void;
}

/** Finds an executable on PATH (plus the sbin directories) without running a shell. */
export function findExecutable(name: string, path = process.env.PATH ?? ''): string | undefined {
  const dirs = [...path.split(delimiter), '/usr/bin', '/bin', '/usr/sbin', '/sbin'].filter(Boolean);
  for (const dir of dirs) {
    const file = join(dir, name);
    try {
      accessSync(file, constants.X_OK);
      return file;
    } catch {
      /* not here */
    }
  }
  return undefined;
}

export class SystemdNotifier {
  private constructor(private readonly opts: SystemdNotifierOptions) {}

  /**
   * Takes $NOTIFY_SOCKET out of this process's environment (so that components, which inherit it, cannot
   * notify on the nucleus's behalf) and returns a notifier for it.
   */
  static fromEnvironment(log: (line: string) => void): SystemdNotifier {
    const socket = process.env.NOTIFY_SOCKET || undefined;
    delete process.env.NOTIFY_SOCKET;
    const binary = socket ? findExecutable('systemd-notify') : undefined;
    if (socket && !binary)
      log(`NOTIFY_SOCKET is set (${socket}) but systemd-notify is not installed: readiness is not reported`);
    return new SystemdNotifier({ socket, binary, log });
  }

  static create(opts: SystemdNotifierOptions): SystemdNotifier {
    return new SystemdNotifier(opts);
  }

  get enabled(): boolean {
    return this.opts.socket !== undefined && this.opts.binary !== undefined;
  }

  /** READY=1 with a status line; resolves false (after logging why) when it could not be sent. */
  ready(status: string): Promise<boolean> {
    return this.send(['--ready', `--pid=${process.pid}`, `--status=${status}`]);
  }

  /** STOPPING=1: the service manager shows "deactivating" while components stop. */
  stopping(status: string): Promise<boolean> {
    return this.send([`--pid=${process.pid}`, `--status=${status}`, 'STOPPING=1']);
  }

  private send(args: string[]): Promise<boolean> {
    const { socket, binary, log } = this.opts;
    if (!socket || !binary) return Promise.resolve(false);
    return new Promise((done) => {
      execFile(
        binary,
        args,
        { env: { ...process.env, NOTIFY_SOCKET: socket }, timeout: NOTIFY_TIMEOUT_MS },
        (err, _stdout, stderr) => {
          if (err) {
            log(`systemd-notify ${args.join(' ')} failed: ${stderr.trim() || err.message}`);
            done(false);
          } else done(true);
        },
      );
    });
  }
}
