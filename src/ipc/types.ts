// Injected interfaces and limits of the IPC server: it knows nothing of the config tree, lifecycle
// or deployments; the nucleus wires these to them.
import { AES_MAX_MESSAGE_SIZE } from './protocol.js';

/** SVCUID -> component name, or undefined for an unknown token [IPC-49, CF-80]. Must be synchronous and cheap [IPC-123]. */
export type Authenticate = (token: string) => string | undefined;

export interface AuthorizationCheck {
  /** The calling component. */
  principal: string;
  /** accessControl service id, e.g. `aws.greengrass.ipc.pubsub`. */
  service: string;
  /** Full operation id, e.g. `aws.greengrass#PublishToTopic`. */
  operation: string;
  resource: string;
}
export type Authorize = (check: AuthorizationCheck) => boolean;

export interface IpcLimits {
  /** Concurrent connections; further connections are closed at accept. */
  maxConnections: number;
  /** Largest accepted frame in bytes, default the AES 24 MiB cap [IPC-04]. */
  maxMessageSize: number;
  /** Open streaming operations per connection. */
  maxSubscriptionsPerConnection: number;
  /** Events held per subscriber while its socket is backed up; beyond this they are dropped and counted. */
  subscriberQueueLength: number;
}

export const DEFAULT_LIMITS: IpcLimits = {
  maxConnections: 512,
  maxMessageSize: AES_MAX_MESSAGE_SIZE,
  maxSubscriptionsPerConnection: 512,
  subscriberQueueLength: 1024,
};

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type IpcLogger = (level: LogLevel, message: string) => void;

/** What a connection needs from its server. */
export interface ServerHooks {
  authenticate: Authenticate;
  authorize: Authorize;
  log: IpcLogger;
  onDrop(): void;
  onClose(connection: { id: number }): void;
}
