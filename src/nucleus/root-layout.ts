// The root directory, laid out as the Java nucleus lays it out [CF-60..CF-76], with safe modes.
import { chmodSync, mkdirSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';

export interface RootPaths {
  root: string;
  config: string;
  configTlog: string;
  effectiveConfig: string;
  alts: string;
  deployments: string;
  logs: string;
  packages: string;
  recipes: string;
  artifacts: string;
  artifactsUnarchived: string;
  work: string;
  telemetry: string;
  bin: string;
  cliIpcInfo: string;
  ipcSocket: string;
  lockFile: string;
}

export function rootPaths(root: string): RootPaths {
  const r = isAbsolute(root) ? root : resolve(root);
  return {
    root: r,
    config: join(r, 'config'),
    configTlog: join(r, 'config', 'config.tlog'),
    effectiveConfig: join(r, 'config', 'effectiveConfig.yaml'),
    alts: join(r, 'alts'),
    deployments: join(r, 'deployments'),
    logs: join(r, 'logs'),
    packages: join(r, 'packages'),
    recipes: join(r, 'packages', 'recipes'),
    artifacts: join(r, 'packages', 'artifacts'),
    artifactsUnarchived: join(r, 'packages', 'artifacts-unarchived'),
    work: join(r, 'work'),
    telemetry: join(r, 'telemetry'),
    bin: join(r, 'bin'),
    cliIpcInfo: join(r, 'cli_ipc_info'),
    ipcSocket: join(r, 'ipc.socket'),
    lockFile: join(r, 'alts', 'tendril.pid'),
  };
}

/** Directory -> mode; owner-only unless the spec says others may read and traverse [CF-60..CF-75]. */
function layout(p: RootPaths): Array<[string, number]> {
  return [
    [p.root, 0o755],
    [p.config, 0o700],
    [p.alts, 0o700],
    [p.deployments, 0o700],
    [p.logs, 0o700],
    [p.packages, 0o755],
    [p.recipes, 0o700],
    [p.artifacts, 0o755],
    [p.artifactsUnarchived, 0o755],
    [p.work, 0o755],
    [p.telemetry, 0o700],
    [p.bin, 0o755],
    [p.cliIpcInfo, 0o755],
  ];
}

/** Creates every directory of the layout and (re)applies its mode; safe to call on an existing root. */
export function createRootLayout(root: string): RootPaths {
  const p = rootPaths(root);
  for (const [dir, mode] of layout(p)) {
    mkdirSync(dir, { recursive: true, mode });
    chmodSync(dir, mode);
  }
  return p;
}
