// The recipe model (shared/spec/recipes.md). Field names are the recipe's PascalCase names in camelCase.

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

export type ComponentType =
  'aws.greengrass.generic' | 'aws.greengrass.lambda' | 'aws.greengrass.plugin' | 'aws.greengrass.nucleus';

export type DependencyType = 'HARD' | 'SOFT';

export interface ComponentDependency {
  /** NPM-style semver range [RC-09]. */
  versionRequirement: string;
  /** [RC-10], default HARD. */
  dependencyType: DependencyType;
}

export type PermissionLevel = 'NONE' | 'OWNER' | 'ALL';

export interface Artifact {
  uri: string;
  digest?: string;
  algorithm?: string;
  unarchive: 'NONE' | 'ZIP';
  permission: { read: PermissionLevel; execute: PermissionLevel };
}

export interface Manifest {
  name?: string;
  /** attribute -> template [RC-12]; absent or empty matches everything [RC-22]. */
  platform?: Record<string, string | null>;
  lifecycle?: JsonObject;
  selections?: string[];
  artifacts: Artifact[];
}

export interface Recipe {
  recipeFormatVersion: '2020-01-25';
  componentName: string;
  componentVersion: string;
  componentType: ComponentType;
  componentDescription?: string;
  componentPublisher?: string;
  componentSource?: string;
  defaultConfiguration?: JsonObject;
  componentDependencies: Record<string, ComponentDependency>;
  manifests: Manifest[];
  /** The legacy global lifecycle [RC-17]. */
  lifecycle?: JsonObject;
}

/** One validation problem: `path` is the JSON path in the recipe, e.g. `Manifests[1].Artifacts[0].Uri`. */
export interface RecipeProblem {
  path: string;
  reason: string;
}

/**
 * The result of parsing. A valid recipe may still carry warnings: things the reference nucleus loads
 * but that will fail or be ignored later (for example an artifact URI without any scheme).
 */
export type RecipeParseResult =
  { ok: true; recipe: Recipe; warnings: RecipeProblem[] } | { ok: false; problems: RecipeProblem[] };

/** Device platform attributes [RC-18..RC-21], e.g. `{ os: 'linux', architecture: 'aarch64' }`. */
export type DevicePlatform = Record<string, string>;

/** The `services.<name>` object written for a resolved component [RC-28]. */
export interface ServiceConfig {
  componentType: 'GENERIC' | 'LAMBDA' | 'PLUGIN' | 'NUCLEUS';
  version: string;
  /** `name:HARD` / `name:SOFT`. */
  dependencies: string[];
  lifecycle: JsonObject;
  configuration: JsonObject;
}

/** `services.<name>.runWith` [RC-28]. */
export interface RunWith {
  posixUser?: string;
  windowsUser?: string;
  systemResourceLimits?: JsonObject;
}
