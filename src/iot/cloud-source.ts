// Cloud component resolution: a ComponentSource (the seam src/deployment defines) that asks the data
// plane for one candidate per component [CL-24], with the requirements of the deployment being run
// (its group's exact root versions, and the dependency ranges of the recipes resolved so far), then
// downloads the chosen version's `greengrass:` artifacts [CL-30, CL-37, CL-38] and `s3://` ones with
// the token exchange service's credentials [CL-63], and imports recipe and artifacts into the
// component store. `docker:` artifacts are refused [CL-65]. A local version is used when the cloud
// cannot answer [CL-26]; LOCAL deployments resolve from the store alone.
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import {
  hashAlgorithm,
  parseDeploymentDocument,
  type ComponentCandidate,
  type ComponentSource,
  type ComponentStore,
  type DeploymentQueue,
} from '../deployment/index.js';
import {
  artifactFileName,
  parseRecipe,
  selectManifest,
  type DevicePlatform,
  type Recipe,
} from '../recipe/index.js';
import { ArtifactDownloadError, downloadArtifact } from './artifact-download.js';
import type { DataPlaneClient } from './data-plane.js';
import type { NetworkProxy } from './proxy.js';
import type { S3ArtifactFetcher } from './s3-artifact.js';

const DOCKER_APPLICATION_MANAGER = 'aws.greengrass.DockerApplicationManager';

export interface CloudSourceOptions {
  client: DataPlaneClient;
  store: ComponentStore;
  /** The engine's queue: its head is the deployment being resolved. */
  queue: DeploymentQueue;
  platform: DevicePlatform;
  /** The nucleus root: downloads in progress live under packages/.downloads (kept for resume). */
  root: string;
  /** For `s3://` artifacts; without it they are refused with the reason. */
  s3?: S3ArtifactFetcher;
  /** networkProxy for the presigned downloads [CF-40]. */
  proxy?: NetworkProxy;
  log?: (msg: string) => void;
}

export class CloudComponentSource implements ComponentSource {
  /** Per deployment: name -> recipe of what the cloud resolved (their dependency ranges count). */
  private seen = new Map<string, Recipe>();
  private seenFor = '';

  constructor(private readonly o: CloudSourceOptions) {}

  async listVersions(name: string): Promise<ComponentCandidate[]> {
    const local = await this.o.store.listVersions(name);
    const entry = this.o.queue.peek();
    if (!entry || entry.type === 'LOCAL' || entry.document === undefined) return local;
    const parsed = parseDeploymentDocument(entry.document);
    if (!parsed.ok) return local;
    const doc = parsed.document;
    if (this.seenFor !== doc.deploymentId) {
      this.seen = new Map();
      this.seenFor = doc.deploymentId;
    }
    const requirements: Record<string, string> = {};
    const root = doc.rootComponents[name];
    if (root !== undefined) requirements[doc.groupName] = `=${root}`;
    for (const [by, recipe] of this.seen) {
      const dep = recipe.componentDependencies[name];
      if (dep) requirements[by] = dep.versionRequirement;
    }
    // A root of another group, untouched by this deployment: its installed versions are enough.
    if (Object.keys(requirements).length === 0 && local.length > 0) return local;
    const localVersion = local.length > 0 ? local[local.length - 1].version : undefined;
    let resolved;
    try {
      resolved = await this.o.client.resolveComponent(name, requirements, this.o.platform, localVersion);
    } catch (e) {
      if (local.length > 0) {
        this.o.log?.(
          `cloud resolution of ${name} failed (${(e as Error).message}); using the local versions`,
        );
        return local;
      }
      throw e;
    }
    const r = parseRecipe(resolved.recipe);
    if (!r.ok) throw new Error(`the cloud's recipe of ${name}@${resolved.componentVersion} does not parse`);
    this.seen.set(name, r.recipe);
    if (!local.some((c) => c.version === resolved.componentVersion))
      await this.fetch(r.recipe, resolved.recipe, resolved.arn);
    return this.o.store.listVersions(name);
  }

