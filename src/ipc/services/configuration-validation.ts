// Dynamic configuration validation [IPC-64, IPC-65, IPC-112]: components subscribe with
// SubscribeToValidateConfigurationUpdates and answer SendConfigurationValidityReport; the deployment
// engine calls `validate` for each running component whose configuration a deployment changes.
import { invalidArgumentsError } from '../errors.js';
import { operationId } from '../model.js';
import type { CallContext, JsonObject, OperationRegistry, ServerStream } from '../operations.js';
import type { UpdateTimers } from './lifecycle-updates.js';

export const SUBSCRIBE_TO_VALIDATE_CONFIGURATION_UPDATES = operationId(
  'SubscribeToValidateConfigurationUpdates',
);
export const SEND_CONFIGURATION_VALIDITY_REPORT = operationId('SendConfigurationValidityReport');

export type ValidationStatus = 'ACCEPTED' | 'REJECTED' | 'NO_SUBSCRIBER' | 'TIMEOUT';

export interface ValidationResult {
  status: ValidationStatus;
  /** The component's message (ACCEPTED/REJECTED) or why no answer came. */
  message?: string;
}

interface Pending {
  resolve: (r: ValidationResult) => void;
  timer: unknown;
}

const REPORT_STATUSES: readonly string[] = ['ACCEPTED', 'REJECTED'];
const isObject = (v: unknown): v is JsonObject => !!v && typeof v === 'object' && !Array.isArray(v);

const defaultTimers: UpdateTimers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

export class ConfigurationValidator {
  /** One listener per component; a later subscription does not replace it [IPC-112 step 1]. */
  private readonly listeners = new Map<string, ServerStream>();
  /** `<component>\n<deploymentId>` -> the waiting validate call. */
  private readonly pending = new Map<string, Pending>();
  private readonly timers: UpdateTimers;

  constructor(options: { timers?: UpdateTimers } = {}) {
    this.timers = options.timers ?? defaultTimers;
  }

  register(registry: OperationRegistry): this {
    registry.stream(SUBSCRIBE_TO_VALIDATE_CONFIGURATION_UPDATES, (_req, ctx, stream) =>
      this.subscribe(ctx, stream),
    );
    registry.handle(SEND_CONFIGURATION_VALIDITY_REPORT, (req, ctx) => this.report(req, ctx));
    return this;
  }

  /** Whether the component has a validation listener. */
  hasSubscriber(component: string): boolean {
    return this.listeners.has(component);
  }

  /**
   * Sends `{validateConfigurationUpdateEvent:{deploymentId, configuration}}` to the component's
   * listener and waits up to `timeoutMs` for its report [IPC-112]. NO_SUBSCRIBER when it has none.
   * A second call for the same (component, deploymentId) supersedes the first (which gets TIMEOUT).
   */
  validate(
    component: string,
    proposedConfiguration: JsonObject,
    deploymentId: string,
    timeoutMs: number,
  ): Promise<ValidationResult> {
    const listener = this.listeners.get(component);
    if (!listener) return Promise.resolve({ status: 'NO_SUBSCRIBER' });
    const key = `${component}\n${deploymentId}`;
    this.settle(key, { status: 'TIMEOUT', message: 'superseded by a newer validation request' });
    return new Promise((resolve) => {
      const timer = this.timers.setTimeout(
        () =>
          this.settle(key, {
            status: 'TIMEOUT',
            message: `${component} did not report on deployment ${deploymentId} within ${timeoutMs} ms`,
          }),
        timeoutMs,
      );
      this.pending.set(key, { resolve, timer });
      const sent = listener.send({
        validateConfigurationUpdateEvent: { deploymentId, configuration: proposedConfiguration },
      });
      if (!sent)
        this.settle(key, {
          status: 'NO_SUBSCRIBER',
          message: `the validation event could not be sent to ${component}`,
        });
    });
  }

  private settle(key: string, result: ValidationResult): boolean {
    const p = this.pending.get(key);
    if (!p) return false;
    this.pending.delete(key);
    this.timers.clearTimeout(p.timer);
    p.resolve(result);
    return true;
  }

  private subscribe(ctx: CallContext, stream: ServerStream): object {
    const self = ctx.component;
    if (!this.listeners.has(self)) {
      this.listeners.set(self, stream);
      stream.onClose(() => {
        if (this.listeners.get(self) === stream) this.listeners.delete(self);
      });
    }
    return {};
  }

  private report(req: JsonObject, ctx: CallContext): object {
    // Declared errors: InvalidArgumentsError, ServiceError [IPC-65].
    const report = req.configurationValidityReport;
    if (!isObject(report)) throw invalidArgumentsError('configurationValidityReport is required (an object)');
    const { status, deploymentId, message } = report;
    if (typeof status !== 'string' || !REPORT_STATUSES.includes(status))
      throw invalidArgumentsError(
        `configurationValidityReport.status must be ACCEPTED or REJECTED, got ${JSON.stringify(status)}`,
      );
    if (typeof deploymentId !== 'string' || deploymentId === '')
      throw invalidArgumentsError(
        'configurationValidityReport.deploymentId is required (a non-empty string)',
      );
    if (message !== undefined && message !== null && typeof message !== 'string')
      throw invalidArgumentsError('configurationValidityReport.message must be a string');
    const settled = this.settle(`${ctx.component}\n${deploymentId}`, {
      status: status as 'ACCEPTED' | 'REJECTED',
      ...(typeof message === 'string' ? { message } : {}),
    });
    if (!settled) throw invalidArgumentsError('Validation request either timed out or was never made'); // [IPC-112]
    return {};
  }
}
