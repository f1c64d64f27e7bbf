// Deployment document text -> DeploymentDocument: size cap [DP-26], JSON, form detection, then the
// form's parser. Also the deployment-time capability check [DP-24, DP-34].
import type { JsonObject } from '../recipe/index.js';
import { parseCloudDocument } from './document-cloud.js';
import { DOCUMENT, isObject, describe, Problems } from './document-fields.js';
import { parseInternalDocument } from './document-internal.js';
import { parseLocalRequest } from './document-local.js';
import {
  MAX_DEPLOYMENT_DOCUMENT_BYTES,
  SUPPORTED_CAPABILITIES,
  type ParseDeploymentOptions,
} from './document-options.js';
import type { DeploymentDocument, DeploymentDocumentResult, DocumentProblem } from './document-types.js';

const INTERNAL_KEYS = ['DeploymentId', 'Packages'];
const LOCAL_KEYS = [
  'requestId',
  'componentsToMerge',
  'componentsToRemove',
  'rootComponentVersionsToAdd',
  'rootComponentsToRemove',
  'componentToConfiguration',
  'componentToRunWithInfo',
  'componentNameToConfig',
  'recipeDirectoryPath',
  'artifactsDirectoryPath',
];
const CLOUD_KEYS = ['deploymentId', 'configurationArn', 'components'];
/** [DP-19] control-plane names that never appear in a device document. */
const CONTROL_PLANE_KEYS = ['targetArn', 'deploymentPolicies', 'iotJobConfiguration'];

/** Parses and validates a deployment document given as JSON text or as already-parsed JSON. */
export function parseDeploymentDocument(
  input: string | Buffer | unknown,
  opts: ParseDeploymentOptions = {},
): DeploymentDocumentResult {
  let doc: unknown = input;
  const max = opts.maxBytes ?? MAX_DEPLOYMENT_DOCUMENT_BYTES;
  if (typeof input === 'string' || Buffer.isBuffer(input)) {
    const size = typeof input === 'string' ? Buffer.byteLength(input, 'utf8') : input.length;
    if (size > max)
      return fail(DOCUMENT, `document is ${size} bytes, over the ${max}-byte limit; not parsed`);
    try {
      doc = JSON.parse(typeof input === 'string' ? input : input.toString('utf8'));
    } catch (e) {
      return fail(DOCUMENT, `JSON syntax error: ${(e as Error).message}`);
    }
  } else {
    // documents handed over already parsed (IoT Jobs, shadows, local deployments) have the same cap
    const size = Buffer.byteLength(JSON.stringify(input) ?? '', 'utf8');
    if (size > max) return fail(DOCUMENT, `document is ${size} bytes as JSON, over the ${max}-byte limit`);
  }
  if (!isObject(doc))
    return fail(DOCUMENT, `a deployment document must be a JSON object, got ${describe(doc)}`);

  const form = opts.form ?? detectForm(doc);
  if (form === 'CONTROL_PLANE') {
    const key = CONTROL_PLANE_KEYS.find((k) => Object.hasOwn(doc as JsonObject, k)) ?? 'targetArn';
    return fail(
      key,
      'this is a GreengrassV2 CreateDeployment API request (control-plane input), not a device deployment ' +
        'document; submit it to the cloud, which builds the device document from it [DP-19]',
    );
  }
  if (form === undefined) {
    return fail(
      DOCUMENT,
      'not a deployment document: expected the cloud form (deploymentId, components), the internal form ' +
        '(DeploymentId, Packages) or a local request (rootComponentVersionsToAdd, rootComponentsToRemove)',
    );
  }
  const p = new Problems();
  const parser = { CLOUD: parseCloudDocument, INTERNAL: parseInternalDocument, LOCAL: parseLocalRequest }[
    form
  ];
  const document = parser(doc, p, opts);
  if (document === undefined || p.errors.length > 0) return { ok: false, problems: p.errors };
  return { ok: true, document, warnings: p.warnings };
}

function detectForm(doc: JsonObject): 'CLOUD' | 'INTERNAL' | 'LOCAL' | 'CONTROL_PLANE' | undefined {
  const has = (keys: string[]): boolean => keys.some((k) => Object.hasOwn(doc, k));
  if (has(CONTROL_PLANE_KEYS)) return 'CONTROL_PLANE';
  if (has(INTERNAL_KEYS)) return 'INTERNAL';
  if (has(LOCAL_KEYS)) return 'LOCAL';
  if (has(CLOUD_KEYS)) return 'CLOUD';
  return undefined;
}

function fail(path: string, reason: string): DeploymentDocumentResult {
  return { ok: false, problems: [{ path, reason }] };
}

/**
 * [DP-24, DP-34] Problems for each required capability the nucleus lacks; a non-empty result fails
 * the deployment with NUCLEUS_MISSING_REQUIRED_CAPABILITIES. Deployment time, not parse time: a
 * document naming an unknown capability is well formed.
 */
export function missingCapabilities(
  doc: Pick<DeploymentDocument, 'requiredCapabilities'>,
  supported: readonly string[] = SUPPORTED_CAPABILITIES,
): DocumentProblem[] {
  return doc.requiredCapabilities.flatMap((c, i) =>
    supported.includes(c)
      ? []
      : [
          {
            path: `requiredCapabilities[${i}]`,
            reason: `${JSON.stringify(c)} is not supported by this nucleus (supported: ${supported.join(', ')})`,
          },
        ],
  );
}

/** Renders problems one per line as `path: reason`. */
export function formatDocumentProblems(problems: readonly DocumentProblem[]): string {
  return problems.map((p) => (p.path === DOCUMENT ? p.reason : `${p.path}: ${p.reason}`)).join('\n');
}

/**
 * The group's roots after the deployment [DP-02, DP-23]: cloud and internal documents replace the
 * group's roots; local requests add and remove on top of the current ones.
 */
export function groupRootsAfter(
  current: Readonly<Record<string, string>>,
  doc: Pick<DeploymentDocument, 'rootsMode' | 'rootComponents' | 'rootComponentsToRemove'>,
): Record<string, string> {
  if (doc.rootsMode === 'replace') return { ...doc.rootComponents };
  const out: Record<string, string> = { ...current };
  for (const name of doc.rootComponentsToRemove) delete out[name];
  return Object.assign(out, doc.rootComponents);
}
