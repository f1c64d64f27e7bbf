// Device shadows over MQTT (the AWS IoT shadow topics): get/update/delete with accepted/rejected replies,
// update/delta and update/documents, versions for optimistic locking. Two shadows have cloud-side meaning:
// the named shadow AWSManagedGreengrassV2Deployment carries thing deployments [DP-77]..[DP-83], [CP-64],
// and the classic shadow of `<core>-gci` is bumped when connectivity info changes [CL-77], [CL-78].
import { parseTargetArn } from '../arn.js';
import type { CloudContext } from '../context.js';
import type { DeploymentRecord, EffectiveDeploymentStatus, ShadowRecord } from '../store/index.js';
import type { DeviceBroker } from './broker.js';
import { embeddedDeploymentDocument, SHADOW_DOCUMENT_LIMIT } from './deployment-document.js';
import { applyShadowUpdate, deltaOf, ShadowError, type ShadowUpdateResult } from './shadow-document.js';

export const DEPLOYMENT_SHADOW = 'AWSManagedGreengrassV2Deployment';
const TOPIC = /^\$aws\/things\/([^/]+)\/shadow(?:\/name\/([^/]+))?\/(get|update|delete)$/;

type Obj = Record<string, unknown>;
const seconds = (ms: number) => Math.floor(ms / 1000);

function shadowTopic(thing: string, name: string): string {
  return name === '' ? `$aws/things/${thing}/shadow` : `$aws/things/${thing}/shadow/name/${name}`;
}

export class ShadowService {
  constructor(
    private readonly ctx: CloudContext,
    private readonly broker: DeviceBroker,
    private readonly log: (msg: string) => void,
  ) {}

  /** A thing-target deployment: desired = {fleetConfig, desiredStatus} [DP-80], [CP-64]. */
  async deploymentCreated(d: DeploymentRecord): Promise<void> {
    const t = parseTargetArn(d.targetArn);
    if (t.kind !== 'thing') return;
    const doc = embeddedDeploymentDocument(this.ctx.arn, d, SHADOW_DOCUMENT_LIMIT);
    this.ctx.store.transaction(() =>
      this.ctx.store.coreDevices.recordEffectiveDeployment(t.name, {
        deploymentId: d.deploymentId,
        deploymentName: d.deploymentName ?? d.deploymentId,
        targetArn: d.targetArn,
        coreDeviceExecutionStatus: 'QUEUED',
        createdMs: d.createdMs,
        modifiedMs: this.ctx.now(),
      }),
    );
    await this.cloudUpdate(t.name, DEPLOYMENT_SHADOW, {
      desired: { fleetConfig: JSON.stringify(doc), desiredStatus: 'IN_PROGRESS' },
    });
  }

  async deploymentCanceled(d: DeploymentRecord): Promise<void> {
    const t = parseTargetArn(d.targetArn);
    if (t.kind !== 'thing') return;
    await this.cloudUpdate(t.name, DEPLOYMENT_SHADOW, { desired: { desiredStatus: 'CANCELED' } });
  }

  /** [CL-78]: bump desired.version of the `<core>-gci` classic shadow. */
  async connectivityInfoUpdated(thing: string, version: number): Promise<void> {
    await this.cloudUpdate(`${thing}-gci`, '', { desired: { version: String(version) } });
  }

  get(thing: string, name: string): ShadowRecord | undefined {
    return this.ctx.store.shadows.get(thing, name);
  }

  private async cloudUpdate(thing: string, name: string, state: Obj): Promise<void> {
    const result = this.ctx.store.transaction(() => this.write(thing, name, { state }));
    await this.publishUpdate(thing, name, result, undefined);
  }

  private write(thing: string, name: string, req: Obj): ShadowUpdateResult {
    const current = this.ctx.store.shadows.get(thing, name);
    const result = applyShadowUpdate(current, thing, name, req, this.ctx.now());
    this.ctx.store.shadows.put(result.next);
    return result;
  }

  private async publishUpdate(thing: string, name: string, r: ShadowUpdateResult, clientToken?: string) {
    const base = shadowTopic(thing, name);
    const token = clientToken !== undefined ? { clientToken } : {};
    const timestamp = seconds(r.next.updatedMs);
    await this.broker.publish(`${base}/update/accepted`, {
      state: r.written.state,
      metadata: r.written.metadata,
      version: r.next.version,
      timestamp,
      ...token,
    });
    await this.broker.publish(`${base}/update/documents`, {
      previous: r.previous
        ? { state: r.previous.state, metadata: r.previous.metadata, version: r.previous.version }
        : null,
      current: { state: r.next.state, metadata: r.next.metadata, version: r.next.version },
      timestamp,
      ...token,
    });
    const delta = deltaOf(r.next.state);
    if (delta !== undefined && r.written.state.desired !== undefined)
      await this.broker.publish(`${base}/update/delta`, {
        state: delta,
        metadata: r.next.metadata.desired ?? {},
        version: r.next.version,
        timestamp,
        ...token,
      });
  }

