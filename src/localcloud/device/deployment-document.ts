// The deployment document a device receives (deployment.md section 2.1, control-plane.md CP-65), built from
// a CreateDeployment record: policies flattened, merge strings parsed, epoch-ms creationTimestamp, and the
// required capabilities. Above the job (31 KB) or shadow (7 KB) threshold the embedded document is
// truncated to names and versions and carries LARGE_CONFIGURATION [DP-27], [DP-28]; the full one is served
// through the large-configuration route (DESIGN.md, CL-33).
import type { ArnContext } from '../arn.js';
import { parseTargetArn } from '../arn.js';
import type { DeploymentRecord } from '../store/index.js';

type Obj = Record<string, unknown>;

export const JOB_DOCUMENT_LIMIT = 31 * 1024;
export const SHADOW_DOCUMENT_LIMIT = 7 * 1024;

export function configurationArn(arn: ArnContext, d: DeploymentRecord): string {
  const t = parseTargetArn(d.targetArn);
  return `arn:${arn.partition}:greengrass:${arn.region}:${arn.accountId}:configuration:${t.kind}/${t.name}:${d.revisionId}`;
}

/** The complete document [DP-05]..[DP-18]. */
export function fullDeploymentDocument(arn: ArnContext, d: DeploymentRecord): Obj {
  const components: Obj = {};
  let limits = false;
  for (const [name, raw] of Object.entries(d.spec.components ?? {})) {
    const spec = raw as Obj;
    const c: Obj = { version: spec.componentVersion };
    const cu = spec.configurationUpdate as { merge?: string; reset?: string[] } | undefined;
    if (cu) {
      c.configurationUpdate = {
        ...(cu.merge !== undefined ? { merge: JSON.parse(cu.merge) as unknown } : {}),
        ...(cu.reset !== undefined ? { reset: cu.reset } : {}),
      };
    }
    const runWith = spec.runWith as Obj | undefined;
    if (runWith) {
      c.runWith = runWith;
      if (runWith.systemResourceLimits !== undefined) limits = true;
    }
    components[name] = c;
  }
  const p = (d.spec.deploymentPolicies ?? {}) as {
    failureHandlingPolicy?: string;
    componentUpdatePolicy?: { timeoutInSeconds?: number; action?: string };
    configurationValidationPolicy?: { timeoutInSeconds?: number };
  };
  const capabilities: string[] = [];
  if (limits) capabilities.push('LINUX_RESOURCE_LIMITS');
  if (d.parentTargetArn !== undefined) capabilities.push('SUB_DEPLOYMENTS');
  const doc: Obj = {
    deploymentId: d.deploymentId,
    configurationArn: configurationArn(arn, d),
    ...(d.deploymentName !== undefined ? { deploymentName: d.deploymentName } : {}),
    schemaDate: '2021-05-17',
    creationTimestamp: d.createdMs,
    components,
    failureHandlingPolicy: p.failureHandlingPolicy ?? 'ROLLBACK',
    componentUpdatePolicy: {
      timeout: p.componentUpdatePolicy?.timeoutInSeconds ?? 60,
      action: p.componentUpdatePolicy?.action ?? 'NOTIFY_COMPONENTS',
    },
    configurationValidationPolicy: { timeout: p.configurationValidationPolicy?.timeoutInSeconds ?? 60 },
  };
  if (capabilities.length > 0) doc.requiredCapabilities = capabilities;
  if (d.parentTargetArn !== undefined) {
    doc.parentTargetArn = d.parentTargetArn;
    doc.onBehalfOf = d.targetArn;
  }
  return doc;
}

/** The document to embed in a job or shadow: the full one, or a truncated LARGE_CONFIGURATION one. */
export function embeddedDeploymentDocument(arn: ArnContext, d: DeploymentRecord, limitBytes: number): Obj {
  const full = fullDeploymentDocument(arn, d);
  if (Buffer.byteLength(JSON.stringify(full)) <= limitBytes) return full;
  const components: Obj = {};
  for (const [name, c] of Object.entries(full.components as Record<string, Obj>))
    components[name] = { version: c.version };
  const caps = new Set((full.requiredCapabilities as string[] | undefined) ?? []);
  caps.add('LARGE_CONFIGURATION');
  return { ...full, components, requiredCapabilities: [...caps] };
}
