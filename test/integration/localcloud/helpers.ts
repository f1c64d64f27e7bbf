// Shared fixtures: a local cloud on loopback in a temp dir, the unmodified SDK client pointed at it, and an
// assertion for the service errors the client raises.
import { GreengrassV2Client } from '@aws-sdk/client-greengrassv2';
import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLocalCloud, type LocalCloud } from '../../../src/localcloud/index.js';

export interface Harness {
  cloud: LocalCloud;
  client: GreengrassV2Client;
  dataDir: string;
  /** Stops the server and starts a new one on the same data directory. */
  restart(): Promise<void>;
  close(): Promise<void>;
}

export function clientFor(endpoint: string): GreengrassV2Client {
  return new GreengrassV2Client({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'x', secretAccessKey: 'y' },
    maxAttempts: 1,
  });
}

export async function startHarness(): Promise<Harness> {
  const dataDir = mkdtempSync(join(tmpdir(), 'tendril-localcloud-'));
  const h = {
    dataDir,
    cloud: await createLocalCloud({ dataDir, log: () => {} }),
  } as Harness;
  h.client = clientFor(h.cloud.endpoint);
  h.restart = async () => {
    h.client.destroy();
    await h.cloud.close();
    h.cloud = await createLocalCloud({ dataDir, log: () => {} });
    h.client = clientFor(h.cloud.endpoint);
  };
  h.close = async () => {
    h.client.destroy();
    await h.cloud.close();
    rmSync(dataDir, { recursive: true, force: true });
  };
  return h;
}

/** Awaits `p`, expecting the SDK to raise `name`; returns the error for further checks. */
export async function expectServiceError(
  p: Promise<unknown>,
  name: string,
  field?: string,
): Promise<Record<string, unknown>> {
  let err: unknown;
  try {
    await p;
  } catch (e) {
    err = e;
  }
  expect(err, `expected ${name}`).to.be.instanceOf(Error);
  const e = err as Error & Record<string, unknown>;
  expect(e.name).to.equal(name);
  if (field !== undefined) {
    const fields = (e.fields as { name: string; message: string }[] | undefined) ?? [];
    expect(fields.map((f) => f.name)).to.include(field);
  }
  return e;
}

export function recipeBytes(doc: unknown): Uint8Array {
  return new TextEncoder().encode(typeof doc === 'string' ? doc : JSON.stringify(doc));
}

export function simpleRecipe(name: string, version: string, extra: Record<string, unknown> = {}) {
  return {
    RecipeFormatVersion: '2020-01-25',
    ComponentName: name,
    ComponentVersion: version,
    ComponentDescription: `${name} for tests`,
    ComponentPublisher: 'Tendril tests',
    Manifests: [{ Platform: { os: 'linux' }, Lifecycle: { run: 'echo hi' } }],
    ...extra,
  };
}
