// Turns a loaded recipe document into the typed Recipe model, collecting every problem at once
// (recipes.md section 2, [RC-03..RC-17]). Property names and enum values are case-insensitive and
// unknown properties are ignored [RC-01].
import {
  CaseInsensitiveMap,
  DOCUMENT_PATH,
  Problems,
  childPath,
  describe,
  enumValue,
  indexPath,
  isObject,
  scalarText,
} from './fields.js';
import type {
  Artifact,
  ComponentDependency,
  ComponentType,
  Json,
  JsonObject,
  Manifest,
  PermissionLevel,
  Recipe,
  RecipeParseResult,
} from './types.js';
import { componentVersionProblem, versionRequirementProblem } from './versions.js';

export const RECIPE_FORMAT_VERSION = '2020-01-25';
export const COMPONENT_NAME_PATTERN = /^[a-zA-Z0-9-_.]+$/;
export const MAX_COMPONENT_NAME_LENGTH = 128;
/** Artifact URI schemes Tendril can fetch [RC-39]; `https:` is Tendril's addition. */
export const ARTIFACT_URI_SCHEMES = ['greengrass', 's3', 'https', 'docker'] as const;

const COMPONENT_TYPES: readonly ComponentType[] = [
  'aws.greengrass.generic',
  'aws.greengrass.lambda',
  'aws.greengrass.plugin',
  'aws.greengrass.nucleus',
];
const PERMISSION_LEVELS: readonly PermissionLevel[] = ['NONE', 'OWNER', 'ALL'];

/** Validates a loaded document (the result of JSON or YAML parsing) as a recipe. */
export function validateRecipeDocument(doc: unknown): RecipeParseResult {
  const problems = new Problems();
  const warnings = new Problems();
  if (!isObject(doc)) {
    problems.add(DOCUMENT_PATH, `a recipe must be a map, got ${describe(doc)}`);
    return { ok: false, problems: problems.list };
  }
  const top = new CaseInsensitiveMap(doc, '', problems);

  const format = scalarText(top.get('RecipeFormatVersion'), 'RecipeFormatVersion', problems);
  if (format === undefined) problems.add('RecipeFormatVersion', 'is required');
  else if (format !== RECIPE_FORMAT_VERSION) {
    problems.add('RecipeFormatVersion', `must be ${RECIPE_FORMAT_VERSION}, got ${JSON.stringify(format)}`);
  }

  const name = scalarText(top.get('ComponentName'), 'ComponentName', problems);
  if (name === undefined) problems.add('ComponentName', 'is required');
  else if (name.length > MAX_COMPONENT_NAME_LENGTH) {
    problems.add(
      'ComponentName',
      `must be at most ${MAX_COMPONENT_NAME_LENGTH} characters, got ${name.length}`,
    );
  } else if (!COMPONENT_NAME_PATTERN.test(name)) {
    problems.add(
      'ComponentName',
      `may contain only letters, digits, "-", "_" and ".", got ${JSON.stringify(name)}`,
    );
  }

  const version = scalarText(top.get('ComponentVersion'), 'ComponentVersion', problems);
  if (version === undefined) problems.add('ComponentVersion', 'is required');
  else {
    const why = componentVersionProblem(version);
    if (why) problems.add('ComponentVersion', why);
  }

  const componentType = enumValue(
    top.get('ComponentType'),
    COMPONENT_TYPES,
    'aws.greengrass.generic',
    'ComponentType',
    problems,
  );

  const recipe: Recipe = {
    recipeFormatVersion: RECIPE_FORMAT_VERSION,
    componentName: name ?? '',
    componentVersion: version ?? '',
    componentType,
    componentDependencies: readDependencies(top.get('ComponentDependencies'), name, problems),
    manifests: readManifests(top.get('Manifests'), problems, warnings),
  };
  for (const info of ['ComponentDescription', 'ComponentPublisher', 'ComponentSource'] as const) {
    const text = scalarText(top.get(info), info, problems);
    if (text !== undefined) {
      const key = (info.charAt(0).toLowerCase() + info.slice(1)) as
        'componentDescription' | 'componentPublisher' | 'componentSource';
      recipe[key] = text;
    }
  }

  const conf = top.get('ComponentConfiguration');
  if (isObject(conf)) {
    const confMap = new CaseInsensitiveMap(conf, 'ComponentConfiguration', problems);
    const dflt = confMap.get('DefaultConfiguration');
    if (isObject(dflt)) recipe.defaultConfiguration = dflt;
    else if (dflt !== undefined && dflt !== null) {
      problems.add('ComponentConfiguration.DefaultConfiguration', `must be a map, got ${describe(dflt)}`);
    }
  } else if (conf !== undefined && conf !== null) {
    problems.add('ComponentConfiguration', `must be a map, got ${describe(conf)}`);
  }

  const lifecycle = readLifecycle(top.get('Lifecycle'), 'Lifecycle', problems, warnings);
  if (lifecycle !== undefined) recipe.lifecycle = lifecycle;

  if (problems.list.length > 0) return { ok: false, problems: problems.list };
  return { ok: true, recipe, warnings: warnings.list };
}

