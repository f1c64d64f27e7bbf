// The one internal deployment document that the three wire forms normalise to (deployment.md
// section 2): the cloud camelCase configuration [DP-05..DP-18], the nucleus-internal PascalCase form
// [DP-30] and local deployment requests (ipc.md IPC-68).
import type { JsonObject } from '../recipe/index.js';

export type DeploymentSourceForm = 'CLOUD' | 'INTERNAL' | 'LOCAL';

export type FailureHandlingPolicy = 'ROLLBACK' | 'DO_NOTHING';
export type ComponentUpdatePolicyAction = 'NOTIFY_COMPONENTS' | 'SKIP_NOTIFY_COMPONENTS';

/** Per-component configuration update [CF-23]: MERGE object and RESET JSON pointers. */
export interface ConfigurationUpdate {
  merge?: JsonObject;
  reset?: string[];
}

export interface SystemResourceLimits {
  /** KiB [DP-15]. */
  memory?: number;
  cpus?: number;
}

/**
 * A runWith update (recipe `mergeRunWith` semantics): a key absent keeps the current value, `null`
 * removes it (reverting to the default), a value replaces it.
 */
export interface RunWithUpdate {
  posixUser?: string | null;
  windowsUser?: string | null;
  systemResourceLimits?: SystemResourceLimits | null;
}

export interface DeploymentDocument {
  form: DeploymentSourceForm;
  deploymentId: string;
  configurationArn?: string;
  /** [DP-02, DP-23] `thinggroup/<name>`, `thing/<name>` or `LOCAL_DEPLOYMENT`. */
  groupName: string;
  /** [DP-09, DP-10, DP-23] as `thinggroup/<name>`. */
  parentGroupName?: string;
  onBehalfOf?: string;
  /** Epoch milliseconds [DP-11]. */
  timestamp: number;
  requiredCapabilities: string[];
  /**
   * `replace`: `rootComponents` is the group's whole root set (cloud and internal documents);
   * `merge`: add `rootComponents` to the group's current roots and drop `rootComponentsToRemove`
   * (local requests).
   */
  rootsMode: 'replace' | 'merge';
  /** Root component name -> exact version. */
  rootComponents: Record<string, string>;
  rootComponentsToRemove: string[];
  configurationUpdates: Record<string, ConfigurationUpdate>;
  runWith: Record<string, RunWithUpdate>;
  failureHandlingPolicy: FailureHandlingPolicy;
  componentUpdatePolicy: { action: ComponentUpdatePolicyAction; timeoutSeconds: number };
  configurationValidationPolicy: { timeoutSeconds: number };
  /** Local requests: directories to copy into the component store first [DP-35]. */
  recipeDirectoryPath?: string;
  artifactsDirectoryPath?: string;
}

export interface DocumentProblem {
  /** e.g. `components["com.example.Foo"].version`. */
  path: string;
  reason: string;
}

export type DeploymentDocumentResult =
  | { ok: true; document: DeploymentDocument; warnings: DocumentProblem[] }
  | { ok: false; problems: DocumentProblem[] };
