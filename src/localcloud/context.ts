// What every operation handler gets: the store, the ARN context, the clock, the artifact store and the
// event bus the device-facing side subscribes to.
import { createHash } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { ArnContext } from './arn.js';
import type { ArtifactStore } from './artifact-store.js';
import { conflict } from './http/errors.js';
import type { DeploymentRecord, LocalCloudStore } from './store/index.js';

/** Events for the later device-facing side (jobs, shadows): CP-63, CP-64, CL-78. */
export interface LocalCloudEventMap {
  deploymentCreated: [deployment: DeploymentRecord, superseded: DeploymentRecord | undefined];
  deploymentCanceled: [deployment: DeploymentRecord];
  connectivityInfoUpdated: [thingName: string, version: number];
}

export class LocalCloudEvents extends EventEmitter<LocalCloudEventMap> {}

export interface CloudContext {
  store: LocalCloudStore;
  arn: ArnContext;
  /** Epoch milliseconds. */
  now(): number;
  artifacts: ArtifactStore;
  events: LocalCloudEvents;
  /** Base URL of this server, for the artifact download URLs it hands out. */
  baseUrl(): string;
  /** Resolves once every REQUESTED component version has been checked (DEPLOYABLE or FAILED). */
  settleComponents(): Promise<void>;
}

/** Epoch seconds, the wire form of timestamps [CP-05]. */
export function epochSeconds(ms: number): number {
  return ms / 1000;
}

function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (typeof v === 'object' && v !== null)
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  return JSON.stringify(v) ?? 'null';
}

/**
 * [CP-08]: runs `create` once per clientToken, in one transaction with its writes; a repeat with the same
 * request returns the first result, a repeat with a different request is a ConflictException.
 */
export function idempotent<T>(
  ctx: CloudContext,
  operation: string,
  token: string | undefined,
  body: Record<string, unknown>,
  create: () => T,
): T {
  return ctx.store.transaction(() => {
    if (token === undefined) return create();
    const rest = { ...body };
    delete rest.clientToken;
    const hash = createHash('sha256').update(canonical(rest)).digest('hex');
    const seen = ctx.store.idempotency.lookup(operation, token, hash);
    if (seen.kind === 'replay') return seen.response as T;
    if (seen.kind === 'mismatch')
      throw conflict(
        `clientToken ${token} was already used for a different ${operation} request`,
        token,
        'clientToken',
      );
    const result = create();
    ctx.store.idempotency.record(operation, token, hash, result, ctx.now());
    return result;
  });
}

/** Drops undefined members so absent optional members are omitted [CP-62]. */
export function compact<T extends Record<string, unknown>>(obj: T): T {
  for (const k of Object.keys(obj)) if (obj[k] === undefined) delete obj[k];
  return obj;
}
