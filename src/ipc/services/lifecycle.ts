// Lifecycle IPC operations: UpdateState [IPC-56, IPC-114], PauseComponent / ResumeComponent
// [IPC-59, IPC-60, IPC-115]. The component side is reached through the small ComponentControl
// interface; `lifecycleControl` adapts a LifecycleManager to it.
import type { LifecycleState } from '../../lifecycle/index.js';
import { resourceNotFoundError, serviceError } from '../errors.js';
import { operationId } from '../model.js';
import type { CallContext, JsonObject, OperationRegistry } from '../operations.js';

export const UPDATE_STATE = operationId('UpdateState');
export const PAUSE_COMPONENT = operationId('PauseComponent');
export const RESUME_COMPONENT = operationId('ResumeComponent');

/** The states a component may report through UpdateState [IPC-56]. */
export type ReportableState = 'RUNNING' | 'ERRORED';
const REPORTABLE: readonly string[] = ['RUNNING', 'ERRORED'];

/** What the lifecycle services need from the lifecycle layer (the nucleus wires it). */
export interface ComponentControl {
  /** Whether a component of that name is known. */
  exists(component: string): boolean;
  /** Its current lifecycle state, undefined when unknown. */
  state(component: string): LifecycleState | undefined;
  /** Applies a self-reported state; false when the transition is not allowed [LC-09]. */
  reportState(component: string, state: ReportableState): boolean;
  /** Freezes every process of the component [LC-80]; rejects when it cannot. */
  pause(component: string): Promise<void>;
  /** Thaws it again [LC-80]. */
  resume(component: string): Promise<void>;
}

/** The part of LifecycleManager that `lifecycleControl` uses. */
export interface SupervisorLookup {
  get(name: string):
    | {
        readonly state: LifecycleState;
        reportState(to: LifecycleState): boolean;
        pause(): Promise<void>;
        resume(): Promise<void>;
      }
    | undefined;
}

/** A ComponentControl over a LifecycleManager (or anything with the same `get`). */
export function lifecycleControl(manager: SupervisorLookup): ComponentControl {
  const need = (component: string) => {
    const sup = manager.get(component);
    if (!sup) throw new Error(`component ${component} is not known to the lifecycle manager`);
    return sup;
  };
  return {
    exists: (c) => manager.get(c) !== undefined,
    state: (c) => manager.get(c)?.state,
    reportState: (c, s) => manager.get(c)?.reportState(s) ?? false,
    pause: (c) => need(c).pause(),
    resume: (c) => need(c).resume(),
  };
}

const RESOURCE_TYPE = 'Component';

/** UpdateState, PauseComponent and ResumeComponent; `register` installs the three operations. */
export class LifecycleService {
  /** Components paused through IPC and not resumed since. */
  private readonly paused = new Set<string>();

  constructor(
    private readonly control: ComponentControl,
    /** Where a dropped report is logged (`service-invalid-state-error`, LC-09). */
    private readonly logError: (message: string) => void = () => undefined,
  ) {}

  register(registry: OperationRegistry): this {
    registry.handle(UPDATE_STATE, (req, ctx) => this.updateState(req, ctx));
    registry.handle(PAUSE_COMPONENT, (req, ctx) => this.pause(req, ctx));
    registry.handle(RESUME_COMPONENT, (req, ctx) => this.resume(req, ctx));
    return this;
  }

  /** Whether the component is currently paused through IPC. */
  isPaused(component: string): boolean {
    return this.paused.has(component);
  }

  /** Forget a pause (the nucleus calls this when the component's processes were stopped). */
  forget(component: string): void {
    this.paused.delete(component);
  }

  private updateState(req: JsonObject, ctx: CallContext): object {
    // Declared errors: ServiceError, ResourceNotFoundError [IPC-31, IPC-56].
    const state = req.state;
    if (typeof state !== 'string' || !REPORTABLE.includes(state))
      throw serviceError(`state must be one of ${REPORTABLE.join(', ')}, got ${JSON.stringify(state)}`);
    const self = ctx.component; // always the caller [IPC-100]
    const current = this.control.state(self);
    if (current === undefined)
      throw resourceNotFoundError(`Component ${self} not found`, RESOURCE_TYPE, self);
    // [LC-09] a transition outside NEW->ERRORED, STARTING->RUNNING/ERRORED, RUNNING->ERRORED,
    // STOPPING->ERRORED is logged and dropped; the call itself succeeds, as on the Java nucleus (a
    // component reporting RUNNING from its `run` step must not get an exception for it).
    if (!this.control.reportState(self, state as ReportableState))
      this.logError(`service-invalid-state-error: ${self} cannot report ${state} while ${current}; dropped`);
    return {};
  }

  private async pause(req: JsonObject, ctx: CallContext): Promise<object> {
    const target = this.target(req, ctx);
    if (this.paused.has(target)) return {};
    const state = this.control.state(target);
    if (state !== 'RUNNING')
      throw serviceError(`componentName: ${target} is ${state}; only a RUNNING component can be paused`);
    try {
      await this.control.pause(target);
    } catch (err) {
      throw serviceError(`Failed to pause ${target}: ${(err as Error).message}`);
    }
    this.paused.add(target);
    return {};
  }

  private async resume(req: JsonObject, ctx: CallContext): Promise<object> {
    const target = this.target(req, ctx);
    if (!this.paused.has(target)) throw serviceError(`componentName: ${target} is not paused`);
    try {
      await this.control.resume(target);
    } catch (err) {
      throw serviceError(`Failed to resume ${target}: ${(err as Error).message}`);
    }
    this.paused.delete(target);
    return {};
  }

  /** Validates componentName, checks it exists, then the lifecycle policy on it [IPC-59, IPC-97]. */
  private target(req: JsonObject, ctx: CallContext): string {
    const target = req.componentName;
    if (typeof target !== 'string' || target === '')
      throw serviceError('componentName is required and must be a non-empty string');
    ctx.authorize(target);
    if (!this.control.exists(target))
      throw resourceNotFoundError(`Component ${target} not found`, RESOURCE_TYPE, target);
    return target;
  }
}
