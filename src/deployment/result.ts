// Deployment results and their status details (deployment.md section 8): the terminal statuses
// [DP-62], job-level statuses [DP-63, DP-64], the status-details map [DP-65] and the error
// codes and types used by this nucleus [DP-66, DP-67].
import type { DeploymentSourceForm } from './document-types.js';

/** [DP-62] */
export type DeploymentResultStatus =
  | 'SUCCESSFUL'
  | 'FAILED_NO_STATE_CHANGE'
  | 'FAILED_ROLLBACK_NOT_REQUESTED'
  | 'FAILED_ROLLBACK_COMPLETE'
  | 'FAILED_UNABLE_TO_ROLLBACK'
  | 'REJECTED';

/** [DP-63] */
export type JobStatus = 'IN_PROGRESS' | 'SUCCEEDED' | 'FAILED' | 'REJECTED' | 'CANCELED';

/** [DP-01] */
export type DeploymentType = 'IOT_JOBS' | 'SHADOW' | 'LOCAL';

/** The subset of `DeploymentErrorCode` [DP-66] this nucleus raises. */
export type DeploymentErrorCode =
  | 'DEPLOYMENT_FAILURE'
  | 'DEPLOYMENT_REJECTED'
  | 'DEPLOYMENT_DOCUMENT_NOT_VALID'
  | 'NUCLEUS_MISSING_REQUIRED_CAPABILITIES'
  | 'NO_AVAILABLE_COMPONENT_VERSION'
  | 'COMPONENT_VERSION_REQUIREMENTS_NOT_MET'
  | 'COMPONENT_CIRCULAR_DEPENDENCY_ERROR'
  | 'NO_MATCHING_PLATFORM'
  | 'RECIPE_MISSING_MANIFEST'
  | 'UNSUPPORTED_COMPONENT_TYPE'
  | 'COMPONENT_CONFIGURATION_NOT_VALID'
  | 'INVALID_COMPONENT_CONFIGURATION'
  | 'COMPONENT_BROKEN'
  | 'COMPONENT_UPDATE_ERROR'
  | 'DEPLOYMENT_STAGE_TIMEOUT'
  | 'IO_WRITE_ERROR'
  | 'ROLLBACK_FAILURE'
  | 'REJECTED_STALE_DEPLOYMENT'
  | 'COMPONENT_BOOTSTRAP_ERROR'
  | 'COMPONENT_BOOTSTRAP_TIMEOUT'
  | 'NUCLEUS_RESTART_FAILURE'
  | 'MULTIPLE_NUCLEUS_RESOLVED_ERROR'
  | 'LAUNCH_DIRECTORY_CORRUPTED'
  | 'DISK_SPACE_CRITICAL'
  | 'ARTIFACT_DOWNLOAD_ERROR'
  | 'ARTIFACT_CHECKSUM_MISMATCH'
  | 'GREENGRASS_ARTIFACT_SIZE_NOT_FOUND'
  | 'S3_GET_OBJECT_ACCESS_DENIED'
  | 'MISSING_DOCKER_APPLICATION_MANAGER';

/** [DP-67] */
export type DeploymentErrorType =
  | 'NONE'
  | 'UNKNOWN_ERROR'
  | 'SERVER_ERROR'
  | 'NUCLEUS_ERROR'
  | 'CLOUD_SERVICE_ERROR'
  | 'COMPONENT_ERROR'
  | 'AWS_COMPONENT_ERROR'
  | 'USER_COMPONENT_ERROR'
  | 'PERMISSION_ERROR'
  | 'DEVICE_ERROR'
  | 'NETWORK_ERROR'
  | 'DEPENDENCY_ERROR'
  | 'REQUEST_ERROR'
  | 'HTTP_ERROR'
  | 'COMPONENT_RECIPE_ERROR';

/** A failure with the error codes and types it reports [DP-65..DP-67]. */
export class DeploymentError extends Error {
  constructor(
    message: string,
    readonly codes: readonly DeploymentErrorCode[],
    readonly types: readonly DeploymentErrorType[],
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'DeploymentError';
  }
}

export interface DeploymentResult {
  status: DeploymentResultStatus;
  /** Set for every status but SUCCESSFUL. */
  error?: DeploymentError;
}

/** [DP-64] the job-level status a result is published as. */
export function jobStatusOf(status: DeploymentResultStatus): JobStatus {
  if (status === 'SUCCESSFUL') return 'SUCCEEDED';
  if (status === 'REJECTED') return 'REJECTED';
  return 'FAILED';
}

const MAX_DETAIL_CHARS = 1024;

/** `". "`-joined message chain of an error and its causes [DP-65]. */
export function failureCause(err: unknown): string {
  const parts: string[] = [];
  const seen = new Set<unknown>();
  for (let e: unknown = err; e !== undefined && e !== null && !seen.has(e);) {
    seen.add(e);
    if (e instanceof Error) {
      // a wrapper that repeats its cause's message adds nothing
      if (e.message && e.message !== parts.at(-1)) parts.push(e.message);
      e = e.cause;
    } else {
      parts.push(String(e));
      break;
    }
  }
  return parts.join('. ');
}

/**
 * [DP-65] The status-details map of a terminal result: strings only, each truncated to 1024
 * characters; failure keys only on failure or rejection. [DP-67] For LOCAL deployments
 * COMPONENT_ERROR is reported as USER_COMPONENT_ERROR; NONE is filtered out.
 */
export function statusDetails(result: DeploymentResult, form: DeploymentSourceForm): Record<string, string> {
  const out: Record<string, string> = { 'detailed-deployment-status': result.status };
  if (result.status !== 'SUCCESSFUL') {
    const err = result.error;
    const first: DeploymentErrorCode =
      result.status === 'REJECTED' ? 'DEPLOYMENT_REJECTED' : 'DEPLOYMENT_FAILURE';
    const codes = [first, ...(err?.codes ?? []).filter((c) => c !== first)];
    const types = [
      ...new Set(
        (err?.types ?? ['UNKNOWN_ERROR'])
          .filter((t) => t !== 'NONE')
          .map((t) => (form === 'LOCAL' && t === 'COMPONENT_ERROR' ? 'USER_COMPONENT_ERROR' : t)),
      ),
    ];
    out['deployment-failure-cause'] = failureCause(err ?? 'unknown failure');
    out['deployment-error-stack'] = JSON.stringify(codes);
    out['deployment-error-types'] = JSON.stringify(types);
  }
  for (const k of Object.keys(out)) out[k] = out[k].slice(0, MAX_DETAIL_CHARS);
  return out;
}
