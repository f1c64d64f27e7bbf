// `tendril logs [COMPONENT] [-f]`: prints <root>/logs/greengrass.log or <root>/logs/<Component>.log
// [CF-71, LC-87]; -f follows the file, across rotation [LC-93] (the active file is renamed away and a
// new one created) and truncation.
import { closeSync, existsSync, fstatSync, openSync, readdirSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { UsageError, type Command } from './command.js';
import { resolveRoot } from './greengrass-cli-client.js';

const POLL_MS = 200;
const CHUNK = 64 * 1024;

export function logFileOf(root: string, component: string | undefined): string {
  if (component !== undefined && (component === '' || /[/\0]/.test(component) || component.startsWith('.')))
    throw new UsageError(`COMPONENT '${component}' is not a component name`);
  return join(root, 'logs', `${component ?? 'greengrass'}.log`);
}

/** The active logs of a root, for the error that names what exists. */
function activeLogs(root: string): string[] {
  try {
    return readdirSync(join(root, 'logs'))
      .filter((f) => f.endsWith('.log') && !/_\d{4}_\d{2}_\d{2}_\d{2}_\d+\.log$/.test(f))
      .map((f) => f.slice(0, -4))
      .sort();
  } catch {
    return [];
  }
}

/** The last `n` lines of a text (all when n is undefined). */
export function lastLines(text: string, n: number | undefined): string {
  if (n === undefined) return text;
  if (n === 0) return '';
  const lines = text.split('\n');
  const trailing = lines.at(-1) === '' ? lines.pop() : undefined;
  return lines.slice(-n).join('\n') + (trailing === '' ? '\n' : '');
}

function readFrom(fd: number, position: number, write: (s: Buffer) => void): number {
  const buf = Buffer.alloc(CHUNK);
  for (;;) {
    const n = readSync(fd, buf, 0, CHUNK, position);
    if (n <= 0) return position;
    write(buf.subarray(0, n));
    position += n;
  }
}

export interface FollowHandle {
  stop(): void;
}

/**
 * Follows `file` from `position`: new bytes of the open file are written as they come; when the path
 * names another file (rotation) the rest of the old one is written, then the new one from its start;
 * a file that shrank (truncation) is read again from its start.
 */
export function followFile(file: string, position: number, write: (s: Buffer) => void): FollowHandle {
  let fd: number | undefined = existsSync(file) ? openSync(file, 'r') : undefined;
  let pos = position;
  const tick = () => {
    if (fd !== undefined) {
      if (fstatSync(fd).size < pos) pos = 0;
      pos = readFrom(fd, pos, write);
    }
    let current: number | undefined;
    try {
      current = statSync(file).ino;
    } catch {
      return; // between the rename and the new file
    }
    if (fd === undefined || current !== fstatSync(fd).ino) {
      if (fd !== undefined) {
        pos = readFrom(fd, pos, write);
        closeSync(fd);
      }
      fd = openSync(file, 'r');
      pos = readFrom(fd, 0, write);
    }
  };
  const timer = setInterval(tick, POLL_MS);
  return {
    stop() {
      clearInterval(timer);
      if (fd !== undefined) closeSync(fd);
      fd = undefined;
    },
  };
}

export const logsCommand: Command = {
  name: 'logs',
  summary: 'print the nucleus log or a component log of a root; -f follows it across rotation',
  usage: 'logs [--root DIR] [-f] [-n N] [COMPONENT]',
  options: {
    root: { type: 'string', short: 'r' },
    follow: { type: 'boolean', short: 'f' },
    lines: { type: 'string', short: 'n' },
  },
  optionHelp: {
    root: 'the nucleus root (default GGC_ROOT_PATH, else ~/.greengrass)',
    follow: 'keep printing what is appended, across rotation, until interrupted',
    lines: 'print only the last N lines first (default: all; with -f: 20)',
  },
  details:
    'Without COMPONENT: <root>/logs/greengrass.log (the nucleus). With it: <root>/logs/<COMPONENT>.log.\n' +
    'Rotated files are <name>_<yyyy_MM_dd_HH>_<i>.log beside the active one.',
  async run(values, positionals) {
    if (positionals.length > 1) throw new UsageError(`unexpected argument '${positionals[1]}'`);
    const flag = values.root as string | undefined;
    if (flag !== undefined && flag.trim() === '') throw new UsageError('--root must not be empty');
    const raw = values.lines as string | undefined;
    if (raw !== undefined && !/^\d+$/.test(raw))
      throw new UsageError(`--lines must be a whole number, got '${raw}'`);
    const n = raw !== undefined ? Number(raw) : values.follow ? 20 : undefined;
    const root = resolveRoot(flag);
    const component = positionals[0];
    const file = logFileOf(root, component);
    const out = (b: Buffer | string) => process.stdout.write(b);
    let position = 0;
    if (existsSync(file)) {
      const fd = openSync(file, 'r');
      const chunks: Buffer[] = [];
      position = readFrom(fd, 0, (b) => chunks.push(Buffer.from(b)));
      closeSync(fd);
      out(lastLines(Buffer.concat(chunks).toString('utf8'), n));
    } else if (!values.follow) {
      const known = activeLogs(root);
      process.stderr.write(
        `tendril logs: no log at ${file}` +
          (known.length ? ` (logs here: ${known.join(', ')})` : ` (is ${root} a nucleus root?)`) +
          '\n',
      );
      return 1;
    } else process.stderr.write(`tendril logs: waiting for ${file}\n`);
    if (!values.follow) return 0;
    const handle = followFile(file, position, out);
    await new Promise<void>((done) => {
      const stop = () => {
        handle.stop();
        done();
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
    return 0;
  },
};
