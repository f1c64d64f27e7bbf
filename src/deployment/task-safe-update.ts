// Safe update (deployment.md section 5): notify subscribed components before the update and honour
// their deferrals [DP-47, DP-48], ask running components to validate a changed configuration
// [DP-49], following DESIGN's decision on DP-50: no answer in time = proceed; REJECTED = fail.
import type { JsonObject, JsonValue } from '../config/index.js';
import type { DeploymentDocument } from './document-types.js';
import { DeploymentError } from './result.js';
import { withinOrElse } from './task-stage.js';
import type { TaskContext } from './task.js';

export type ValidityReport = { status: 'ACCEPTED' } | { status: 'REJECTED'; message?: string };

/** Implemented by the IPC side (SubscribeToComponentUpdates, SubscribeToValidateConfigurationUpdates). */
export interface SafeUpdateHooks {
  /**
   * Sends PreComponentUpdateEvent and collects DeferComponentUpdate replies for up to `timeoutMs`;
   * resolves with the largest `recheckAfterMs` (0 or absent = ready) [DP-47].
   */
  preUpdate(deploymentId: string, timeoutMs: number): Promise<{ recheckAfterMs?: number } | void>;
  /** Resolves with the component's report; undefined when it has no validation subscriber. */
  validateConfiguration(
    component: string,
    configuration: JsonObject,
    deploymentId: string,
    timeoutMs: number,
  ): Promise<ValidityReport | undefined>;
  /** Sends PostComponentUpdateEvent [DP-47 step 4]. */
  postUpdate(deploymentId: string): Promise<void>;
}

/** Upper bound on the total deferral a deployment accepts (DESIGN: no stage can hang). */
export const MAX_TOTAL_DEFERRAL_MS = 60 * 60_000;

const asMap = (v: JsonValue | undefined): JsonObject | undefined =>
  v !== null && typeof v === 'object' && !Array.isArray(v) ? v : undefined;

export async function runSafeUpdate(
  ctx: TaskContext,
  doc: DeploymentDocument,
  current: JsonObject,
  target: JsonObject,
): Promise<void> {
  const hooks = ctx.hooks;
  if (!hooks) return;
  // [DP-48] SKIP_NOTIFY_COMPONENTS and local deployments skip notification.
  if (doc.form !== 'LOCAL' && doc.componentUpdatePolicy.action === 'NOTIFY_COMPONENTS') {
    const timeoutMs = doc.componentUpdatePolicy.timeoutSeconds * 1000;
    let deferred = 0;
    for (;;) {
      const answer = await withinOrElse(
        timeoutMs,
        () => hooks.preUpdate(doc.deploymentId, timeoutMs),
        undefined,
      );
      const wait = answer?.recheckAfterMs ?? 0;
      if (wait <= 0 || deferred >= MAX_TOTAL_DEFERRAL_MS) break;
      const step = Math.min(wait, MAX_TOTAL_DEFERRAL_MS - deferred);
      deferred += step;
      ctx.log?.(`deployment ${doc.deploymentId}: deferred by a component for ${step} ms`);
      await new Promise((r) => setTimeout(r, step));
    }
  }
  // [DP-49 step 1] cloud deployments that change a running component's configuration, same version.
  if (doc.form === 'LOCAL') return;
  const timeoutMs = doc.configurationValidationPolicy.timeoutSeconds * 1000;
  for (const [name, t] of Object.entries(target)) {
    const before = asMap(current[name]);
    const after = asMap(t);
    if (!before || !after || before.version !== after.version) continue;
    if (JSON.stringify(before.configuration ?? {}) === JSON.stringify(after.configuration ?? {})) continue;
    if (ctx.states.get(name)?.status().state !== 'RUNNING') continue;
    const config = asMap(after.configuration) ?? {};
    const report = await withinOrElse(
      timeoutMs,
      () => hooks.validateConfiguration(name, config, doc.deploymentId, timeoutMs),
      undefined,
    );
    if (report?.status === 'REJECTED')
      throw new DeploymentError(
        `${name} rejected the configuration: ${report.message ?? '(no message)'}`,
        ['COMPONENT_CONFIGURATION_NOT_VALID'],
        ['COMPONENT_ERROR'],
      );
  }
}
