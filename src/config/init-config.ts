// Initial configuration files (`--init-config`, `--config`, config/config.yaml) [CF-17 step 3, CF-83..CF-85].
import { readFile, stat } from 'node:fs/promises';
import { extname } from 'node:path';
import yaml from 'js-yaml';
import { ConfigValueError, isPlainObject, normalizeJson, type JsonObject, type JsonValue } from './json.js';
import { parseTlog, type TlogLine } from './tlog.js';

export class InitConfigError extends Error {
  constructor(
    readonly file: string,
    /** Dotted path of the offending field ('' for the document itself). */
    readonly field: string,
    readonly reason: string,
  ) {
    super(`${file}: ${field || '(document)'}: ${reason}`);
    this.name = 'InitConfigError';
  }
}

export type ConfigFileContent =
  { kind: 'map'; map: JsonObject; mtimeMs: number } | { kind: 'tlog'; lines: TlogLine[]; mtimeMs: number };

/** Reads a config file by extension: .yaml/.yml/.json are validated maps; .tlog/.tlog~ are tlogs. */
export async function readConfigFile(file: string): Promise<ConfigFileContent> {
  let text: Buffer;
  let mtimeMs: number;
  try {
    [text, mtimeMs] = await Promise.all([readFile(file), stat(file).then((s) => Math.floor(s.mtimeMs))]);
  } catch (e) {
    throw new InitConfigError(
      file,
      '',
      `cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`,
    );
  }
  if (file.endsWith('.tlog') || file.endsWith('.tlog~')) {
    try {
      return { kind: 'tlog', lines: parseTlog(text, file).lines, mtimeMs };
    } catch (e) {
      throw new InitConfigError(file, '', (e as Error).message);
    }
  }
  const ext = extname(file).toLowerCase();
  if (ext !== '.yaml' && ext !== '.yml' && ext !== '.json')
    throw new InitConfigError(
      file,
      '',
      `unsupported extension "${ext}" (expected .yaml, .yml, .json, .tlog)`,
    );
  return { kind: 'map', map: parseInitConfig(text.toString('utf8'), file), mtimeMs };
}

/** Parses YAML (a superset of JSON) and validates it; throws InitConfigError naming the field. */
export function parseInitConfig(text: string, file = '(init config)'): JsonObject {
  let doc: unknown;
  try {
    doc = yaml.load(text, { schema: yaml.CORE_SCHEMA, filename: file });
  } catch (e) {
    throw new InitConfigError(file, '', `not valid YAML/JSON: ${(e as Error).message.split('\n')[0]}`);
  }
  if (doc === undefined || doc === null) return {};
  if (!isPlainObject(doc)) throw new InitConfigError(file, '', 'the document must be a map');
  let map: JsonObject;
  try {
    map = normalizeJson(doc, '') as JsonObject;
  } catch (e) {
    if (e instanceof ConfigValueError) throw new InitConfigError(file, e.field, e.reason);
    throw e;
  }
  validateInitConfig(map, file);
  return map;
}

const SYSTEM_STRINGS = [
  'rootpath',
  'thingname',
  'certificatefilepath',
  'privatekeypath',
  'rootcapath',
  'ipcsocketpath',
];
const POLICY_KEYS = new Set(['policydescription', 'operations', 'resources']);
const SKIPIF = /^(onpath|exists)\s+\S/i;

function entries(o: JsonObject): [string, JsonValue, string][] {
  return Object.entries(o).map(([k, v]) => [k, v, k.toLowerCase()]);
}

/** Structural checks of the Greengrass config format; throws InitConfigError naming the field. */
export function validateInitConfig(map: JsonObject, file = '(init config)'): void {
  const bad = (field: string, reason: string): never => {
    throw new InitConfigError(file, field, reason);
  };
  for (const [k, v, lk] of entries(map)) {
    if (lk === 'system') {
      if (v === null) continue;
      if (!isPlainObject(v)) bad(k, 'must be a map');
      for (const [sk, sv, slk] of entries(v as JsonObject))
        if (SYSTEM_STRINGS.includes(slk) && typeof sv !== 'string') bad(`${k}.${sk}`, 'must be a string');
    } else if (lk === 'services') {
      if (v === null) continue;
      if (!isPlainObject(v)) bad(k, 'must be a map of service name to definition');
      for (const [name, def] of Object.entries(v as JsonObject)) validateService(def, `${k}.${name}`, bad);
    } else if (lk === 'setenv') {
      if (v !== null && !isPlainObject(v)) bad(k, 'must be a map of variable name to value');
    }
  }
}

