// Configuration IPC operations over the config tree: GetConfiguration [IPC-61, IPC-109],
// UpdateConfiguration [IPC-62, IPC-110] and SubscribeToConfigurationUpdate [IPC-63, IPC-111], all on
// `services.<component>.configuration` [CF-55]. No accessControl policy applies [IPC-100].
import { ConfigValueError, Topics, type Configuration } from '../../config/index.js';
import {
  invalidArgumentsError,
  IpcError,
  resourceNotFoundError,
  serviceError,
  unauthorizedError,
} from '../errors.js';
import { operationId } from '../model.js';
import type { CallContext, JsonObject, OperationRegistry } from '../operations.js';
import {
  configurationPath,
  configurationValue,
  parseGetConfiguration,
  parseUpdateConfiguration,
  staleKeys,
} from './configuration-requests.js';
import { ConfigurationSubscriptions } from './configuration-subscriptions.js';

export const GET_CONFIGURATION = operationId('GetConfiguration');
export const UPDATE_CONFIGURATION = operationId('UpdateConfiguration');
export const SUBSCRIBE_TO_CONFIGURATION_UPDATE = operationId('SubscribeToConfigurationUpdate');

export interface ConfigurationServiceOptions {
  /** The live config tree. */
  config: Configuration;
  /** Resolves once every change so far is durable (ConfigStore.sync); awaited before acknowledging [DESIGN 4]. */
  sync?: () => Promise<void>;
}

const keyName = (component: string, keyPath: readonly string[]) =>
  keyPath.length === 0 ? `${component} configuration` : `${component} configuration ${keyPath.join('.')}`;

export class ConfigurationService {
  private readonly config: Configuration;
  private readonly subscriptions: ConfigurationSubscriptions;

  constructor(private readonly options: ConfigurationServiceOptions) {
    this.config = options.config;
    this.subscriptions = new ConfigurationSubscriptions(options.config);
  }

  register(registry: OperationRegistry): this {
    registry.handle(GET_CONFIGURATION, (req, ctx) => this.get(req, ctx));
    registry.handle(UPDATE_CONFIGURATION, (req, ctx) => this.update(req, ctx));
    registry.stream(SUBSCRIBE_TO_CONFIGURATION_UPDATE, (req, ctx, stream) =>
      this.subscriptions.subscribe(req, ctx, stream),
    );
    return this;
  }

  /** Open SubscribeToConfigurationUpdate streams. */
  get subscriptionCount(): number {
    return this.subscriptions.size;
  }

  /** Stops listening to the config tree (the streams themselves close with their connections). */
  close(): void {
    this.subscriptions.close();
  }

  private get(req: JsonObject, ctx: CallContext): object {
    const { componentName, keyPath } = parseGetConfiguration(req);
    const component = componentName ?? ctx.component; // any component is readable [IPC-100]
    const root = this.config.findTopics(configurationPath(component));
    const node =
      root && keyPath.length > 0 ? this.config.find([...configurationPath(component), ...keyPath]) : root;
    if (!node) {
      const name = keyName(component, keyPath);
      throw resourceNotFoundError(`Key not found: ${name}`, 'KeyPath', name); // [IPC-109]
    }
    return { componentName: component, value: configurationValue(node) };
  }

  private async update(req: JsonObject, ctx: CallContext): Promise<object> {
    const self = ctx.component; // always the caller's own configuration [IPC-110]
    const other = req.componentName;
    if (other !== undefined && other !== null && other !== self) {
      // Not a model member (IPC-40), but silently writing the caller's config instead would be worse.
      throw unauthorizedError(`${self} cannot update the configuration of ${String(other)}`);
    }
    const { keyPath, timestampMs, valueToMerge } = parseUpdateConfiguration(req);
    const service = this.config.findTopics(['services', self]);
    if (!service) throw serviceError(`Component ${self} has no services entry in the configuration`);
    const base = configurationPath(self);
    for (let i = 0; i < keyPath.length; i++) {
      const n = this.config.find([...base, ...keyPath.slice(0, i + 1)]);
      if (n && !(n instanceof Topics))
        throw invalidArgumentsError(
          `keyPath ${keyPath.slice(0, i + 1).join('.')} is a value, not a container to merge into`,
        );
    }
    const target = this.config.findTopics([...base, ...keyPath]);
    const stale = staleKeys(target, valueToMerge, timestampMs);
    if (stale.length > 0) {
      throw new IpcError(
        'FailedUpdateConditionCheckError',
        `Proposed timestamp is older than the config's latest modified timestamp (newer: ${stale
          .map((p) => [...keyPath, ...p].join('.'))
          .join(', ')})`,
      );
    }
    try {
      this.config.merge(valueToMerge, { at: [...base, ...keyPath], timestamp: timestampMs });
    } catch (err) {
      if (err instanceof ConfigValueError) throw invalidArgumentsError(`valueToMerge: ${err.message}`);
      throw err;
    }
    await this.options.sync?.();
    return {};
  }
}
