// The init config `tendril setup` writes to <root>/config/config.yaml (Greengrass format [CF-61]):
// provisioning against the local cloud or AWS IoT, and runWithDefault = the component user:group.
// A re-run merges into the file it finds, so settings it is not given are kept.
import { chmodSync, existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import yaml from 'js-yaml';
import { parseInitConfig, type JsonObject } from '../config/index.js';
import { DEFAULT_NUCLEUS_NAME } from '../nucleus/index.js';
import { runProvision } from './localcloud-command.js';

export type Provisioning =
  | { kind: 'none' }
  | { kind: 'localcloud'; dataDir: string; thingName: string; thingGroup?: string }
  | {
      kind: 'aws';
      thingName: string;
      cert: string;
      key: string;
      rootCa: string;
      iotDataEndpoint: string;
      iotCredEndpoint: string;
      region: string;
      roleAlias?: string;
    };

function isMap(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Deep merge of maps; `over` wins on leaves and lists. */
export function mergeMaps(base: JsonObject, over: JsonObject): JsonObject {
  const out: JsonObject = { ...base };
  for (const [k, v] of Object.entries(over)) {
    const b = out[k];
    out[k] = isMap(b) && isMap(v) ? mergeMaps(b, v) : v;
  }
  return out;
}

function nucleusNode(configuration: JsonObject): JsonObject {
  return {
    services: { [DEFAULT_NUCLEUS_NAME]: { componentType: 'NUCLEUS', configuration } },
  };
}

function existingThing(cfg: JsonObject): { thing?: string; cert?: string } {
  const system = isMap(cfg.system) ? cfg.system : {};
  return {
    thing: typeof system.thingName === 'string' ? system.thingName : undefined,
    cert: typeof system.certificateFilePath === 'string' ? system.certificateFilePath : undefined,
  };
}

export interface WriteInitConfigResult {
  path: string;
  /** What provisioning did: 'provisioned', 'kept' (same thing already provisioned), 'none'. */
  provisioning: 'provisioned' | 'kept' | 'configured' | 'none';
  config: JsonObject;
}

export async function writeInitConfig(
  root: string,
  runWith: { user: string; group: string },
  prov: Provisioning,
): Promise<WriteInitConfigResult> {
  const path = join(root, 'config', 'config.yaml');
  const current: JsonObject = existsSync(path) ? parseInitConfig(readFileSync(path, 'utf8'), path) : {};
  let layer: JsonObject = {};
  let provisioning: WriteInitConfigResult['provisioning'] = 'none';
  if (prov.kind === 'localcloud') {
    const was = existingThing(current);
    if (was.thing === prov.thingName && was.cert && existsSync(was.cert)) {
      provisioning = 'kept'; // a second certificate for the same thing would only add clutter
    } else {
      const certs = join(root, 'certs');
      const result = await runProvision({
        dataDir: resolve(prov.dataDir),
        thingName: prov.thingName,
        thingGroup: prov.thingGroup,
        outDir: certs,
      });
      chmodSync(certs, 0o700);
      rmSync(result.configPath, { force: true }); // its content goes into <root>/config/config.yaml
      layer = result.config as JsonObject;
      provisioning = 'provisioned';
    }
  } else if (prov.kind === 'aws') {
    layer = mergeMaps(
      {
        system: {
          thingName: prov.thingName,
          certificateFilePath: resolve(prov.cert),
          privateKeyPath: resolve(prov.key),
          rootCaPath: resolve(prov.rootCa),
        },
      },
      nucleusNode({
        awsRegion: prov.region,
        iotDataEndpoint: prov.iotDataEndpoint,
        iotCredEndpoint: prov.iotCredEndpoint,
        ...(prov.roleAlias !== undefined && { iotRoleAlias: prov.roleAlias }),
      }),
    );
    provisioning = 'configured';
  }
  const runWithDefault = nucleusNode({ runWithDefault: { posixUser: `${runWith.user}:${runWith.group}` } });
  const config = mergeMaps(mergeMaps(mergeMaps(current, nucleusNode({})), layer), runWithDefault);
  const text = yaml.dump(config, { lineWidth: -1 });
  parseInitConfig(text, path); // what the nucleus will read must be valid before it replaces anything
  const tmp = `${path}.tmp`;
  writeFileSync(tmp, text, { mode: 0o600 });
  renameSync(tmp, path);
  return { path, provisioning, config };
}