type Bad = (field: string, reason: string) => never;

function validateService(def: JsonValue, field: string, bad: Bad): void {
  if (def === null) return;
  if (!isPlainObject(def)) bad(field, 'a service definition must be a map');
  for (const [k, v, lk] of entries(def as JsonObject)) {
    const f = `${field}.${k}`;
    if ((lk === 'version' || lk === 'componenttype') && typeof v !== 'string') bad(f, 'must be a string');
    if (lk === 'lifecycle' && v !== null) {
      if (typeof v !== 'string' && !isPlainObject(v))
        bad(f, 'must be a map of steps or a run command string');
      if (isPlainObject(v)) checkSkipifs(v, f, bad);
    }
    if (lk === 'dependencies' && v !== null) checkDependencies(v, f, bad);
    if (lk === 'configuration' && v !== null) {
      if (!isPlainObject(v)) bad(f, 'must be a map');
      for (const [ck, cv, clk] of entries(v as JsonObject))
        if (clk === 'accesscontrol') checkAccessControl(cv, `${f}.${ck}`, bad);
    }
    if ((lk === 'setenv' || lk === 'runwith') && v !== null && !isPlainObject(v)) bad(f, 'must be a map');
  }
}

function checkSkipifs(o: JsonObject, field: string, bad: Bad): void {
  for (const [k, v, lk] of entries(o)) {
    const f = `${field}.${k}`;
    if (lk === 'skipif') {
      if (typeof v !== 'string' || !SKIPIF.test(v.trim()))
        bad(f, `must be "onpath <executable>" or "exists <file>", got ${JSON.stringify(v)}`);
    } else if (isPlainObject(v)) checkSkipifs(v, f, bad);
  }
}

const DEP = /^[^:\s]+(:(SOFT|HARD))?$/i;

function checkDependencies(v: JsonValue, field: string, bad: Bad): void {
  if (isPlainObject(v)) {
    for (const [k, x] of Object.entries(v)) if (x !== null) checkDependencies(x, `${field}.${k}`, bad);
    return;
  }
  if (!Array.isArray(v)) bad(field, 'must be a list of service names (optionally with :SOFT or :HARD)');
  (v as JsonValue[]).forEach((d, i) => {
    if (typeof d !== 'string' || !DEP.test(d.trim()))
      bad(`${field}[${i}]`, `must be "name", "name:SOFT" or "name:HARD", got ${JSON.stringify(d)}`);
  });
}

function checkAccessControl(v: JsonValue, field: string, bad: Bad): void {
  if (v === null) return;
  if (!isPlainObject(v)) bad(field, 'must be a map of IPC service to policies');
  for (const [svc, policies] of Object.entries(v as JsonObject)) {
    if (!isPlainObject(policies)) bad(`${field}.${svc}`, 'must be a map of policy id to policy');
    for (const [id, pol] of Object.entries(policies as JsonObject)) {
      const pf = `${field}.${svc}.${id}`;
      if (!isPlainObject(pol)) bad(pf, 'a policy must be a map');
      for (const [k, x, lk] of entries(pol as JsonObject)) {
        if (!POLICY_KEYS.has(lk))
          bad(`${pf}.${k}`, 'unknown policy field (expected policyDescription, operations, resources)');
        if (lk === 'policydescription' && typeof x !== 'string') bad(`${pf}.${k}`, 'must be a string');
        if (
          (lk === 'operations' || lk === 'resources') &&
          !(Array.isArray(x) && x.every((s) => typeof s === 'string'))
        )
          bad(`${pf}.${k}`, 'must be a list of strings');
      }
    }
  }
}
