// Public face of src/deployment (shared/DESIGN.md: other folders import only this file).
export type * from './document-types.js';
export {
  parseDeploymentDocument,
  missingCapabilities,
  formatDocumentProblems,
  groupRootsAfter,
} from './document.js';
export {
  SUPPORTED_CAPABILITIES,
  LOCAL_DEPLOYMENT_GROUP_NAME,
  MAX_DEPLOYMENT_DOCUMENT_BYTES,
  DEFAULT_COMPONENT_UPDATE_TIMEOUT_SECONDS,
  DEFAULT_VALIDATION_TIMEOUT_SECONDS,
  NUCLEUS_DEFAULT_VALIDATION_TIMEOUT_SECONDS,
} from './document-options.js';
export type { ParseDeploymentOptions } from './document-options.js';
export { resolveComponentVersions, resolveFromSource } from './resolve.js';
export type {
  ComponentCandidate,
  ComponentSource,
  ResolveInput,
  Requirement,
  ResolvedComponent,
  ResolveError,
  ResolveErrorCode,
  ResolveStep,
} from './resolve.js';
export { ComponentStore, versionsToKeep } from './store-query.js';
export type { StaleCleanupResult } from './store-query.js';
export type { ImportOptions, ImportedComponent } from './component-store.js';
export { ComponentStoreError } from './store-errors.js';
export type { ComponentStoreErrorCode } from './store-errors.js';
export { extractZipSafely, UnsafeArchiveError, DEFAULT_ZIP_LIMITS } from './unzip.js';
export type { ZipLimits, ExtractOptions } from './unzip.js';
export { permissionMode, hashAlgorithm } from './artifact-files.js';
export { planDeployment } from './plan.js';
export type { DeploymentStep, PlannedService, PlanResult, ServicesMap } from './plan.js';
export { DeploymentQueue, queueKey, replacesQueued } from './queue.js';
export type { DeploymentQueueOptions, DeploymentStage, OfferOutcome, QueuedDeployment } from './queue.js';
export { DeploymentError, failureCause, jobStatusOf, statusDetails } from './result.js';
export type {
  DeploymentErrorCode,
  DeploymentErrorType,
  DeploymentResult,
  DeploymentResultStatus,
  DeploymentType,
  JobStatus,
} from './result.js';
export { StatusOutbox, PROCESSED_DEPLOYMENTS_PATH } from './result-outbox.js';
export type { DeploymentStatusReporter, ProcessedDeployment } from './result-outbox.js';
