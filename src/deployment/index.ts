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
export { DeploymentEngine } from './engine.js';
export type { DeploymentEngineOptions, DeploymentOutcome } from './engine.js';
export { runDeploymentTask, asDeploymentError } from './task.js';
export { BOOTSTRAP_TASKS, readBootstrapRecord } from './task-bootstrap.js';
export type {
  BootstrapRecord,
  BootstrapRunner,
  KernelStage,
  NucleusSelfUpdate,
  PrepareOutcome,
} from './task-bootstrap.js';
export {
  bootstrapKey,
  needsBootstrap,
  NUCLEUS_COMPONENT_NAMES,
  planBootstrap,
  resolvedNucleus,
} from './bootstrap-plan.js';
export type { TaskContext, TaskOutcome } from './task.js';
export { DEFAULT_STAGE_TIMEOUTS, runStage } from './task-stage.js';
export type { StageTimeouts } from './task-stage.js';
export { MAX_TOTAL_DEFERRAL_MS } from './task-safe-update.js';
export type { SafeUpdateHooks, ValidityReport } from './task-safe-update.js';
export {
  computeTargetServices,
  currentGroupRoots,
  DEFAULT_BUILTIN_SERVICES,
  DEPLOYMENT_SERVICE,
  MAIN_SERVICE,
} from './task-services.js';
export type { TargetServices, TargetServicesInput } from './task-services.js';
export {
  brokenAndHardDependers,
  lifecycleTargets,
  waitForServices,
  writeTargetServices,
} from './activation.js';
export type { ComponentStates, ConvergeOptions, ConvergeOutcome, ServiceTarget } from './activation.js';
export {
  deploymentDir,
  readSnapshotServices,
  restoreRollbackSnapshot,
  takeRollbackSnapshot,
  ROLLBACK_SNAPSHOT,
} from './rollback.js';
