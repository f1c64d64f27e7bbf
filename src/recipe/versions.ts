// Component versions [RC-05] and NPM-style version requirements [RC-09].
import semver from 'semver';

export const MAX_VERSION_LENGTH = 64;
export const MAX_VERSION_PART = 999999;

/** Why `version` is not a valid component version, or undefined when it is [RC-05]. */
export function componentVersionProblem(version: string): string | undefined {
  if (version.length > MAX_VERSION_LENGTH) {
    return `must be at most ${MAX_VERSION_LENGTH} characters, got ${version.length}`;
  }
  // semver.parse tolerates a leading "v" or "="; a component version must be the bare form.
  const parsed = /^[0-9]/.test(version) ? semver.parse(version) : null;
  if (parsed === null)
    return `must be a semantic version (MAJOR.MINOR.PATCH), got ${JSON.stringify(version)}`;
  for (const [part, n] of [
    ['major', parsed.major],
    ['minor', parsed.minor],
    ['patch', parsed.patch],
  ] as const) {
    if (n > MAX_VERSION_PART) return `${part} version ${n} exceeds ${MAX_VERSION_PART}`;
  }
  return undefined;
}

/**
 * Rewrites the spellings that the reference (semver4j NPM mode) accepts and node-semver does not:
 * `==1.2.3` means `=1.2.3`.
 */
export function normalizeVersionRequirement(requirement: string): string {
  return requirement.replace(/==/g, '=').trim();
}

/** Why `requirement` is not a usable NPM-style range, or undefined when it is [RC-09]. */
export function versionRequirementProblem(requirement: string): string | undefined {
  if (requirement.trim() === '') return 'must not be empty';
  if (semver.validRange(normalizeVersionRequirement(requirement)) === null) {
    return `is not a valid NPM-style semver range: ${JSON.stringify(requirement)}`;
  }
  return undefined;
}

/** Whether `version` satisfies the NPM-style `requirement` (pre-releases match only when named). */
export function satisfiesRequirement(version: string, requirement: string): boolean {
  return semver.satisfies(version, normalizeVersionRequirement(requirement));
}
