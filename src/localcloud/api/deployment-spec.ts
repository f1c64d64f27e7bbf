// Validation of CreateDeployment's structured members (control-plane.md section 5). Each parser returns
// the member rebuilt from its known fields only (unknown members are ignored [CP-62]).
import { compact } from '../context.js';
import { validationError } from '../http/errors.js';
import {
  isObject,
  optionalArray,
  optionalEnum,
  optionalInteger,
  optionalNumber,
  optionalObject,
  optionalString,
  requiredString,
} from '../validate.js';

type Obj = Record<string, unknown>;

function parseConfigurationUpdate(v: unknown, name: string): Obj | undefined {
  const o = optionalObject(v, name);
  if (!o) return undefined;
  const merge = optionalString(o, 'merge', { max: 10485760 }, `${name}.merge`);
  if (merge !== undefined) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(merge);
    } catch (e) {
      throw validationError(`${name}.merge is not valid JSON: ${(e as Error).message}`, `${name}.merge`);
    }
    if (!isObject(parsed)) throw validationError(`${name}.merge must be a JSON object`, `${name}.merge`);
  }
  const reset = optionalArray(o.reset, `${name}.reset`)?.map((p, i) => {
    if (typeof p !== 'string' || p.length > 256)
      throw validationError(
        `${name}.reset[${i}] must be a string of at most 256 characters`,
        `${name}.reset[${i}]`,
      );
    return p;
  });
  return compact({ merge, reset });
}

function parseRunWith(v: unknown, name: string): Obj | undefined {
  const o = optionalObject(v, name);
  if (!o) return undefined;
  const limits = optionalObject(o.systemResourceLimits, `${name}.systemResourceLimits`);
  return compact({
    posixUser: optionalString(o, 'posixUser', {}, `${name}.posixUser`),
    windowsUser: optionalString(o, 'windowsUser', {}, `${name}.windowsUser`),
    systemResourceLimits: limits
      ? compact({
          memory: optionalInteger(limits.memory, `${name}.systemResourceLimits.memory`, 0),
          cpus: optionalNumber(limits.cpus, `${name}.systemResourceLimits.cpus`, 0),
        })
      : undefined,
  });
}

export function parseComponents(v: unknown): Record<string, Obj> | undefined {
  const o = optionalObject(v, 'components');
  if (!o) return undefined;
  const out: Record<string, Obj> = {};
  for (const [name, spec] of Object.entries(o)) {
    const field = `components.${name}`;
    if (name.length < 1 || name.length > 128)
      throw validationError(`component name ${name} must be 1-128 characters long`, 'components');
    if (!isObject(spec)) throw validationError(`${field} must be an object`, field);
    out[name] = compact({
      componentVersion: requiredString(spec, 'componentVersion', { max: 64 }, `${field}.componentVersion`),
      configurationUpdate: parseConfigurationUpdate(spec.configurationUpdate, `${field}.configurationUpdate`),
      runWith: parseRunWith(spec.runWith, `${field}.runWith`),
    });
  }
  return out;
}

export function parseDeploymentPolicies(v: unknown): Obj | undefined {
  const name = 'deploymentPolicies';
  const o = optionalObject(v, name);
  if (!o) return undefined;
  const cup = optionalObject(o.componentUpdatePolicy, `${name}.componentUpdatePolicy`);
  const cvp = optionalObject(o.configurationValidationPolicy, `${name}.configurationValidationPolicy`);
  return compact({
    failureHandlingPolicy: optionalEnum(o.failureHandlingPolicy, `${name}.failureHandlingPolicy`, [
      'ROLLBACK',
      'DO_NOTHING',
    ]),
    componentUpdatePolicy: cup
      ? compact({
          timeoutInSeconds: optionalInteger(
            cup.timeoutInSeconds,
            `${name}.componentUpdatePolicy.timeoutInSeconds`,
          ),
          action: optionalEnum(cup.action, `${name}.componentUpdatePolicy.action`, [
            'NOTIFY_COMPONENTS',
            'SKIP_NOTIFY_COMPONENTS',
          ]),
        })
      : undefined,
    configurationValidationPolicy: cvp
      ? compact({
          timeoutInSeconds: optionalInteger(
            cvp.timeoutInSeconds,
            `${name}.configurationValidationPolicy.timeoutInSeconds`,
          ),
        })
      : undefined,
  });
}

