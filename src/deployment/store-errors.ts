// Errors of the component store, with the deployment error codes of the reference where one exists.

export type ComponentStoreErrorCode =
  | 'RECIPE_PARSE_ERROR'
  | 'RECIPE_DIRECTORY_INVALID'
  | 'ARTIFACT_NOT_FOUND'
  | 'ARTIFACT_CHECKSUM_MISMATCH'
  | 'RECIPE_MISSING_ARTIFACT_HASH_ALGORITHM'
  | 'UNSUPPORTED_HASH_ALGORITHM'
  | 'UNSAFE_ARCHIVE'
  | 'NO_MATCHING_PLATFORM'
  | 'IO_ERROR';

export class ComponentStoreError extends Error {
  constructor(
    readonly code: ComponentStoreErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'ComponentStoreError';
  }
}
