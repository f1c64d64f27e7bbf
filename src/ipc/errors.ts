// Modeled IPC errors [IPC-29, IPC-30]: sent as ApplicationError + TerminateStream with the
// `service-model-type` of the shape and a JSON body carrying `message` plus Java's parity fields.
import { SERVICE_ID, SERVICE_NAMESPACE } from './protocol.js';

export type ErrorShapeName =
  | 'ServiceError'
  | 'UnauthorizedError'
  | 'ResourceNotFoundError'
  | 'InvalidArgumentsError'
  | 'ComponentNotFoundError'
  | 'ConflictError'
  | 'FailedUpdateConditionCheckError'
  | 'InvalidTokenError'
  | 'InvalidRecipeDirectoryPathError'
  | 'InvalidArtifactsDirectoryPathError'
  | 'InvalidClientDeviceAuthTokenError'
  | 'InvalidCredentialError';

/** An error a handler throws to answer with a modeled error shape. */
export class IpcError extends Error {
  constructor(
    readonly shape: ErrorShapeName,
    message: string,
    /** Shape-specific members, e.g. `resourceType`/`resourceName` or `context`. */
    readonly fields: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = shape;
  }

  get shapeId(): string {
    return `${SERVICE_NAMESPACE}#${this.shape}`;
  }

  toPayload(): Record<string, unknown> {
    return {
      _service: SERVICE_ID,
      _message: this.message,
      _errorCode: this.shape,
      message: this.message,
      ...this.fields,
    };
  }
}

export const serviceError = (message: string, context?: Record<string, unknown>) =>
  new IpcError('ServiceError', message, context ? { context } : {});
export const unauthorizedError = (message: string) => new IpcError('UnauthorizedError', message);
export const invalidArgumentsError = (message: string) => new IpcError('InvalidArgumentsError', message);
export const resourceNotFoundError = (message: string, resourceType?: string, resourceName?: string) =>
  new IpcError('ResourceNotFoundError', message, {
    ...(resourceType !== undefined ? { resourceType } : {}),
    ...(resourceName !== undefined ? { resourceName } : {}),
  });
