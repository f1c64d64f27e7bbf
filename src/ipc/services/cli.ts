// The Greengrass CLI operations (ipc.md IPC-68..IPC-76), which the Java nucleus gets from the
// aws.greengrass.Cli plugin and Tendril serves itself [IPC-88]. The device side is reached through
// the small CliBackend interface (the nucleus implements it); authorization is the aws.greengrass.Cli
// accessControl service [IPC-89, IPC-96, IPC-97], except for the CLI's own principal, whose token the
// nucleus hands to the greengrass-cli through `<root>/cli_ipc_info` [CF-75].
import { IpcError, resourceNotFoundError, serviceError } from '../errors.js';
import { operationId } from '../model.js';
import type { CallContext, JsonObject, OperationRegistry } from '../operations.js';
import { parseCreateLocalDeployment, requiredString, type LocalDeploymentRequest } from './cli-requests.js';

export const CREATE_LOCAL_DEPLOYMENT = operationId('CreateLocalDeployment');
export const CANCEL_LOCAL_DEPLOYMENT = operationId('CancelLocalDeployment');
export const GET_LOCAL_DEPLOYMENT_STATUS = operationId('GetLocalDeploymentStatus');
export const LIST_LOCAL_DEPLOYMENTS = operationId('ListLocalDeployments');
export const LIST_COMPONENTS = operationId('ListComponents');
export const GET_COMPONENT_DETAILS = operationId('GetComponentDetails');
export const RESTART_COMPONENT = operationId('RestartComponent');
export const STOP_COMPONENT = operationId('StopComponent');
export const CREATE_DEBUG_PASSWORD = operationId('CreateDebugPassword');

/** The identity of the greengrass-cli's connections: allowed every CLI operation without a policy. */
export const CLI_PRINCIPAL = 'aws.greengrass.Cli';

/** The component states of the CLI model [IPC-73]. */
export type CliComponentState =
  'RUNNING' | 'ERRORED' | 'NEW' | 'FINISHED' | 'INSTALLED' | 'BROKEN' | 'STARTING' | 'STOPPING';

export interface CliComponentDetails {
  componentName: string;
  version: string;
  state: CliComponentState;
  configuration?: JsonObject;
}

/** Local deployment statuses of the CLI model [IPC-70]. */
export type LocalDeploymentStatus = 'QUEUED' | 'IN_PROGRESS' | 'SUCCEEDED' | 'FAILED' | 'CANCELED';

export interface LocalDeploymentInfo {
  deploymentId: string;
  status: LocalDeploymentStatus;
  /** Epoch milliseconds as a string (the model's `createdOn` is a string). */
  createdOn?: string;
  deploymentStatusDetails?: {
    detailedDeploymentStatus: string;
    deploymentErrorStack?: string[];
    deploymentErrorTypes?: string[];
    deploymentFailureCause?: string;
  };
}

export type ComponentActionResult = { status: 'SUCCEEDED' | 'FAILED'; message?: string } | 'not-found';
export type CancelResult =
  { cancelled: true; message: string } | { cancelled: false; reason: string } | 'not-found';

/** What the CLI operations need from the device (implemented by the nucleus). */
export interface CliBackend {
  listComponents(): CliComponentDetails[];
  componentDetails(name: string): CliComponentDetails | undefined;
  restart(name: string): ComponentActionResult | Promise<ComponentActionResult>;
  stop(name: string): ComponentActionResult | Promise<ComponentActionResult>;
  /**
   * Queues a validated request; resolves with the new deployment's id. May throw an IpcError with
   * InvalidArguments / InvalidRecipeDirectoryPath / InvalidArtifactsDirectoryPath for what only the
   * device can check (directories, component names, versions).
   */
  createLocalDeployment(req: LocalDeploymentRequest): Promise<string>;
  cancelLocalDeployment(id: string): Promise<CancelResult>;
  deploymentStatus(id: string): LocalDeploymentInfo | undefined;
  /** Newest first. */
  listDeployments(): LocalDeploymentInfo[];
}

export interface CliServiceOptions {
  /** The principal allowed every CLI operation without a policy, default CLI_PRINCIPAL. */
  cliPrincipal?: string;
}

const DEPLOYMENT_RESOURCE = 'LocalDeployment';
const COMPONENT_RESOURCE = 'Component';

/** The nine CLI operations; `register` installs them. */
export class CliService {
  private readonly principal: string;