  /** Downloads the artifacts of the platform's manifest and imports the version into the store. */
  private async fetch(recipe: Recipe, text: string, arn: string): Promise<void> {
    const { componentName: name, componentVersion: version } = recipe;
    const downloads = path.join(this.o.root, 'packages', '.downloads');
    const artifactDir = path.join(downloads, 'artifacts');
    const recipeDir = path.join(downloads, `recipe-${name}-${version}`);
    const sel = selectManifest(recipe, this.o.platform);
    for (const a of sel.ok ? sel.manifest.artifacts : []) {
      const where = `${name}@${version}: artifact ${a.uri}`;
      if (/^docker:/i.test(a.uri)) throw this.dockerRefusal(where);
      const s3 = this.o.s3;
      const from = a.uri.startsWith('greengrass:')
        ? {
            url: () => this.o.client.artifactUrl(arn, a.uri.slice('greengrass:'.length)),
            proxy: this.o.proxy,
          }
        : a.uri.startsWith('s3://') && s3
          ? { open: (headers: Record<string, string>) => s3.open(a.uri, headers) }
          : undefined;
      if (!from)
        throw new ArtifactDownloadError(
          'ARTIFACT_DOWNLOAD_ERROR',
          a.uri.startsWith('s3://')
            ? `${where}: s3:// artifacts need the token exchange service: set iotCredEndpoint and iotRoleAlias in the nucleus configuration`
            : `${where}: only greengrass: and s3:// artifacts are fetched from the cloud`,
        );
      const file = path.join(artifactDir, name, version, artifactFileName(a.uri));
      const outcome = await downloadArtifact({
        ...from,
        file,
        digest: a.digest,
        algorithm: a.algorithm === undefined ? undefined : hashAlgorithm(a.algorithm),
        log: this.o.log,
      });
      this.o.log?.(`artifact ${name}@${version} ${a.uri}: ${outcome}`);
    }
    await mkdir(recipeDir, { recursive: true, mode: 0o700 });
    await writeFile(path.join(recipeDir, `${name}-${version}.json`), text);
    try {
      await this.o.store.importComponents({
        recipeDir,
        artifactDir,
        platform: this.o.platform,
        componentVersionArn: (n, v) => (n === name && v === version ? arn : undefined),
        // downloadArtifact checked each file against this recipe's digest as it wrote it [CL-38]
        moveArtifacts: true,
        digestsVerified: true,
      });
    } finally {
      await rm(recipeDir, { recursive: true, force: true });
    }
    await rm(path.join(artifactDir, name, version), { recursive: true, force: true });
  }

  /**
   * [CL-65] docker: images need aws.greengrass.DockerApplicationManager in the deployment; Tendril
   * pulls no images, so with it the answer is "not supported".
   */
  private dockerRefusal(where: string): ArtifactDownloadError {
    const entry = this.o.queue.peek();
    const parsed = entry?.document === undefined ? undefined : parseDeploymentDocument(entry.document);
    const inDeployment =
      (parsed?.ok === true && parsed.document.rootComponents[DOCKER_APPLICATION_MANAGER] !== undefined) ||
      [...this.seen.values()].some((r) => r.componentDependencies[DOCKER_APPLICATION_MANAGER] !== undefined);
    return inDeployment
      ? new ArtifactDownloadError(
          'DOCKER_ARTIFACTS_NOT_SUPPORTED',
          `DOCKER_ARTIFACTS_NOT_SUPPORTED: ${where}: docker: artifacts are not supported by Tendril (it pulls no images)`,
        )
      : new ArtifactDownloadError(
          'MISSING_DOCKER_APPLICATION_MANAGER',
          `MISSING_DOCKER_APPLICATION_MANAGER: ${where}: docker: artifacts need the ${DOCKER_APPLICATION_MANAGER} component in the deployment (and Tendril pulls no images)`,
        );
  }
}
