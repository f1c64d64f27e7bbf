// Lifecycle steps and their options as pure parsing (spec/lifecycle.md section 7): a step is a script
// string or a map with script, requiresPrivilege, setenv, skipif and timeout; keys are
// case-insensitive [LC-47]. Bad input yields a problem naming the field and the reason.

import type { StepName } from './types.js';

export interface SkipIf {
  /** A leading `!` inverts the test. */
  negate: boolean;
  check: 'onpath' | 'exists';
  target: string;
}

export interface LifecycleStep {
  script: string;
  requiresPrivilege: boolean;
  /** Seconds; undefined uses the step's default (none for run) [LC-38]. */
  timeoutSec?: number;
  setenv: Record<string, string>;
  skipif?: SkipIf;
}

export interface StepProblem {
  /** e.g. `lifecycle.install.skipif` */
  field: string;
  reason: string;
}

export type ParsedStep = { ok: true; step: LifecycleStep } | { ok: false; problem: StepProblem };

export interface LifecycleConfig {
  /** Lifecycle-level setenv [LC-34]. */
  setenv: Record<string, string>;
  /** Seconds [LC-42]. */
  errorResetTimeSec?: number;
  /** Absent steps are not listed. */
  steps: Partial<Record<StepName, ParsedStep>>;
  /** Problems of the lifecycle-level keys (setenv, errorResetTime). */
  problems: StepProblem[];
}

/** Default timeouts in seconds; run has none [LC-35..LC-41]. */
export const DEFAULT_STEP_TIMEOUT_SEC: Readonly<Record<StepName, number | undefined>> = {
  bootstrap: 120,
  install: 120,
  startup: 120,
  run: undefined,
  shutdown: 15,
  recover: 60,
  uninstall: 120,
};

const STEP_NAMES: readonly StepName[] = [
  'bootstrap',
  'install',
  'startup',
  'run',
  'shutdown',
  'recover',
  'uninstall',
];

/** Finds a key case-insensitively [LC-47]. */
export function getCaseInsensitive(obj: Record<string, unknown>, key: string): unknown {
  const lower = key.toLowerCase();
  for (const k of Object.keys(obj)) if (k.toLowerCase() === lower) return obj[k];
  return undefined;
}

function isMap(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** `[!](onpath|exists) <target>` [LC-45]. */
export function parseSkipIf(text: string, field: string): SkipIf | StepProblem {
  let s = text.trim();
  let negate = false;
  if (s.startsWith('!')) {
    negate = true;
    s = s.slice(1).trim();
  }
  const m = /^(exists|onpath) +(.+)$/i.exec(s);
  if (!m) {
    return {
      field,
      reason: `invalid skipif '${text}': expected '[!]onpath <executable>' or '[!]exists <file>'`,
    };
  }
  return { negate, check: m[1].toLowerCase() as SkipIf['check'], target: m[2].trim() };
}

function isProblem(v: SkipIf | StepProblem): v is StepProblem {
  return 'reason' in v;
}

/** A setenv map: values must be scalars; numbers and booleans are stringified. */
export function parseSetenv(
  value: unknown,
  field: string,
): { ok: true; env: Record<string, string> } | { ok: false; problem: StepProblem } {
  if (value === undefined || value === null) return { ok: true, env: {} };
  if (!isMap(value))
    return {
      ok: false,
      problem: { field, reason: `must be a map of variable -> value, got ${describe(value)}` },
    };
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(value)) {
    if (typeof v === 'string') out[k] = v;
    else if (typeof v === 'number' || typeof v === 'boolean') out[k] = String(v);
    else if (v === null) out[k] = '';
    else
      return {
        ok: false,
        problem: { field: `${field}.${k}`, reason: `must be a string, got ${describe(v)}` },
      };
  }
  return { ok: true, env: out };
}

function describe(v: unknown): string {
  return Array.isArray(v) ? 'a list' : v === null ? 'null' : typeof v;
}

function parseBool(v: unknown): boolean | undefined {
  if (v === undefined || v === null) return false;
  if (typeof v === 'boolean') return v;
  if (typeof v === 'string' && /^(true|false)$/i.test(v.trim())) return v.trim().toLowerCase() === 'true';
  return undefined;
}