  constructor(
    private readonly backend: CliBackend,
    opts: CliServiceOptions = {},
  ) {
    this.principal = opts.cliPrincipal ?? CLI_PRINCIPAL;
  }

  register(registry: OperationRegistry): this {
    registry.handle(LIST_COMPONENTS, (_req, ctx) => {
      this.authorize(ctx, '*');
      return { components: this.call(() => this.backend.listComponents()) };
    });
    registry.handle(GET_COMPONENT_DETAILS, (req, ctx) => {
      const name = requiredString(req, 'componentName');
      this.authorize(ctx, name);
      const details = this.call(() => this.backend.componentDetails(name));
      if (!details) throw resourceNotFoundError(`Component ${name} not found`, COMPONENT_RESOURCE, name);
      return { componentDetails: details };
    });
    registry.handle(RESTART_COMPONENT, async (req, ctx) => {
      const r = await this.componentAction(req, ctx, (n) => this.backend.restart(n));
      return { restartStatus: r.status, ...(r.message !== undefined && { message: r.message }) };
    });
    registry.handle(STOP_COMPONENT, async (req, ctx) => {
      const r = await this.componentAction(req, ctx, (n) => this.backend.stop(n));
      return { stopStatus: r.status, ...(r.message !== undefined && { message: r.message }) };
    });
    registry.handle(CREATE_LOCAL_DEPLOYMENT, async (req, ctx) => {
      const parsed = parseCreateLocalDeployment(req);
      this.authorize(ctx, '*');
      const deploymentId = await this.callAsync(() => this.backend.createLocalDeployment(parsed));
      return { deploymentId };
    });
    registry.handle(CANCEL_LOCAL_DEPLOYMENT, async (req, ctx) => {
      const id = requiredString(req, 'deploymentId');
      this.authorize(ctx, id);
      const r = await this.callAsync(() => this.backend.cancelLocalDeployment(id));
      if (r === 'not-found')
        throw resourceNotFoundError(`Local deployment ${id} not found`, DEPLOYMENT_RESOURCE, id);
      if (!r.cancelled) throw serviceError(r.reason);
      return { message: r.message };
    });
    registry.handle(GET_LOCAL_DEPLOYMENT_STATUS, (req, ctx) => {
      // a missing id is InvalidArguments, answered as ServiceError since the op does not declare it [IPC-31]
      const id = requiredString(req, 'deploymentId');
      this.authorize(ctx, id);
      const deployment = this.call(() => this.backend.deploymentStatus(id));
      if (!deployment)
        throw resourceNotFoundError(`Local deployment ${id} not found`, DEPLOYMENT_RESOURCE, id);
      return { deployment };
    });
    registry.handle(LIST_LOCAL_DEPLOYMENTS, (_req, ctx) => {
      this.authorize(ctx, '*');
      return { localDeployments: this.call(() => this.backend.listDeployments()) };
    });
    registry.handle(CREATE_DEBUG_PASSWORD, (_req, ctx) => {
      this.authorize(ctx, '*');
      // [IPC-88] the LocalDebugConsole is not part of Tendril.
      throw serviceError(
        `Operation ${CREATE_DEBUG_PASSWORD} is not supported by Tendril (no local debug console)`,
      );
    });
    return this;
  }

  /** The CLI's own principal is always allowed; anyone else needs an aws.greengrass.Cli policy [IPC-97]. */
  private authorize(ctx: CallContext, resource: string): void {
    if (ctx.component !== this.principal) ctx.authorize(resource);
  }

  private async componentAction(
    req: JsonObject,
    ctx: CallContext,
    act: (name: string) => ComponentActionResult | Promise<ComponentActionResult>,
  ): Promise<{ status: 'SUCCEEDED' | 'FAILED'; message?: string }> {
    const name = requiredString(req, 'componentName');
    this.authorize(ctx, name);
    const r = await this.callAsync(async () => act(name));
    if (r === 'not-found')
      throw new IpcError('ComponentNotFoundError', `Component ${name} not found`, {
        resourceType: COMPONENT_RESOURCE,
        resourceName: name,
      });
    return r;
  }

  /** Backend failures that are not modeled errors become ServiceError with the reason. */
  private call<T>(fn: () => T): T {
    try {
      return fn();
    } catch (e) {
      throw asServiceError(e);
    }
  }

  private async callAsync<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      throw asServiceError(e);
    }
  }
}

function asServiceError(e: unknown): IpcError {
  return e instanceof IpcError ? e : serviceError((e as Error).message ?? String(e));
}
