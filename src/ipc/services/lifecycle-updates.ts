// Component update notifications: SubscribeToComponentUpdates [IPC-57] and DeferComponentUpdate
// [IPC-58], with the deployment engine's side (`preUpdate`, `postUpdate`) [IPC-113].
import { invalidArgumentsError, resourceNotFoundError, serviceError } from '../errors.js';
import { operationId } from '../model.js';
import type { CallContext, JsonObject, OperationRegistry, ServerStream } from '../operations.js';

export const SUBSCRIBE_TO_COMPONENT_UPDATES = operationId('SubscribeToComponentUpdates');
export const DEFER_COMPONENT_UPDATE = operationId('DeferComponentUpdate');

/** One component's answer to a PreComponentUpdateEvent. */
export interface UpdateDeferral {
  component: string;
  recheckAfterMs: number;
  message: string;
}

export interface PreUpdateResult {
  /** The largest deferral asked for (recheckAfterMs > 0), absent when every answer said ready or none came. */
  deferredBy?: UpdateDeferral;
  /** Components that were sent the event. */
  notified: string[];
  /** Components that did not answer within the timeout (the deployment proceeds for them, DP-50). */
  unanswered: string[];
}

export interface UpdateTimers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

const defaultTimers: UpdateTimers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

interface Pending {
  deploymentId: string;
  waiting: Set<string>;
  replies: UpdateDeferral[];
  done: () => void;
}

export interface ComponentUpdateNotifierOptions {
  /** Whether a caller is a known component (ResourceNotFoundError otherwise); default: all are. */
  exists?: (component: string) => boolean;
  timers?: UpdateTimers;
}

/**
 * Holds the SubscribeToComponentUpdates streams and runs one pre-update round at a time for the
 * deployment engine: send, collect DeferComponentUpdate answers until all notified components
 * answered or the timeout passed, report the largest deferral. Re-sending after the deferral is the
 * engine's loop, as is waiting between rounds.
 */
export class ComponentUpdateNotifier {
  private readonly subscribers = new Map<string, Set<ServerStream>>();
  private pending: Pending | undefined;
  private readonly timers: UpdateTimers;

  constructor(private readonly options: ComponentUpdateNotifierOptions = {}) {
    this.timers = options.timers ?? defaultTimers;
  }

  register(registry: OperationRegistry): this {
    registry.stream(SUBSCRIBE_TO_COMPONENT_UPDATES, (_req, ctx, stream) => this.subscribe(ctx, stream));
    registry.handle(DEFER_COMPONENT_UPDATE, (req, ctx) => this.defer(req, ctx));
    return this;
  }

  /** Components with at least one open subscription. */
  subscribedComponents(): string[] {
    return [...this.subscribers.keys()];
  }

  /**
   * Sends `{preUpdateEvent:{deploymentId,isGgcRestarting}}` to every subscriber and collects the
   * answers for up to `timeoutMs` [IPC-113]. A round already in progress is superseded (it resolves
   * with what it has).
   */
  preUpdate(deploymentId: string, timeoutMs: number, isGgcRestarting = false): Promise<PreUpdateResult> {
    this.pending?.done();
    const notified: string[] = [];
    for (const [component, streams] of this.subscribers) {
      let sent = false;
      for (const s of streams) sent = s.send({ preUpdateEvent: { deploymentId, isGgcRestarting } }) || sent;
      if (sent) notified.push(component);
    }
    if (notified.length === 0) return Promise.resolve({ notified, unanswered: [] });
    return new Promise((resolve) => {
      const round: Pending = {
        deploymentId,
        waiting: new Set(notified),
        replies: [],
        done: () => {
          if (this.pending !== round) return;
          this.pending = undefined;
          this.timers.clearTimeout(timer);
          const deferrals = round.replies.filter((r) => r.recheckAfterMs > 0);
          const deferredBy = deferrals.reduce<UpdateDeferral | undefined>(
            (max, r) => (!max || r.recheckAfterMs > max.recheckAfterMs ? r : max),
            undefined,
          );
          resolve({
            ...(deferredBy ? { deferredBy } : {}),
            notified,
            unanswered: [...round.waiting],
          });
        },
      };
      this.pending = round;
      const timer = this.timers.setTimeout(() => round.done(), timeoutMs);
    });
  }

  /** Sends `{postUpdateEvent:{deploymentId}}` to every subscriber; returns how many streams took it. */
  postUpdate(deploymentId: string): number {
    let n = 0;
    for (const streams of this.subscribers.values())
      for (const s of streams) if (s.send({ postUpdateEvent: { deploymentId } })) n++;
    return n;
  }

  private subscribe(ctx: CallContext, stream: ServerStream): object {
    const self = ctx.component;
    if (this.options.exists && !this.options.exists(self))
      throw resourceNotFoundError(`Component ${self} not found`, 'Component', self);
    const set = this.subscribers.get(self) ?? new Set<ServerStream>();
    this.subscribers.set(self, set);
    set.add(stream);
    stream.onClose(() => {
      set.delete(stream);
      if (set.size === 0 && this.subscribers.get(self) === set) this.subscribers.delete(self);
    });
    return {};
  }

  private defer(req: JsonObject, ctx: CallContext): object {
    const deploymentId = req.deploymentId;
    if (typeof deploymentId !== 'string' || deploymentId === '')
      throw invalidArgumentsError('deploymentId is required and must be a non-empty string');
    const message = req.message;
    if (message !== undefined && message !== null && typeof message !== 'string')
      throw invalidArgumentsError('message must be a string');
    const recheck = req.recheckAfterMs ?? 0;
    if (typeof recheck !== 'number' || !Number.isSafeInteger(recheck) || recheck < 0)
      throw invalidArgumentsError('recheckAfterMs must be a non-negative integer');
    const self = ctx.component;
    if (!this.subscribers.has(self))
      throw invalidArgumentsError('Component is not subscribed to component update events'); // [IPC-113]
    const round = this.pending;
    if (!round || round.deploymentId !== deploymentId || !round.waiting.has(self))
      throw serviceError('Time limit to respond to PreComponentUpdateEvent exceeded');
    round.waiting.delete(self);
    round.replies.push({ component: self, recheckAfterMs: recheck, message: message ?? '' });
    if (round.waiting.size === 0) round.done();
    return {};
  }
}