function parseRollout(v: unknown, name: string): Obj | undefined {
  const o = optionalObject(v, name);
  if (!o) return undefined;
  const exp = optionalObject(o.exponentialRate, `${name}.exponentialRate`);
  let exponentialRate: Obj | undefined;
  if (exp) {
    const f = `${name}.exponentialRate`;
    const crit = optionalObject(exp.rateIncreaseCriteria, `${f}.rateIncreaseCriteria`);
    if (exp.baseRatePerMinute === undefined)
      throw validationError(`${f}.baseRatePerMinute is required`, `${f}.baseRatePerMinute`);
    if (exp.incrementFactor === undefined)
      throw validationError(`${f}.incrementFactor is required`, `${f}.incrementFactor`);
    if (!crit) throw validationError(`${f}.rateIncreaseCriteria is required`, `${f}.rateIncreaseCriteria`);
    exponentialRate = {
      baseRatePerMinute: optionalInteger(exp.baseRatePerMinute, `${f}.baseRatePerMinute`, 1, 1000),
      incrementFactor: optionalNumber(exp.incrementFactor, `${f}.incrementFactor`, 1, 5),
      rateIncreaseCriteria: compact({
        numberOfNotifiedThings: optionalInteger(
          crit.numberOfNotifiedThings,
          `${f}.rateIncreaseCriteria.numberOfNotifiedThings`,
          1,
        ),
        numberOfSucceededThings: optionalInteger(
          crit.numberOfSucceededThings,
          `${f}.rateIncreaseCriteria.numberOfSucceededThings`,
          1,
        ),
      }),
    };
  }
  return compact({
    exponentialRate,
    maximumPerMinute: optionalInteger(o.maximumPerMinute, `${name}.maximumPerMinute`, 1, 1000),
  });
}

function parseAbort(v: unknown, name: string): Obj | undefined {
  const o = optionalObject(v, name);
  if (!o) return undefined;
  const list = optionalArray(o.criteriaList, `${name}.criteriaList`, 1);
  if (!list) throw validationError(`${name}.criteriaList is required`, `${name}.criteriaList`);
  const criteriaList = list.map((c, i) => {
    const f = `${name}.criteriaList[${i}]`;
    if (!isObject(c)) throw validationError(`${f} must be an object`, f);
    for (const k of ['failureType', 'action', 'thresholdPercentage', 'minNumberOfExecutedThings'])
      if (c[k] === undefined) throw validationError(`${f}.${k} is required`, `${f}.${k}`);
    return {
      failureType: optionalEnum(c.failureType, `${f}.failureType`, [
        'FAILED',
        'REJECTED',
        'TIMED_OUT',
        'ALL',
      ]),
      action: optionalEnum(c.action, `${f}.action`, ['CANCEL']),
      thresholdPercentage: optionalNumber(c.thresholdPercentage, `${f}.thresholdPercentage`, 0, 100),
      minNumberOfExecutedThings: optionalInteger(
        c.minNumberOfExecutedThings,
        `${f}.minNumberOfExecutedThings`,
        1,
      ),
    };
  });
  return { criteriaList };
}

export function parseIotJobConfiguration(v: unknown): Obj | undefined {
  const name = 'iotJobConfiguration';
  const o = optionalObject(v, name);
  if (!o) return undefined;
  const timeout = optionalObject(o.timeoutConfig, `${name}.timeoutConfig`);
  return compact({
    jobExecutionsRolloutConfig: parseRollout(
      o.jobExecutionsRolloutConfig,
      `${name}.jobExecutionsRolloutConfig`,
    ),
    abortConfig: parseAbort(o.abortConfig, `${name}.abortConfig`),
    timeoutConfig: timeout
      ? compact({
          inProgressTimeoutInMinutes: optionalInteger(
            timeout.inProgressTimeoutInMinutes,
            `${name}.timeoutConfig.inProgressTimeoutInMinutes`,
            1,
          ),
        })
      : undefined,
  });
}
