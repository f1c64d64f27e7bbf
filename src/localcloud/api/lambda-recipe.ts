// CreateComponentVersion from `lambdaFunction` (LambdaFunctionRecipeSource): the recipe is generated from
// the function's ARN and parameters. The local cloud cannot fetch the function's code from AWS Lambda, so
// the recipe names one artifact, greengrass:lambda-artifact.zip, which must be uploaded to the local
// artifact store for the version to become DEPLOYABLE.
import { validationError } from '../http/errors.js';
import {
  isObject,
  optionalArray,
  optionalBoolean,
  optionalEnum,
  optionalInteger,
  optionalObject,
  optionalString,
  optionalStringMap,
  requiredString,
} from '../validate.js';

type Obj = Record<string, unknown>;

const LAMBDA_ARN = /^arn:[^:]*:lambda:[a-z0-9-]*:[0-9]{12}:function:([^:]+):([^:]+)$/;
export const LAMBDA_ARTIFACT_URI = 'greengrass:lambda-artifact.zip';

function checkList(v: unknown, name: string, each: (item: Obj, f: string) => void): void {
  optionalArray(v, name)?.forEach((item, i) => {
    const f = `${name}[${i}]`;
    if (!isObject(item)) throw validationError(`${f} must be an object`, f);
    each(item, f);
  });
}

function checkLambdaParameters(p: Obj, name: string): void {
  checkList(p.eventSources, `${name}.eventSources`, (e, f) => {
    requiredString(e, 'topic', {}, `${f}.topic`);
    if (e.type === undefined) throw validationError(`${f}.type is required`, `${f}.type`);
    optionalEnum(e.type, `${f}.type`, ['PUB_SUB', 'IOT_CORE']);
  });
  for (const k of [
    'maxQueueSize',
    'maxInstancesCount',
    'maxIdleTimeInSeconds',
    'timeoutInSeconds',
    'statusTimeoutInSeconds',
  ])
    optionalInteger(p[k], `${name}.${k}`);
  optionalBoolean(p.pinned, `${name}.pinned`);
  optionalEnum(p.inputPayloadEncodingType, `${name}.inputPayloadEncodingType`, ['json', 'binary']);
  optionalArray(p.execArgs, `${name}.execArgs`)?.forEach((a, i) => {
    if (typeof a !== 'string')
      throw validationError(`${name}.execArgs[${i}] must be a string`, `${name}.execArgs[${i}]`);
  });
  optionalStringMap(p.environmentVariables, `${name}.environmentVariables`, {}, { min: 0 });
  const linux = optionalObject(p.linuxProcessParams, `${name}.linuxProcessParams`);
  if (!linux) return;
  const lf = `${name}.linuxProcessParams`;
  optionalEnum(linux.isolationMode, `${lf}.isolationMode`, ['GreengrassContainer', 'NoContainer']);
  const c = optionalObject(linux.containerParams, `${lf}.containerParams`);
  if (!c) return;
  const cf = `${lf}.containerParams`;
  optionalInteger(c.memorySizeInKB, `${cf}.memorySizeInKB`);
  optionalBoolean(c.mountROSysfs, `${cf}.mountROSysfs`);
  checkList(c.volumes, `${cf}.volumes`, (v, f) => {
    requiredString(v, 'sourcePath', {}, `${f}.sourcePath`);
    requiredString(v, 'destinationPath', {}, `${f}.destinationPath`);
    optionalEnum(v.permission, `${f}.permission`, ['ro', 'rw']);
    optionalBoolean(v.addGroupOwner, `${f}.addGroupOwner`);
  });
  checkList(c.devices, `${cf}.devices`, (d, f) => {
    requiredString(d, 'path', {}, `${f}.path`);
    optionalEnum(d.permission, `${f}.permission`, ['ro', 'rw']);
    optionalBoolean(d.addGroupOwner, `${f}.addGroupOwner`);
  });
}

/** Validates `lambdaFunction` and returns the recipe document it describes. */
export function lambdaRecipe(source: Obj): Obj {
  const name = 'lambdaFunction';
  const arn = requiredString(source, 'lambdaArn', {}, `${name}.lambdaArn`);
  const m = LAMBDA_ARN.exec(arn);
  if (!m || !/^[0-9]+$/.test(m[2]))
    throw validationError(
      `${name}.lambdaArn must be the ARN of a published function version, arn:aws:lambda:<region>:<account>:function:<name>:<version>: ${arn}`,
      `${name}.lambdaArn`,
    );
  const componentName =
    optionalString(source, 'componentName', { max: 128 }, `${name}.componentName`) ?? m[1];
  const componentVersion =
    optionalString(source, 'componentVersion', { max: 64 }, `${name}.componentVersion`) ?? `${m[2]}.0.0`;
  const platforms = optionalArray(source.componentPlatforms, `${name}.componentPlatforms`) ?? [];
  const manifests = (platforms.length ? platforms : [{}]).map((p, i) => {
    const f = `${name}.componentPlatforms[${i}]`;
    if (!isObject(p)) throw validationError(`${f} must be an object`, f);
    const attributes = optionalStringMap(p.attributes, `${f}.attributes`) ?? {};
    const pname = optionalString(p, 'name', {}, `${f}.name`);
    return {
      ...(pname ? { Name: pname } : {}),
      Platform: attributes,
      Lifecycle: {},
      Artifacts: [
        { Uri: LAMBDA_ARTIFACT_URI, Unarchive: 'ZIP', Permission: { Read: 'OWNER', Execute: 'NONE' } },
      ],
    };
  });
  const deps: Obj = {
    'aws.greengrass.LambdaLauncher': { VersionRequirement: '>=2.0.0 <3.0.0', DependencyType: 'HARD' },
    'aws.greengrass.TokenExchangeService': { VersionRequirement: '>=2.0.0 <3.0.0', DependencyType: 'HARD' },
    'aws.greengrass.LambdaRuntimes': { VersionRequirement: '>=2.0.0 <3.0.0', DependencyType: 'SOFT' },
  };
  const userDeps = optionalObject(source.componentDependencies, `${name}.componentDependencies`) ?? {};
  for (const [dep, req] of Object.entries(userDeps)) {
    const f = `${name}.componentDependencies.${dep}`;
    if (!isObject(req)) throw validationError(`${f} must be an object`, f);
    const versionRequirement = optionalString(req, 'versionRequirement', {}, `${f}.versionRequirement`);
    const dependencyType = optionalEnum(req.dependencyType, `${f}.dependencyType`, ['HARD', 'SOFT']);
    deps[dep] = { VersionRequirement: versionRequirement ?? '*', DependencyType: dependencyType ?? 'HARD' };
  }
  const params = optionalObject(source.componentLambdaParameters, `${name}.componentLambdaParameters`) ?? {};
  checkLambdaParameters(params, `${name}.componentLambdaParameters`);
  return {
    RecipeFormatVersion: '2020-01-25',
    ComponentName: componentName,
    ComponentVersion: componentVersion,
    ComponentType: 'aws.greengrass.lambda',
    ComponentDescription: `Lambda function ${arn}`,
    ComponentPublisher: 'AWS Lambda',
    ComponentSource: arn,
    ComponentConfiguration: { DefaultConfiguration: { lambdaExecutionParameters: params } },
    ComponentDependencies: deps,
    Manifests: manifests,
  };
}