  /** Handles a device publish; returns false if the topic is not a shadow request. */
  handle(thing: string, topic: string, payload: Buffer): boolean {
    const m = TOPIC.exec(topic);
    if (!m) return false;
    const [, topicThing, rawName, op] = m;
    const name = rawName ?? '';
    const base = shadowTopic(topicThing, name);
    let clientToken: string | undefined;
    const reject = (code: number, message: string) =>
      this.broker.publish(`${base}/${op}/rejected`, {
        code,
        message,
        timestamp: seconds(this.ctx.now()),
        ...(clientToken !== undefined ? { clientToken } : {}),
      });
    const done = (p: Promise<void>) =>
      p.catch((e: unknown) => this.log(`shadow: reply on ${base}/${op} failed: ${String(e)}`));
    let req: Obj = {};
    if (payload.length > 0) {
      try {
        const v = JSON.parse(payload.toString('utf8')) as unknown;
        if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error('not an object');
        req = v as Obj;
      } catch {
        done(reject(400, 'Invalid JSON'));
        return true;
      }
    }
    if (typeof req.clientToken === 'string') clientToken = req.clientToken;
    const current = this.ctx.store.shadows.get(topicThing, name);
    if (op === 'get') {
      if (!current) done(reject(404, `No shadow exists with name: '${topicThing}${name ? `~${name}` : ''}'`));
      else {
        const delta = deltaOf(current.state);
        done(
          this.broker.publish(`${base}/get/accepted`, {
            state: { ...current.state, ...(delta ? { delta } : {}) },
            metadata: current.metadata,
            version: current.version,
            timestamp: seconds(this.ctx.now()),
            ...(clientToken !== undefined ? { clientToken } : {}),
          }),
        );
      }
      return true;
    }
    if (op === 'delete') {
      if (!current) done(reject(404, `No shadow exists with name: '${topicThing}${name ? `~${name}` : ''}'`));
      else {
        this.ctx.store.shadows.delete(topicThing, name);
        done(
          this.broker.publish(`${base}/delete/accepted`, {
            version: current.version,
            timestamp: seconds(this.ctx.now()),
            ...(clientToken !== undefined ? { clientToken } : {}),
          }),
        );
      }
      return true;
    }
    let result: ShadowUpdateResult;
    try {
      result = this.ctx.store.transaction(() => {
        const r = this.write(topicThing, name, req);
        if (name === DEPLOYMENT_SHADOW && r.written.state.reported) this.recordReported(topicThing, r.next);
        return r;
      });
    } catch (e) {
      if (!(e instanceof ShadowError)) throw e;
      done(reject(e.code, e.message));
      return true;
    }
    done(this.publishUpdate(topicThing, name, result, clientToken));
    return true;
  }

  /** The device's reported deployment status becomes its effective deployment [DP-82], (CL-53). */
  private recordReported(thing: string, shadow: ShadowRecord): void {
    const reported = shadow.state.reported ?? {};
    const arn = reported.fleetConfigurationArnForStatus;
    const status = reported.status;
    if (typeof arn !== 'string' || typeof status !== 'string') return;
    const m = /:configuration:(thing\/.+):(\d+)$/.exec(arn);
    if (!m) return;
    const targetArn = `arn:${this.ctx.arn.partition}:iot:${this.ctx.arn.region}:${this.ctx.arn.accountId}:${m[1]}`;
    const d = this.ctx.store.deployments
      .list({ targetArn, latestOnly: false })
      .find((x) => x.revisionId === m[2]);
    if (!d) {
      this.log(`shadow: ${thing} reported status for unknown configuration ${arn}`);
      return;
    }
    const map: Record<string, EffectiveDeploymentStatus> = {
      SUCCEEDED: 'COMPLETED',
      IN_PROGRESS: 'IN_PROGRESS',
      FAILED: 'FAILED',
      CANCELED: 'CANCELED',
      REJECTED: 'REJECTED',
    };
    const effective = map[status];
    if (!effective) return;
    const details = (reported.statusDetails ?? {}) as Obj;
    const list = (v: unknown) => (Array.isArray(v) ? v.map(String) : undefined);
    const errorStack = list(details.errorStack);
    const errorTypes = list(details.errorTypes);
    this.ctx.store.coreDevices.recordEffectiveDeployment(thing, {
      deploymentId: d.deploymentId,
      deploymentName: d.deploymentName ?? d.deploymentId,
      targetArn: d.targetArn,
      coreDeviceExecutionStatus: effective,
      reason:
        typeof details.failureCause === 'string' && details.failureCause !== ''
          ? details.failureCause
          : typeof details.detailedStatus === 'string'
            ? details.detailedStatus
            : undefined,
      createdMs: d.createdMs,
      modifiedMs: this.ctx.now(),
      statusDetails: errorStack?.length || errorTypes?.length ? { errorStack, errorTypes } : undefined,
    });
  }
}
