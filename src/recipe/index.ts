// Public face of src/recipe (shared/DESIGN.md: other folders import only this file).
export type * from './types.js';
export { parseRecipe, formatProblems, DEFAULT_MAX_RECIPE_BYTES, DOCUMENT_PATH } from './parse.js';
export type { ParseRecipeOptions } from './parse.js';
export {
  validateRecipeDocument,
  RECIPE_FORMAT_VERSION,
  COMPONENT_NAME_PATTERN,
  MAX_COMPONENT_NAME_LENGTH,
  ARTIFACT_URI_SCHEMES,
} from './validate.js';
export {
  componentVersionProblem,
  versionRequirementProblem,
  normalizeVersionRequirement,
  satisfiesRequirement,
  MAX_VERSION_LENGTH,
  MAX_VERSION_PART,
} from './versions.js';
export {
  devicePlatform,
  hostFacts,
  templateMatches,
  manifestMatches,
  selectManifest,
  ARCHITECTURE_DETAILS,
} from './platform.js';
export type { HostFacts, ManifestSelection } from './platform.js';
export { selectLifecycle } from './lifecycle-selection.js';
export type { LifecycleSelection } from './lifecycle-selection.js';
export { interpolate, interpolateTree, jsonPointer, configurationText } from './interpolate.js';
export type { ComponentRef, InterpolationContext, Interpolated } from './interpolate.js';
export {
  recipeToServiceConfig,
  serviceComponentType,
  serviceDependencies,
  previousVersionFor,
  mergeRunWith,
} from './service-config.js';
export type { ServiceConfigOptions, ServiceConfigResult } from './service-config.js';
export {
  componentNameHash,
  recipeFileName,
  recipeMetadataFileName,
  parseRecipeFileName,
  recipesDir,
  recipeFilePath,
  artifactsDir,
  unarchivedDir,
  workDir,
  artifactFileName,
  unarchivedArtifactDir,
} from './store-paths.js';