function readDependencies(
  v: Json | undefined,
  self: string | undefined,
  problems: Problems,
): Record<string, ComponentDependency> {
  const out: Record<string, ComponentDependency> = {};
  if (v === undefined || v === null) return out;
  if (!isObject(v)) {
    problems.add(
      'ComponentDependencies',
      `must be a map of component name to dependency, got ${describe(v)}`,
    );
    return out;
  }
  for (const [depName, spec] of Object.entries(v)) {
    const path = childPath('ComponentDependencies', depName);
    if (!COMPONENT_NAME_PATTERN.test(depName)) {
      problems.add(path, 'is not a valid component name');
    }
    if (self !== undefined && depName === self) {
      problems.add(path, 'a component cannot depend on itself (circular dependency)');
    }
    if (!isObject(spec)) {
      problems.add(path, `must be a map with VersionRequirement, got ${describe(spec)}`);
      continue;
    }
    const m = new CaseInsensitiveMap(spec, path, problems);
    const reqPath = childPath(path, 'VersionRequirement');
    const req = scalarText(m.get('VersionRequirement'), reqPath, problems);
    if (req === undefined) problems.add(reqPath, 'is required');
    else {
      const why = versionRequirementProblem(req);
      if (why) problems.add(reqPath, why);
    }
    const dependencyType = enumValue(
      m.get('DependencyType'),
      ['HARD', 'SOFT'] as const,
      'HARD',
      childPath(path, 'DependencyType'),
      problems,
    );
    out[depName] = { versionRequirement: req ?? '', dependencyType };
  }
  return out;
}

function readManifests(v: Json | undefined, problems: Problems, warnings: Problems): Manifest[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) {
    problems.add('Manifests', `must be a list, got ${describe(v)}`);
    return [];
  }
  const out: Manifest[] = [];
  v.forEach((item, i) => {
    const path = indexPath('Manifests', i);
    if (!isObject(item)) {
      problems.add(
        path,
        item === null ? 'null manifest entries are not allowed' : `must be a map, got ${describe(item)}`,
      );
      return;
    }
    out.push(readManifest(item, path, problems, warnings));
  });
  return out;
}

function readManifest(obj: JsonObject, path: string, problems: Problems, warnings: Problems): Manifest {
  const m = new CaseInsensitiveMap(obj, path, problems);
  const manifest: Manifest = { artifacts: [] };
  const name = scalarText(m.get('Name'), childPath(path, 'Name'), problems);
  if (name !== undefined) manifest.name = name;

  const platformPath = childPath(path, 'Platform');
  const platform = m.get('Platform');
  if (isObject(platform)) {
    manifest.platform = {};
    for (const [attr, template] of Object.entries(platform)) {
      const attrPath = childPath(platformPath, attr);
      const text = template === null ? null : scalarText(template, attrPath, problems);
      if (text === undefined) continue;
      if (text !== null && text.length >= 2 && text.startsWith('/') && text.endsWith('/')) {
        try {
          new RegExp(text.slice(1, -1));
        } catch (e) {
          problems.add(attrPath, `invalid regular expression: ${(e as Error).message}`);
        }
      }
      manifest.platform[attr] = text;
    }
  } else if (platform !== undefined && platform !== null) {
    problems.add(platformPath, `must be a map of attribute to template, got ${describe(platform)}`);
  }

  const lifecycle = readLifecycle(m.get('Lifecycle'), childPath(path, 'Lifecycle'), problems, warnings);
  if (lifecycle !== undefined) manifest.lifecycle = lifecycle;

  const selPath = childPath(path, 'Selections');
  const selections = m.get('Selections');
  if (Array.isArray(selections)) {
    manifest.selections = [];
    selections.forEach((s, i) => {
      const text = scalarText(s, indexPath(selPath, i), problems);
      if (text === undefined) {
        if (s === null) problems.add(indexPath(selPath, i), 'null selections are not allowed');
      } else manifest.selections!.push(text);
    });
  } else if (selections !== undefined && selections !== null) {
    problems.add(selPath, `must be a list of selector keywords, got ${describe(selections)}`);
  }

  const artPath = childPath(path, 'Artifacts');
  const artifacts = m.get('Artifacts');
  if (Array.isArray(artifacts)) {
    artifacts.forEach((a, i) => {
      const p = indexPath(artPath, i);
      if (!isObject(a)) {
        problems.add(
          p,
          a === null ? 'null artifact entries are not allowed' : `must be a map, got ${describe(a)}`,
        );
        return;
      }
      const art = readArtifact(a, p, problems, warnings);
      if (art) manifest.artifacts.push(art);
    });
  } else if (artifacts !== undefined && artifacts !== null) {
    problems.add(artPath, `must be a list, got ${describe(artifacts)}`);
  }
  return manifest;
}

