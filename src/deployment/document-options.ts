// Options and defaults shared by the deployment document parsers (deployment.md section 2).

export interface ParseDeploymentOptions {
  /**
   * The id the transport knows (IoT job id, local request id), used when the document carries none.
   * A document's own id wins.
   */
  deploymentId?: string;
  /** The group the transport implies (e.g. `thing/<thingName>` for shadow deployments), used when
   * the document's configurationArn does not name one. */
  groupName?: string;
  /** Epoch ms used as the timestamp of a document that has none (inject the clock). */
  now?: number;
  /** Force a form instead of detecting it from the field names. */
  form?: 'CLOUD' | 'INTERNAL' | 'LOCAL';
  /** Cap on the document text in bytes; default 10 MiB [DP-26]. */
  maxBytes?: number;
}

export const FAILURE_HANDLING_POLICIES = ['ROLLBACK', 'DO_NOTHING'] as const;
export const COMPONENT_UPDATE_ACTIONS = ['NOTIFY_COMPONENTS', 'SKIP_NOTIFY_COMPONENTS'] as const;
/** [DP-17] */
export const DEFAULT_COMPONENT_UPDATE_TIMEOUT_SECONDS = 60;
/** [DP-18, DP-22] policy object present without timeout. */
export const DEFAULT_VALIDATION_TIMEOUT_SECONDS = 60;
/** [DP-22] policy object absent, and local deployments. */
export const NUCLEUS_DEFAULT_VALIDATION_TIMEOUT_SECONDS = 20;
/** [DP-02] */
export const LOCAL_DEPLOYMENT_GROUP_NAME = 'LOCAL_DEPLOYMENT';
/** [DP-24] */
export const SUPPORTED_CAPABILITIES = [
  'LARGE_CONFIGURATION',
  'LINUX_RESOURCE_LIMITS',
  'SUB_DEPLOYMENTS',
] as const;
/** [DP-26] */
export const MAX_DEPLOYMENT_DOCUMENT_BYTES = 10 * 1024 * 1024;
