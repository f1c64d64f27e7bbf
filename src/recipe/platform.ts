// Device platform attributes [RC-18..RC-21] and manifest selection [RC-22..RC-24].
import { existsSync } from 'node:fs';
import { machine } from 'node:os';
import type { DevicePlatform, Manifest, Recipe } from './types.js';

/** What devicePlatform reads from the host; injectable so the mapping is testable. */
export interface HostFacts {
  /** `process.platform`. */
  platform: string;
  /** `process.arch`. */
  arch: string;
  /** `uname -m`. */
  machine: string;
  /** Whether `/proc` exists. */
  hasProc: boolean;
}

export const ARCHITECTURE_DETAILS = ['armv6l', 'armv7l', 'armv8l', 'armv6b', 'armv7b', 'armv8b'] as const;

export function hostFacts(): HostFacts {
  return { platform: process.platform, arch: process.arch, machine: machine(), hasProc: existsSync('/proc') };
}

/**
 * The device's platform attributes: `os`, `architecture` and, on ARM, `architecture.detail`; then
 * every entry of `override` (the nucleus `platformOverride`) replaces or adds an attribute [RC-21].
 */
export function devicePlatform(
  override?: Record<string, string>,
  host: HostFacts = hostFacts(),
): DevicePlatform {
  const out: DevicePlatform = { os: osOf(host), architecture: architectureOf(host.arch) };
  if (out.architecture === 'arm' || out.architecture === 'aarch64') {
    if ((ARCHITECTURE_DETAILS as readonly string[]).includes(host.machine))
      out['architecture.detail'] = host.machine;
  }
  for (const [k, v] of Object.entries(override ?? {})) {
    if (typeof v === 'string') out[k] = v;
  }
  return out;
}

function osOf(host: HostFacts): string {
  if (host.platform === 'win32') return 'windows';
  if (host.platform === 'darwin') return 'darwin';
  return host.hasProc ? 'linux' : 'unknown';
}

function architectureOf(arch: string): string {
  switch (arch) {
    case 'x64':
      return 'amd64';
    case 'ia32':
      return 'x86';
    case 'arm64':
      return 'aarch64';
    default:
      return arch.includes('arm') ? 'arm' : 'unknown';
  }
}

const LEGACY_WILDCARD_KEYS = new Set(['os', 'architecture']);

/** Whether one platform template matches one device label [RC-23]. */
export function templateMatches(
  key: string,
  template: string | null | undefined,
  label: string | undefined,
): boolean {
  if (template === null || template === undefined || template === '*') return true;
  if (label === undefined || label.trim() === '') return false;
  if (template.length >= 2 && template.startsWith('/') && template.endsWith('/')) {
    try {
      return new RegExp(`^(?:${template.slice(1, -1)})$`).test(label);
    } catch {
      return false;
    }
  }
  if ((template === 'all' || template === 'any') && LEGACY_WILDCARD_KEYS.has(key)) return true;
  if (/^[a-zA-Z0-9]/.test(template)) return template === label;
  return false;
}

/** Whether every attribute of a manifest's Platform matches the device [RC-22, RC-23]. */
export function manifestMatches(platform: Manifest['platform'], device: DevicePlatform): boolean {
  return Object.entries(platform ?? {}).every(([key, template]) =>
    templateMatches(key, template, Object.hasOwn(device, key) ? device[key] : undefined),
  );
}

export type ManifestSelection =
  | { ok: true; manifest: Manifest; index: number }
  | { ok: false; error: 'RECIPE_MISSING_MANIFEST' | 'NO_MATCHING_PLATFORM'; message: string };

/** The first manifest that matches the device [RC-22]; none means unusable here [RC-11, RC-24]. */
export function selectManifest(recipe: Recipe, device: DevicePlatform): ManifestSelection {
  const id = `${recipe.componentName}@${recipe.componentVersion}`;
  if (recipe.manifests.length === 0) {
    return { ok: false, error: 'RECIPE_MISSING_MANIFEST', message: `${id}: the recipe has no manifests` };
  }
  const index = recipe.manifests.findIndex((m) => manifestMatches(m.platform, device));
  if (index < 0) {
    const attrs = Object.entries(device)
      .map(([k, v]) => `${k}=${v}`)
      .join(', ');
    return {
      ok: false,
      error: 'NO_MATCHING_PLATFORM',
      message: `${id}: no manifest matches the platform ${attrs}`,
    };
  }
  return { ok: true, manifest: recipe.manifests[index], index };
}