/** One step: a script string or a map [LC-36..LC-47]. */
export function parseStep(raw: unknown, field: string): ParsedStep {
  if (typeof raw === 'string')
    return { ok: true, step: { script: raw, requiresPrivilege: false, setenv: {} } };
  if (!isMap(raw)) return fail(field, `must be a script string or a map, got ${describe(raw)}`);
  const script = getCaseInsensitive(raw, 'script');
  if (script === undefined || script === null) return fail(`${field}.script`, 'is required [LC-44]');
  if (typeof script !== 'string') return fail(`${field}.script`, `must be a string, got ${describe(script)}`);
  const priv = parseBool(getCaseInsensitive(raw, 'requiresPrivilege'));
  if (priv === undefined) return fail(`${field}.requiresPrivilege`, 'must be true or false');
  const step: LifecycleStep = { script, requiresPrivilege: priv, setenv: {} };
  const timeout = getCaseInsensitive(raw, 'timeout');
  if (timeout !== undefined && timeout !== null) {
    const n = typeof timeout === 'string' && timeout.trim() !== '' ? Number(timeout) : timeout;
    if (typeof n !== 'number' || !Number.isFinite(n) || n <= 0)
      return fail(`${field}.timeout`, `must be a positive number of seconds, got ${JSON.stringify(timeout)}`);
    step.timeoutSec = n;
  }
  const env = parseSetenv(getCaseInsensitive(raw, 'setenv'), `${field}.setenv`);
  if (!env.ok) return env;
  step.setenv = env.env;
  const skip = getCaseInsensitive(raw, 'skipif');
  if (skip !== undefined && skip !== null) {
    if (typeof skip !== 'string') return fail(`${field}.skipif`, `must be a string, got ${describe(skip)}`);
    const parsed = parseSkipIf(skip, `${field}.skipif`);
    if (isProblem(parsed)) return { ok: false, problem: parsed };
    step.skipif = parsed;
  }
  return { ok: true, step };
}

function fail(field: string, reason: string): ParsedStep {
  return { ok: false, problem: { field, reason } };
}

/** The `lifecycle` node of a service [LC-34..LC-47]. */
export function parseLifecycle(raw: unknown, field = 'lifecycle'): LifecycleConfig {
  const config: LifecycleConfig = { setenv: {}, steps: {}, problems: [] };
  if (raw === undefined || raw === null) return config;
  if (!isMap(raw)) {
    config.problems.push({ field, reason: `must be a map of steps, got ${describe(raw)}` });
    return config;
  }
  const env = parseSetenv(getCaseInsensitive(raw, 'setenv'), `${field}.setenv`);
  if (!env.ok) config.problems.push(env.problem);
  else config.setenv = env.env;
  const reset = getCaseInsensitive(raw, 'errorResetTime');
  if (reset !== undefined && reset !== null) {
    const n = typeof reset === 'string' ? Number(reset) : reset;
    if (typeof n !== 'number' || !Number.isFinite(n) || n <= 0)
      config.problems.push({
        field: `${field}.errorResetTime`,
        reason: 'must be a positive number of seconds',
      });
    else config.errorResetTimeSec = n;
  }
  for (const name of STEP_NAMES) {
    const key = Object.keys(raw).find((k) => k.toLowerCase() === name);
    if (key === undefined) continue;
    config.steps[name] = parseStep(raw[key], `${field}.${key}`);
  }
  return config;
}

/** Every problem of a lifecycle node, for up-front validation (deployments). */
export function lifecycleProblems(config: LifecycleConfig): StepProblem[] {
  const out = [...config.problems];
  for (const s of Object.values(config.steps)) if (s && !s.ok) out.push(s.problem);
  return out;
}

/** Later layers win [LC-71 step 3]. */
export function layerEnv(
  ...layers: ReadonlyArray<Readonly<Record<string, string>> | undefined>
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const layer of layers) if (layer) Object.assign(out, layer);
  return out;
}
