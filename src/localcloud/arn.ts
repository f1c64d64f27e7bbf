// ARNs of the local cloud's resources and their patterns [CP-53].
import { validationError } from './http/errors.js';

export interface ArnContext {
  partition: string;
  region: string;
  accountId: string;
}

export const ARN_PATTERNS = {
  componentVersion: /^arn:[^:]*:greengrass:[^:]*:(aws|[0-9]+):components:[^:]+:versions:[^:]+$/,
  component: /^arn:[^:]*:greengrass:[^:]*:(aws|[0-9]+):components:[^:]+$/,
  target: /^arn:[^:]*:iot:[^:]*:[0-9]+:(thing|thinggroup)\/.+$/,
  thingGroup: /^arn:[^:]*:iot:[^:]*:[0-9]+:thinggroup\/.+$/,
  iotJob: /^arn:[^:]*:iot:[^:]+:[0-9]+:job\/.+$/,
  tagResource: /^arn:[^:]*:greengrass:[^:]*:(aws|[0-9]+):(components|deployments|coreDevices):.*$/,
} as const;

export function componentArn(ctx: ArnContext, name: string): string {
  return `arn:${ctx.partition}:greengrass:${ctx.region}:${ctx.accountId}:components:${name}`;
}

export function componentVersionArn(ctx: ArnContext, name: string, version: string): string {
  return `${componentArn(ctx, name)}:versions:${version}`;
}

export function deploymentArn(ctx: ArnContext, deploymentId: string): string {
  return `arn:${ctx.partition}:greengrass:${ctx.region}:${ctx.accountId}:deployments:${deploymentId}`;
}

export function coreDeviceArn(ctx: ArnContext, thingName: string): string {
  return `arn:${ctx.partition}:greengrass:${ctx.region}:${ctx.accountId}:coreDevices:${thingName}`;
}

export function iotJobArn(ctx: ArnContext, jobId: string): string {
  return `arn:${ctx.partition}:iot:${ctx.region}:${ctx.accountId}:job/${jobId}`;
}

/** The parts of a component or component-version ARN. */
export interface ParsedComponentArn {
  accountId: string;
  name: string;
  version?: string;
}

function parseComponent(arn: string): ParsedComponentArn {
  const parts = arn.split(':');
  return { accountId: parts[4], name: parts[6], version: parts.length > 8 ? parts[8] : undefined };
}

/** Validates a component-version ARN path label, naming `field` on error. */
export function parseComponentVersionArn(arn: string, field = 'arn'): Required<ParsedComponentArn> {
  if (!ARN_PATTERNS.componentVersion.test(arn))
    throw validationError(
      `${field} is not a valid component version ARN (arn:aws:greengrass:<region>:<account>:components:<name>:versions:<version>): ${arn}`,
      field,
    );
  return parseComponent(arn) as Required<ParsedComponentArn>;
}

/** Validates a component ARN (no version) path label. */
export function parseComponentArn(arn: string, field = 'arn'): ParsedComponentArn {
  if (!ARN_PATTERNS.component.test(arn))
    throw validationError(
      `${field} is not a valid component ARN (arn:aws:greengrass:<region>:<account>:components:<name>): ${arn}`,
      field,
    );
  return parseComponent(arn);
}

export interface ParsedTarget {
  kind: 'thing' | 'thinggroup';
  name: string;
}

export function parseTargetArn(arn: string, field = 'targetArn'): ParsedTarget {
  if (!ARN_PATTERNS.target.test(arn))
    throw validationError(
      `${field} must be an AWS IoT thing or thing group ARN (arn:aws:iot:<region>:<account>:thing/<name> or thinggroup/<name>): ${arn}`,
      field,
    );
  const resource = arn.split(':').slice(5).join(':');
  const slash = resource.indexOf('/');
  return { kind: resource.slice(0, slash) as ParsedTarget['kind'], name: resource.slice(slash + 1) };
}

export function checkThingGroupArn(arn: string, field = 'thingGroupArn'): string {
  if (!ARN_PATTERNS.thingGroup.test(arn))
    throw validationError(
      `${field} must be an AWS IoT thing group ARN (arn:aws:iot:<region>:<account>:thinggroup/<name>): ${arn}`,
      field,
    );
  return arn.split(':').slice(5).join(':').slice('thinggroup/'.length);
}
