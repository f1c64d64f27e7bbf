// Error shapes of the Greengrass V2 API [CP-14]..[CP-21]. Every error carries the name the SDK maps to an
// exception class ([CP-11], [CP-12]) and the body members the shape requires.

export interface ValidationField {
  name: string;
  message: string;
}

export type ValidationReason = 'UNKNOWN_OPERATION' | 'CANNOT_PARSE' | 'FIELD_VALIDATION_FAILED' | 'OTHER';

export class ApiError extends Error {
  constructor(
    readonly errorType: string,
    readonly status: number,
    message: string,
    readonly members: Record<string, unknown> = {},
  ) {
    super(message);
  }

  body(): Record<string, unknown> {
    return { message: this.message, ...this.members };
  }
}

/** [CP-14] */
export function validationError(
  message: string,
  field?: string,
  reason: ValidationReason = 'FIELD_VALIDATION_FAILED',
): ApiError {
  const members: Record<string, unknown> = { reason };
  if (field !== undefined) members.fields = [{ name: field, message }];
  return new ApiError('ValidationException', 400, message, members);
}

/** [CP-14] with several fields at once. */
export function validationErrors(message: string, fields: ValidationField[]): ApiError {
  return new ApiError('ValidationException', 400, message, { reason: 'FIELD_VALIDATION_FAILED', fields });
}

/** [CP-18] */
export function notFound(message: string, resourceId: string, resourceType: string): ApiError {
  return new ApiError('ResourceNotFoundException', 404, message, { resourceId, resourceType });
}

/** [CP-19] */
export function conflict(message: string, resourceId: string, resourceType: string): ApiError {
  return new ApiError('ConflictException', 409, message, { resourceId, resourceType });
}

/** [CP-21] */
export function internalError(message: string): ApiError {
  return new ApiError('InternalServerException', 500, message);
}
