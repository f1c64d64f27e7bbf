// REQUESTED -> DEPLOYABLE | FAILED [CP-27]: a new component version is checked against the artifact store;
// each stored artifact gets its digest (CP-66), each missing one an entry in `errors` keyed by its URI.
import { artifactLocation, type ArtifactStore } from './artifact-store.js';
import { artifactDigest, artifactNodes, artifactUri, setArtifactDigests } from './recipe-document.js';
import type { ComponentVersionRecord, LocalCloudStore } from './store/index.js';

export class ComponentSettler {
  private queue: Promise<void> = Promise.resolve();

  constructor(
    private readonly store: LocalCloudStore,
    private readonly artifacts: ArtifactStore,
    private readonly log: (msg: string) => void,
  ) {}

  /** Checks every REQUESTED version; resolves when all of them (including earlier calls') are done. */
  settle(): Promise<void> {
    this.queue = this.queue.then(async () => {
      for (const rec of this.store.components.pending()) {
        try {
          await this.settleOne(rec);
        } catch (e) {
          this.log(`checking ${rec.name} ${rec.version} failed: ${String(e)}`);
          this.store.components.setStatus(rec.name, rec.version, {
            state: 'FAILED',
            message: `The local cloud could not check the artifacts: ${String(e)}`,
          });
        }
      }
    });
    return this.queue;
  }

  private async settleOne(rec: ComponentVersionRecord): Promise<void> {
    const errors: Record<string, string> = {};
    const digests = new Map<string, string>();
    for (const node of artifactNodes(rec.recipe)) {
      const uri = artifactUri(node);
      if (uri === undefined || uri.startsWith('docker:')) continue;
      const loc = artifactLocation(uri, rec.name, rec.version);
      if (!loc.ok) {
        errors[uri] = loc.reason;
        continue;
      }
      if (!this.artifacts.exists(loc.relPath)) {
        errors[uri] =
          `artifact not found: upload it, or place it at artifacts/${loc.relPath} in the data directory`;
        continue;
      }
      const digest = await this.artifacts.digest(loc.relPath);
      const given = artifactDigest(node);
      if (given !== undefined && given !== digest) {
        errors[uri] = `the recipe Digest ${given} does not match the artifact's SHA-256 ${digest}`;
        continue;
      }
      digests.set(uri, digest);
    }
    if (Object.keys(errors).length > 0) {
      this.store.components.setStatus(rec.name, rec.version, {
        state: 'FAILED',
        message: 'The component version has missing or invalid artifacts.',
        errors,
      });
      return;
    }
    const recipe = structuredClone(rec.recipe);
    setArtifactDigests(recipe, digests);
    this.store.components.setStatus(rec.name, rec.version, { state: 'DEPLOYABLE', message: 'NONE' }, recipe);
  }
}
