// The files of a local cloud's Mosquitto broker, in <dataDir>/mosquitto/ and rewritten at each start: the
// config (a mutual-TLS device listener and a unix-socket listener for the cloud's own services), the ACL
// derived from the device policy, the server certificate and key, and the CA. When the local cloud runs
// as root, Mosquitto drops to its own user right after reading the config, so the directory and its files
// are handed to that user and every directory above must be searchable by it.
import { chmodSync, chownSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { ServerIdentity } from './pki.js';
import type { DevicePolicy } from './policy.js';

/**
 * The MQTT username (certificate CN) of the cloud's services when they reach an external broker over
 * TLS. The '.' keeps it out of the thing-name alphabet, so no device certificate can carry it.
 */
export const SERVICE_IDENTITY = 'tendril.localcloud-services';

/** The unix socket path limit of Linux (sun_path), less its terminating NUL. */
const MAX_SOCKET_PATH = 107;

export interface MosquittoUser {
  name: string;
  uid: number;
  gid: number;
}

export interface MosquittoFiles {
  dir: string;
  confPath: string;
  aclPath: string;
  socketPath: string;
  pidPath: string;
}

export interface MosquittoFileOptions {
  dataDir: string;
  host: string;
  port: number;
  identity: ServerIdentity;
  policy: DevicePolicy;
  /** The user Mosquitto switches to (set when the local cloud runs as root). */
  user?: MosquittoUser;
}

export function mosquittoPaths(dataDir: string): MosquittoFiles {
  const dir = join(resolve(dataDir), 'mosquitto');
  return {
    dir,
    confPath: join(dir, 'mosquitto.conf'),
    aclPath: join(dir, 'acl'),
    socketPath: join(dir, 'service.sock'),
    pidPath: join(dir, 'mosquitto.pid'),
  };
}

const hasControl = (v: string) => [...v].some((ch) => ch.charCodeAt(0) < 0x20 || ch === '\x7f');

/** A policy filter as an ACL topic: `${thing}` becomes Mosquitto's `%u` (the certificate CN). */
function aclTopic(filter: string, where: string): string {
  // '%' would be read as a substitution, a line break would start a new ACL line.
  if (filter.includes('%') || hasControl(filter))
    throw new Error(`${where} '${filter}': '%' and control characters are not supported with Mosquitto`);
  if (filter.trim() !== filter)
    throw new Error(`${where} '${filter}': leading or trailing spaces are not supported with Mosquitto`);
  return filter.split('${thing}').join('%u');
}

/**
 * The ACL for the device policy: publish filters become `write` patterns, subscribe filters `read`
 * patterns (Mosquitto grants any SUBSCRIBE and then delivers only the messages a client may read).
 */
export function aclText(policy: DevicePolicy): string {
  const lines = [
    '# Written by the Tendril local cloud from its device policy at each start; edits are overwritten.',
    '# %u is the MQTT username, which is the CN of the device certificate: the thing name.',
  ];
  for (const [i, f] of policy.publish.entries())
    lines.push(`pattern write ${aclTopic(f, `policy.publish[${i}]`)}`);
  for (const [i, f] of policy.subscribe.entries())
    lines.push(`pattern read ${aclTopic(f, `policy.subscribe[${i}]`)}`);
  lines.push(`user ${SERVICE_IDENTITY}`, 'topic readwrite $aws/things/#');
  return lines.join('\n') + '\n';
}

function configValue(v: string, what: string): string {
  if (hasControl(v)) throw new Error(`${what} '${v}' must not hold control characters`);
  return v;
}

export function configText(o: MosquittoFileOptions, files: MosquittoFiles): string {
  const path = (p: string) => configValue(p, 'the mosquitto file path');
  return [
    '# Written by the Tendril local cloud at each start; edits are overwritten.',
    'per_listener_settings true',
    ...(o.user ? [`user ${o.user.name}`] : []),
    // The service's session (its subscriptions) outlives a restart, so device messages that arrive
    // before the service has connected again are queued for it.
    'persistence true',
    `persistence_location ${path(files.dir)}/`,
    'log_dest stderr',
    'log_type error',
    'log_type warning',
    'log_type notice',
    'connection_messages true',
    'log_timestamp false',
    '',
    '# Devices: mutual TLS with certificates of the local CA; the CN (thing name) is the MQTT username.',
    `listener ${o.port} ${configValue(o.host, 'host')}`,
    `cafile ${path(join(files.dir, 'ca.pem'))}`,
    `certfile ${path(join(files.dir, 'server.crt'))}`,
    `keyfile ${path(join(files.dir, 'server.key'))}`,
    'require_certificate true',
    'use_identity_as_username true',
    'allow_anonymous false',
    `acl_file ${path(files.aclPath)}`,
    '',
    "# The local cloud's services: a unix socket only the broker's user (and root) can reach.",
    `listener 0 ${path(files.socketPath)}`,
    'allow_anonymous true',
    '',
  ].join('\n');
}

/** The user a root-started Mosquitto switches to: `mosquitto`, else `nobody` (as Mosquitto does). */
export function mosquittoUser(passwd = '/etc/passwd'): MosquittoUser | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const entries = new Map<string, MosquittoUser>();
  for (const line of readFileSync(passwd, 'utf8').split('\n')) {
    const [name, , uid, gid] = line.split(':');
    if (name && uid !== undefined && gid !== undefined)
      entries.set(name, { name, uid: Number(uid), gid: Number(gid) });
  }
  return entries.get('mosquitto') ?? entries.get('nobody') ?? { name: 'root', uid: 0, gid: 0 };
}

