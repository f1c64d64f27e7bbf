// Device provisioning: registers a thing (and its thing-group membership), issues its certificate from the
// local CA (CN = thing name) and writes a nucleus init config in the Greengrass format pointing at the
// local cloud's device endpoints (cloud.md CL-20..CL-22, CL-54, CL-66).
import { X509Certificate } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import yaml from 'js-yaml';
import type { LocalCloudStore } from '../store/index.js';
import { thingName as checkThingName } from '../validate.js';
import type { LocalCa } from './pki.js';

/** Where devices reach the local cloud; recorded in endpoints.json. */
export interface DeviceEndpoints {
  region: string;
  accountId: string;
  /** Host of the device-facing endpoints, e.g. 127.0.0.1 (covered by the server certificate). */
  deviceHost: string;
  /** https://HOST:PORT of the mutual-TLS data plane. */
  dataPlane: string;
  dataPlanePort: number;
  mqttPort: number;
  /** HOST:PORT, used verbatim after https:// (CL-54). */
  credentialsEndpoint: string;
  roleAlias: string;
  /** The CA certificate devices trust (their rootCaPath). */
  caPath: string;
}

export interface ProvisionRequest {
  thingName: string;
  thingGroup?: string;
  outDir: string;
}

export interface ProvisionResult {
  thingName: string;
  thingGroup?: string;
  configPath: string;
  certificatePath: string;
  privateKeyPath: string;
  rootCaPath: string;
  /** The nucleus init config that was written, as an object. */
  config: Record<string, unknown>;
}

export class ProvisionError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}

function checkName(v: string, field: string): string {
  try {
    return checkThingName(v, field);
  } catch (e) {
    throw new ProvisionError(field, (e as Error).message);
  }
}

export function nucleusInitConfig(
  endpoints: DeviceEndpoints,
  thing: string,
  paths: { certificatePath: string; privateKeyPath: string; rootCaPath: string },
): Record<string, unknown> {
  return {
    system: {
      certificateFilePath: paths.certificatePath,
      privateKeyPath: paths.privateKeyPath,
      rootCaPath: paths.rootCaPath,
      thingName: thing,
    },
    services: {
      'aws.greengrass.Nucleus': {
        componentType: 'NUCLEUS',
        configuration: {
          awsRegion: endpoints.region,
          iotDataEndpoint: endpoints.deviceHost,
          iotCredEndpoint: endpoints.credentialsEndpoint,
          greengrassDataPlaneEndpoint: endpoints.deviceHost,
          greengrassDataPlanePort: endpoints.dataPlanePort,
          iotRoleAlias: endpoints.roleAlias,
          // s3:// artifacts come from the local cloud's S3 endpoint, not AWS [CL-64]
          s3EndpointOverride: `${endpoints.dataPlane}/s3`,
          // The embedded broker speaks MQTT 3.1.1 only.
          mqtt: { port: endpoints.mqttPort, version: 'mqtt3' },
        },
      },
    },
  };
}

/**
 * Registers the thing (and group membership), issues its certificate and writes OUTDIR/config.yaml with the
 * certificate, key and CA beside it. Validates every input before changing anything.
 */
export async function provisionDevice(
  store: LocalCloudStore,
  ca: LocalCa,
  endpoints: DeviceEndpoints,
  req: ProvisionRequest,
  nowMs: number,
): Promise<ProvisionResult> {
  const thing = checkName(req.thingName, 'thingName');
  const group = req.thingGroup === undefined ? undefined : checkName(req.thingGroup, 'thingGroup');
  if (typeof req.outDir !== 'string' || req.outDir === '')
    throw new ProvisionError('outDir', 'outDir is required');
  const outDir = resolve(req.outDir);
  const issued = await ca.issueDevice(thing);
  mkdirSync(outDir, { recursive: true });
  const paths = {
    certificatePath: join(outDir, 'device.pem.crt'),
    privateKeyPath: join(outDir, 'private.pem.key'),
    rootCaPath: join(outDir, 'root.ca.pem'),
  };
  writeFileSync(paths.privateKeyPath, issued.privateKeyPem, { mode: 0o600 });
  writeFileSync(paths.certificatePath, issued.certificatePem);
  writeFileSync(paths.rootCaPath, ca.caPem);
  const config = nucleusInitConfig(endpoints, thing, paths);
  const configPath = join(outDir, 'config.yaml');
  writeFileSync(configPath, yaml.dump(config, { lineWidth: -1 }));
  const fingerprint = new X509Certificate(issued.certificatePem).fingerprint256;
  store.transaction(() => {
    store.things.create(thing, nowMs);
    store.things.setCertificate(thing, fingerprint);
    if (group !== undefined) {
      store.things.createGroup(group, nowMs);
      store.coreDevices.addToThingGroup(group, thing);
    }
  });
  return { thingName: thing, thingGroup: group, configPath, ...paths, config };
}
