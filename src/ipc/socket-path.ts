// Where to listen and what path components get [CF-76..CF-78, IPC-48]: sun_path holds 108 bytes.
import { isAbsolute, join, resolve } from 'node:path';

export const SUN_PATH_LIMIT = 108;

export interface SocketPathPlan {
  /** Path to pass to listen (relative to `cwd` when the long-root rule applies). */
  listenPath: string;
  /** AWS_GG_NUCLEUS_DOMAIN_SOCKET_FILEPATH_FOR_COMPONENT, as seen from the component's cwd `work/<name>`. */
  componentPath: string;
  /** AWS_GG_NUCLEUS_DOMAIN_SOCKET_FILEPATH: the absolute socket path. */
  absolutePath: string;
  /** A symlink the nucleus must create first (`<cwd>/nucleusRoot -> rootPath`), if any. */
  symlink?: { path: string; target: string };
}

/**
 * `<root>/ipc.socket`, or `system.ipcSocketPath`. If the absolute default path is >= 108 bytes,
 * listen on `./nucleusRoot/ipc.socket` through a symlink in the nucleus cwd and give components
 * `../../ipc.socket` [CF-78]. An explicit path that is too long is an error naming it.
 */
export function planSocketPath(opts: {
  rootPath: string;
  ipcSocketPath?: string;
  cwd: string;
}): SocketPathPlan {
  if (!isAbsolute(opts.rootPath)) throw new Error(`rootPath must be absolute, got ${opts.rootPath}`);
  if (opts.ipcSocketPath) {
    const absolutePath = resolve(opts.rootPath, opts.ipcSocketPath);
    if (Buffer.byteLength(absolutePath) >= SUN_PATH_LIMIT) {
      throw new Error(
        `system.ipcSocketPath ${absolutePath} is ${Buffer.byteLength(absolutePath)} bytes; the limit is ${SUN_PATH_LIMIT - 1}`,
      );
    }
    return { listenPath: absolutePath, componentPath: absolutePath, absolutePath };
  }
  const absolutePath = join(opts.rootPath, 'ipc.socket');
  if (Buffer.byteLength(absolutePath) < SUN_PATH_LIMIT)
    return { listenPath: absolutePath, componentPath: absolutePath, absolutePath };
  return {
    listenPath: './nucleusRoot/ipc.socket',
    componentPath: '../../ipc.socket',
    absolutePath,
    symlink: { path: join(opts.cwd, 'nucleusRoot'), target: opts.rootPath },
  };
}
