// The hostile inputs of faults/hostile.ts, as data: each case is what is sent and the words its
// refusal must contain (the field it names). Sent through the real entry points: local deployments
// (`tendril deployment create`, i.e. IPC CreateLocalDeployment), the local cloud's control plane (the
// unmodified SDK), and job documents published to the device over MQTT as if from the cloud.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeZip, type ZipEntrySpec } from '../../test/integration/deployment/zip-helper.js';
import { recipe } from './local.js';

export interface RecipeCase {
  name: string;
  /** A recipe object, or raw file text (written as `<file>`). */
  recipe: Record<string, unknown> | { file: string; text: string };
  expect: RegExp;
}

/** Malformed and oversized recipes for component `c` (deployed as c=1.0.0). */
export function recipeCases(c: string): RecipeCase[] {
  const ok = recipe(c, '1.0.0', 'exec sleep 100000');
  return [
    {
      name: 'no ComponentVersion',
      recipe: { ...ok, ComponentVersion: undefined },
      expect: /ComponentVersion: is required/,
    },
    {
      name: 'ComponentVersion not semver',
      recipe: { ...ok, ComponentVersion: 'one.two' },
      expect: /ComponentVersion: must be a semantic version/,
    },
    {
      name: 'Manifests not a list',
      recipe: { ...ok, Manifests: 'all' },
      expect: /Manifests: must be a list/,
    },
    {
      name: 'dependency with a garbage version requirement',
      recipe: { ...ok, ComponentDependencies: { 'com.example.Other': { VersionRequirement: '>>1' } } },
      expect: /VersionRequirement/,
    },
    { name: 'not JSON or YAML', recipe: { file: `${c}-1.0.0.yaml`, text: '{{{: [' }, expect: /\.yaml/ },
    {
      name: 'oversized recipe (2 MiB)',
      recipe: { ...ok, ComponentConfiguration: { DefaultConfiguration: { pad: 'x'.repeat(2 * 2 ** 20) } } },
      expect: /over the 1048576-byte limit/,
    },
  ];
}

export interface DocumentCase {
  name: string;
  merge?: string[];
  config?: Record<string, unknown>;
  expect: RegExp;
}

/** Malformed and oversized local deployment documents (the parameters of CreateLocalDeployment). */
export function documentCases(c: string): DocumentCase[] {
  return [
    {
      name: 'root component version not semver',
      merge: [`${c}=notaversion`],
      expect: /rootComponentVersionsToAdd.*semantic version/,
    },
    {
      name: 'MERGE not an object',
      merge: [`${c}=1.0.0`],
      config: { [c]: { MERGE: 'str' } },
      expect: /MERGE must be an object/,
    },
    {
      name: 'RESET not a list of JSON pointers',
      merge: [`${c}=1.0.0`],
      config: { [c]: { RESET: 'x' } },
      expect: /RESET/,
    },
    {
      name: 'oversized document (11 MiB configuration merge)',
      merge: [`${c}=1.0.0`],
      config: { [c]: { MERGE: { pad: 'x'.repeat(11 * 2 ** 20) } } },
      expect: /bytes|limit|too large/i,
    },
  ];
}

/** Job documents sent to the device as `$next/get/accepted` replies, as if from the cloud. */
export function jobCases(
  svc: string,
  version: string,
): { name: string; doc: Record<string, unknown>; expect: RegExp }[] {
  const base = (id: string) => ({
    deploymentId: id,
    configurationArn: `arn:aws:greengrass:us-east-1:123456789012:configuration:thinggroup/forged:1`,
    creationTimestamp: Date.now(),
    failureHandlingPolicy: 'ROLLBACK',
    componentUpdatePolicy: { action: 'NOTIFY_COMPONENTS', timeout: 60 },
  });
  return [
    {
      name: 'components is a string',
      doc: { ...base('f1'), components: 'everything' },
      expect: /components/,
    },
    {
      name: 'component version not semver',
      doc: { ...base('f2'), components: { [svc]: { version: 'latest' } } },
      expect: /version/,
    },
    {
      name: 'oversized document (11 MiB)',
      doc: {
        ...base('f3'),
        components: { [svc]: { version, configurationUpdate: { merge: { pad: 'x'.repeat(11 * 2 ** 20) } } } },
      },
      expect: /bytes|limit|too large/i,
    },
  ];
}

export interface ArchiveCase {
  name: string;
  entries: ZipEntrySpec[];
  /** Paths that must not exist afterwards (outside the component's unarchive folder). */
  outside: (root: string) => string[];
  expect: RegExp;
}

export function archiveCases(id: string): ArchiveCase[] {
  return [
    {
      name: 'entry with ../ traversal',
      entries: [
        { name: 'ok.txt', text: 'ok' },
        { name: `../../../../escape-${id}.txt`, text: 'escaped' },
      ],
      outside: (root) => [
        join(root, `escape-${id}.txt`),
        join(root, 'packages', `escape-${id}.txt`),
        `/tmp/escape-${id}.txt`,
      ],
      expect: /escape|\.\./,
    },
    {
      name: 'absolute entry path',
      entries: [{ name: `/tmp/abs-${id}.txt`, text: 'absolute' }],
      outside: () => [`/tmp/abs-${id}.txt`],
      expect: /abs-|absolute/,
    },
    {
      name: 'symlink entry out of the folder, then a file through it',
      entries: [
        { name: 'link', symlinkTo: '/tmp' },
        { name: `link/through-${id}.txt`, text: 'through the link' },
      ],
      outside: () => [`/tmp/through-${id}.txt`],
      expect: /link|symlink/,
    },
  ];
}

/** The ZIP bytes of a case (built with python3's zipfile, as the archive tests do). */
export function zipBytes(dir: string, c: ArchiveCase, n: number): Buffer {
  const file = join(dir, `case${n}.zip`);
  makeZip(file, c.entries);
  return readFileSync(file);
}