function readArtifact(
  obj: JsonObject,
  path: string,
  problems: Problems,
  warnings: Problems,
): Artifact | undefined {
  const m = new CaseInsensitiveMap(obj, path, problems);
  const uriPath = childPath(path, 'Uri');
  const uri = scalarText(m.get('Uri'), uriPath, problems);
  if (uri === undefined || uri.trim() === '') {
    problems.add(uriPath, 'is required');
  } else {
    const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(uri)?.[1];
    if (scheme === undefined) {
      // The reference nucleus loads such a recipe and refuses the artifact only at download time.
      warnings.add(uriPath, `has no URI scheme; it will be refused at download (${JSON.stringify(uri)})`);
    } else if (!(ARTIFACT_URI_SCHEMES as readonly string[]).includes(scheme.toLowerCase())) {
      problems.add(
        uriPath,
        `unsupported scheme ${JSON.stringify(scheme)} (supported: ${ARTIFACT_URI_SCHEMES.join(', ')})`,
      );
    }
  }
  const digest = scalarText(m.get('Digest'), childPath(path, 'Digest'), problems);
  const algorithm = scalarText(m.get('Algorithm'), childPath(path, 'Algorithm'), problems);
  if (digest !== undefined && (algorithm === undefined || algorithm.trim() === '')) {
    problems.add(
      childPath(path, 'Algorithm'),
      'is required when Digest is given (RECIPE_MISSING_ARTIFACT_HASH_ALGORITHM)',
    );
  }
  const unarchive = enumValue(
    m.get('Unarchive'),
    ['NONE', 'ZIP'] as const,
    'NONE',
    childPath(path, 'Unarchive'),
    problems,
  );
  const permPath = childPath(path, 'Permission');
  const perm = m.get('Permission');
  let read: PermissionLevel = 'OWNER';
  let execute: PermissionLevel = 'NONE';
  if (isObject(perm)) {
    const pm = new CaseInsensitiveMap(perm, permPath, problems);
    read = enumValue(pm.get('Read'), PERMISSION_LEVELS, 'OWNER', childPath(permPath, 'Read'), problems);
    execute = enumValue(
      pm.get('Execute'),
      PERMISSION_LEVELS,
      'NONE',
      childPath(permPath, 'Execute'),
      problems,
    );
  } else if (perm !== undefined && perm !== null) {
    problems.add(permPath, `must be a map with Read and Execute, got ${describe(perm)}`);
  }
  if (uri === undefined) return undefined;
  const artifact: Artifact = { uri, unarchive, permission: { read, execute } };
  if (digest !== undefined) artifact.digest = digest;
  if (algorithm !== undefined) artifact.algorithm = algorithm;
  return artifact;
}

/**
 * A lifecycle is a map. Greengrass Lite documents a list of single-key maps (`- all: {...}`); it is
 * read as the map of those entries, with a warning, since the reference nucleus does not accept it.
 */
function readLifecycle(
  v: Json | undefined,
  path: string,
  problems: Problems,
  warnings: Problems,
): JsonObject | undefined {
  if (v === undefined || v === null) return undefined;
  if (isObject(v)) return v;
  if (Array.isArray(v)) {
    const merged: JsonObject = {};
    let bad = false;
    v.forEach((entry, i) => {
      if (!isObject(entry)) {
        problems.add(indexPath(path, i), `a lifecycle list entry must be a map, got ${describe(entry)}`);
        bad = true;
        return;
      }
      for (const [k, val] of Object.entries(entry)) {
        if (k in merged) {
          problems.add(childPath(indexPath(path, i), k), 'repeats a key of an earlier lifecycle list entry');
          bad = true;
        } else merged[k] = val;
      }
    });
    if (bad) return undefined;
    warnings.add(path, 'is a list (Greengrass Lite form); read as the map of its entries');
    return merged;
  }
  problems.add(path, `must be a map, got ${describe(v)}`);
  return undefined;
}
