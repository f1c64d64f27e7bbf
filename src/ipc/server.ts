// The IPC server: a Unix socket listener [CF-77, CF-79] holding a bounded set of connections.
import { chmod, lstat, unlink } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { IpcConnection } from './connection.js';
import type { OperationRegistry } from './operations.js';
import {
  DEFAULT_LIMITS,
  type Authenticate,
  type Authorize,
  type IpcLimits,
  type IpcLogger,
} from './types.js';

export interface IpcServerOptions {
  /** Where to listen; may be relative to the process cwd (the long-root rule, CF-78). */
  socketPath: string;
  authenticate: Authenticate;
  /** Policy decision for operations that have an accessControl service id; default denies. */
  authorize?: Authorize;
  registry: OperationRegistry;
  limits?: Partial<IpcLimits>;
  log?: IpcLogger;
}

export interface IpcServerStats {
  connections: number;
  /** Connections closed at accept because maxConnections was reached. */
  refusedConnections: number;
  /** Subscription events dropped because a subscriber's queue was full. */
  droppedEvents: number;
}

export class IpcServer {
  readonly limits: IpcLimits;
  private readonly server: Server;
  private readonly connections = new Map<number, IpcConnection>();
  /** Every accepted socket, including refused ones still closing. */
  private readonly sockets = new Set<Socket>();
  private nextId = 1;
  private refused = 0;
  private dropped = 0;
  private readonly log: IpcLogger;

  constructor(private readonly options: IpcServerOptions) {
    this.limits = { ...DEFAULT_LIMITS, ...options.limits };
    this.log = options.log ?? (() => {});
    this.server = createServer((socket) => this.accept(socket));
  }

  get socketPath(): string {
    return this.options.socketPath;
  }

  stats(): IpcServerStats {
    return {
      connections: this.connections.size,
      refusedConnections: this.refused,
      droppedEvents: this.dropped,
    };
  }

  /** Removes a stale socket file, listens, and makes the socket world read/write [CF-77, CF-79, IPC-48]. */
  async listen(): Promise<void> {
    const path = this.options.socketPath;
    const existing = await lstat(path).catch(() => undefined);
    if (existing) {
      if (existing.isDirectory()) throw new Error(`IPC socket path ${path} is a directory`);
      await unlink(path);
    }
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(path, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    await chmod(path, 0o666);
    this.log('info', `IPC server listening on ${path}`);
  }

  /** Stops accepting, closes every connection (running stream cleanup), removes the socket file. */
  async close(): Promise<void> {
    for (const c of [...this.connections.values()]) c.close();
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(socket: Socket): void {
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
    if (this.connections.size >= this.limits.maxConnections) {
      this.refused++;
      this.log('warn', `IPC connection refused: limit of ${this.limits.maxConnections} connections reached`);
      socket.destroy();
      return;
    }
    const id = this.nextId++;
    const connection = new IpcConnection(id, socket, this.options.registry, this.limits, {
      authenticate: this.options.authenticate,
      authorize: this.options.authorize ?? (() => false),
      log: this.log,
      onDrop: () => this.dropped++,
      onClose: (c) => this.connections.delete(c.id),
    });
    this.connections.set(id, connection);
  }
}