/** Throws unless `user` can search every directory above `dir` (supplementary groups not counted). */
function checkReachable(dir: string, user: MosquittoUser): void {
  if (user.uid === 0) return;
  for (let d = dirname(dir); ; d = dirname(d)) {
    const st = statSync(d);
    const bit = st.uid === user.uid ? 0o100 : st.gid === user.gid ? 0o010 : 0o001;
    if ((st.mode & bit) === 0)
      throw new Error(
        `mosquitto runs as user ${user.name} and cannot reach ${dir}: ${d} (mode ` +
          `${(st.mode & 0o777).toString(8).padStart(4, '0')}) is not searchable for it; use a data ` +
          'directory below directories it can search, or run the local cloud as another user than root',
      );
    if (d === dirname(d)) return;
  }
}

/** Writes the broker's files; returns their paths. Throws naming the problem before Mosquitto starts. */
export function writeMosquittoFiles(o: MosquittoFileOptions): MosquittoFiles {
  const files = mosquittoPaths(o.dataDir);
  if (Buffer.byteLength(files.socketPath) > MAX_SOCKET_PATH)
    throw new Error(
      `the mosquitto service socket ${files.socketPath} is longer than ${MAX_SOCKET_PATH} bytes ` +
        '(the unix socket limit); use a shorter data directory path',
    );
  const acl = aclText(o.policy);
  const conf = configText(o, files);
  if (o.user) checkReachable(files.dir, o.user);
  mkdirSync(files.dir, { recursive: true, mode: 0o700 });
  chmodSync(files.dir, 0o700);
  rmSync(files.socketPath, { force: true });
  const write = (path: string, text: string, mode: number) => {
    rmSync(path, { force: true });
    writeFileSync(path, text, { mode });
    if (o.user) chownSync(path, o.user.uid, o.user.gid);
  };
  write(join(files.dir, 'ca.pem'), o.identity.caPem, 0o644);
  write(join(files.dir, 'server.crt'), o.identity.certificatePem, 0o644);
  write(join(files.dir, 'server.key'), o.identity.privateKeyPem, 0o600);
  write(files.aclPath, acl, 0o600);
  write(files.confPath, conf, 0o600);
  if (o.user) chownSync(files.dir, o.user.uid, o.user.gid);
  return files;
}
