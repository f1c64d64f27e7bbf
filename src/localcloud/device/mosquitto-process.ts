// The Mosquitto process of a local cloud: found on the PATH (or /usr/sbin, where Debian installs it),
// started with the generated config, watched through its log (connections and disconnections, which are
// the only per-client events Mosquitto reports without a plugin), and stopped with the local cloud. Its
// pid is kept in <dataDir>/mosquitto/mosquitto.pid so that a broker left behind by a killed local cloud
// is stopped at the next start.
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { delimiter, join } from 'node:path';
import type { MosquittoFiles } from './mosquitto-config.js';

const STOP_GRACE_MS = 5000;
const START_LIMIT_MS = 10000;

/** The mosquitto executable: `explicit`, else the first on PATH, /usr/sbin or /usr/local/sbin. */
export function findMosquitto(explicit?: string): string | undefined {
  const runnable = (p: string) => {
    try {
      accessSync(p, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  };
  if (explicit !== undefined) return runnable(explicit) ? explicit : undefined;
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/usr/local/sbin'];
  return dirs
    .filter((d) => d !== '')
    .map((d) => join(d, 'mosquitto'))
    .find(runnable);
}

export interface ConnectionEvent {
  type: 'connected' | 'disconnected';
  clientId: string;
  /** The MQTT username: the device certificate's CN. */
  username?: string;
}

const CONNECTED = /^New client connected from .* as (\S+) \(p\d+, c\d+, k\d+(?:, u'(.*)')?\)\.$/;
const DISCONNECTED = [
  /^Client (\S+) (?:disconnected|closed its connection|has exceeded timeout|has been disconnected|already connected, closing old connection)/,
  /^(?:Socket error|Bad socket read\/write) on client (\S+?)[,:]/,
];

/** Reads one Mosquitto log line (log_timestamp false) as a connection event, if it is one. */
export function connectionEvent(line: string): ConnectionEvent | undefined {
  const c = CONNECTED.exec(line);
  if (c) return { type: 'connected', clientId: c[1], ...(c[2] !== undefined ? { username: c[2] } : {}) };
  for (const re of DISCONNECTED) {
    const d = re.exec(line);
    if (d && d[1] !== '<unknown>') return { type: 'disconnected', clientId: d[1] };
  }
  return undefined;
}

/** A free TCP port on `host`, for a listener Mosquitto must be given a number for. */
export function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, host, () => {
      const addr = s.address();
      s.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

/** Stops a broker a previous local cloud left running (its pid file names a mosquitto with our config). */
function stopLeftover(files: MosquittoFiles, log: (msg: string) => void): Promise<void> {
  if (!existsSync(files.pidPath)) return Promise.resolve();
  const pid = Number(readFileSync(files.pidPath, 'utf8').trim());
  rmSync(files.pidPath, { force: true });
  let cmdline = '';
  try {
    cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  } catch {
    return Promise.resolve();
  }
  if (
    !Number.isInteger(pid) ||
    pid <= 1 ||
    !cmdline.includes('mosquitto') ||
    !cmdline.includes(files.confPath)
  )
    return Promise.resolve();
  log(`mosquitto: stopping pid ${pid}, left running by an earlier local cloud`);
  process.kill(pid, 'SIGTERM');
  return new Promise((resolve) => {
    const end = Date.now() + STOP_GRACE_MS;
    const poll = setInterval(() => {
      const gone = !existsSync(`/proc/${pid}`);
      if (gone || Date.now() > end) {
        clearInterval(poll);
        if (!gone) process.kill(pid, 'SIGKILL');
        resolve();
      }
    }, 20);
  });
}

function canConnect(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(path);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

export interface MosquittoProcess {
  readonly pid: number;
  /** Resolves when the process has exited, for whatever reason. */
  readonly exited: Promise<void>;
  /** Sends SIGTERM (SIGKILL after 5 s) and waits for the exit. */
  stop(): Promise<void>;
}

export interface StartMosquittoOptions {
  bin: string;
  files: MosquittoFiles;
  log(msg: string): void;
  onConnection(e: ConnectionEvent): void;
  /** Called when the process exits while it was not being stopped. */
  onUnexpectedExit(why: string): void;
}

/**
 * Starts Mosquitto and resolves once its service socket accepts connections (all listeners are open by
 * then); rejects with the broker's own error lines when it exits first.
 */
export async function startMosquitto(o: StartMosquittoOptions): Promise<MosquittoProcess> {
  await stopLeftover(o.files, o.log);
  const child: ChildProcess = spawn(o.bin, ['-c', o.files.confPath], { stdio: ['ignore', 'pipe', 'pipe'] });
  const recent: string[] = [];
  let started = false;
  let stopping = false;
  let exitStatus: string | undefined;
  const exited = new Promise<void>((resolve) => {
    child.once('error', (e) => {
      exitStatus = `could not be started: ${e.message}`;
      resolve();
    });
    child.once('exit', (code, signal) => {
      exitStatus = signal ? `was killed by ${signal}` : `exited with code ${code}`;
      resolve();
    });
  });
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  void exited.then(() => {
    process.off('exit', killOnExit);
    rmSync(o.files.pidPath, { force: true });
    if (!stopping && started) o.onUnexpectedExit(`mosquitto ${exitStatus}`);
  });
  let partial = '';
  const onData = (chunk: Buffer) => {
    const lines = (partial + chunk.toString('utf8')).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      if (line === '') continue;
      recent.push(line);
      if (recent.length > 20) recent.shift();
      const e = connectionEvent(line);
      if (e) o.onConnection(e);
      if (!line.startsWith('New connection from ')) o.log(`mosquitto: ${line}`);
    }
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  if (child.pid !== undefined) writeFileSync(o.files.pidPath, `${child.pid}\n`);
  const end = Date.now() + START_LIMIT_MS;
  for (;;) {
    if (exitStatus !== undefined) {
      await new Promise((r) => setImmediate(r)); // the last log lines
      throw new Error(`mosquitto ${exitStatus}${recent.length ? `: ${recent.join(' | ')}` : ''}`);
    }
    if (existsSync(o.files.socketPath) && (await canConnect(o.files.socketPath))) break;
    if (Date.now() > end) {
      child.kill('SIGKILL');
      await exited;
      throw new Error(`mosquitto did not open ${o.files.socketPath} within ${START_LIMIT_MS / 1000} s`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  started = true;
  return {
    pid: child.pid!,
    exited,
    stop: async () => {
      stopping = true;
      if (exitStatus === undefined) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
        await exited;
        clearTimeout(timer);
      }
      rmSync(o.files.socketPath, { force: true });
    },
  };
}
