// The device broker as a real Mosquitto: either a process this local cloud starts (config, ACL and
// certificates in <dataDir>/mosquitto/) or an already running broker at a URL. The cloud's services (jobs,
// shadows, fleet status, telemetry) are then an MQTT client of that broker: they subscribe to the device
// request topics and take the thing from the topic, `$aws/things/<thing>/...`; the broker's ACL (the device
// policy, `%u` = certificate CN) is what keeps a device to its own topics. Connections are seen in the
// started broker's log; with an external broker, a thing counts as connected from its first message.
// Unlike the embedded broker, Mosquitto does not tie the client id to the certificate (CL-67): a device
// could take over another's client id; the local cloud logs such connections.
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import type { DeviceBroker, DevicePublishHandler } from './broker.js';
import {
  mosquittoUser,
  SERVICE_IDENTITY,
  writeMosquittoFiles,
  type MosquittoFiles,
} from './mosquitto-config.js';
import { findMosquitto, freePort, startMosquitto, type MosquittoProcess } from './mosquitto-process.js';
import type { LocalCa, ServerIdentity } from './pki.js';
import type { DevicePolicy } from './policy.js';

/** Where the device broker runs. */
export type BrokerSelection =
  { kind: 'embedded' } | { kind: 'mosquitto'; bin: string } | { kind: 'external'; url: URL };

const URL_PROTOCOLS = ['mqtt:', 'mqtts:', 'mqtt+unix:'];

/**
 * The `broker` option: 'embedded' (default), 'mosquitto', or a broker URL (mqtt://, mqtts://,
 * mqtt+unix:///path). Throws naming the option and the reason.
 */
export function parseBrokerOption(v: unknown, mosquittoPath?: string): BrokerSelection {
  if (v === undefined || v === 'embedded') return { kind: 'embedded' };
  if (typeof v !== 'string' || v === '')
    throw new TypeError("broker must be 'embedded', 'mosquitto' or a broker URL");
  if (v === 'mosquitto') {
    const bin = findMosquitto(mosquittoPath);
    if (!bin)
      throw new Error(
        mosquittoPath !== undefined
          ? `broker 'mosquitto': mosquittoPath ${mosquittoPath} is not an executable`
          : "broker 'mosquitto': no mosquitto executable on the PATH, in /usr/sbin or /usr/local/sbin " +
              '(Debian: apt-get install mosquitto)',
      );
    return { kind: 'mosquitto', bin };
  }
  let url: URL;
  try {
    url = new URL(v);
  } catch {
    throw new TypeError(`broker must be 'embedded', 'mosquitto' or a broker URL, got '${v}'`);
  }
  if (!URL_PROTOCOLS.includes(url.protocol))
    throw new TypeError(`broker URL ${v}: the scheme must be mqtt://, mqtts:// or mqtt+unix://`);
  if (url.protocol === 'mqtt+unix:' && url.pathname === '')
    throw new TypeError(
      `broker URL ${v}: mqtt+unix:// needs a socket path, e.g. mqtt+unix:///run/broker.sock`,
    );
  return { kind: 'external', url };
}

/** The device request topics the services answer (their replies lie deeper, so they never come back). */
export const SERVICE_TOPICS = [
  '$aws/things/+/jobs/+/namespace-aws-gg-deployment/+',
  '$aws/things/+/shadow/+',
  '$aws/things/+/shadow/name/+/+',
  '$aws/things/+/greengrassv2/health/json',
  '$aws/things/+/greengrass/health/json',
];

export interface MosquittoBrokerOptions {
  selection: Exclude<BrokerSelection, { kind: 'embedded' }>;
  dataDir: string;
  host: string;
  /** The device listener's port; 0 = any free port (started broker) or the URL's port (external). */
  port: number;
  identity: ServerIdentity;
  policy: DevicePolicy;
  ca: LocalCa;
  /** Whether a thing is registered; only registered things count as connected. */
  isKnownThing(thing: string): boolean;
  log(msg: string): void;
}

const THING_CLIENT_ID = (thing: string, id: string) => id === thing || id.startsWith(`${thing}#`);

type MessageListener = (topic: string, payload: Buffer) => void;

/**
 * Connects the services' client, listening for messages before the CONNACK (a kept session delivers its
 * queued messages right after it); rejects with the first connection error.
 */
function connectService(
  url: string,
  opts: IClientOptions,
  what: string,
  onMessage: MessageListener,
): Promise<MqttClient> {
  const c = mqtt.connect(url, {
    protocolVersion: 4,
    reconnectPeriod: 1000,
    connectTimeout: 10000,
    keepalive: 30,
    ...opts,
  });
  c.on('message', onMessage);
  return new Promise((resolve, reject) => {
    const off = () => {
      c.off('connect', ok);
      c.off('error', bad);
      c.off('close', closed);
    };
    const ok = () => {
      off();
      resolve(c);
    };
    const bad = (e: Error) => {
      off();
      c.end(true);
      reject(new Error(`the local cloud's services could not connect to ${what}: ${e.message}`));
    };
    const closed = () => bad(new Error('the connection closed before the CONNACK'));
    c.once('connect', ok);
    c.once('error', bad);
    c.once('close', closed);
  });
}

async function startManaged(
  o: MosquittoBrokerOptions,
  bin: string,
  onEvent: (type: 'connected' | 'disconnected', clientId: string, username?: string) => void,
  onExit: (why: string) => void,
): Promise<{ port: number; files: MosquittoFiles; proc: MosquittoProcess }> {
  const user = mosquittoUser();
  for (let attempt = 1; ; attempt++) {
    const port = o.port || (await freePort(o.host));
    const files = writeMosquittoFiles({ ...o, port, user });
    try {
      const proc = await startMosquitto({
        bin,
        files,
        log: o.log,
        onConnection: (e) => onEvent(e.type, e.clientId, e.username),
        onUnexpectedExit: onExit,
      });
      return { port, files, proc };
    } catch (e) {
      // The free port was taken between the probe and Mosquitto's bind: try another.
      if (o.port === 0 && attempt < 3 && /Address already in use/.test((e as Error).message)) continue;
      throw e;
    }
  }
}

/** Connects to an already running broker; returns the services' client and the devices' port. */
async function connectExternal(
  o: MosquittoBrokerOptions,
  url: URL,
  onMessage: MessageListener,
): Promise<{ client: MqttClient; port: number }> {
  const urlPort = url.port !== '' ? Number(url.port) : url.protocol === 'mqtts:' ? 8883 : 1883;
  const port = o.port || (url.protocol === 'mqtts:' ? urlPort : 0);
  if (port === 0)
    throw new Error(
      `mqttPort: with the broker at ${url.protocol}//${url.host}${url.pathname}, give the port of its ` +
        'device listener (devices connect to the local cloud host at that port)',
    );
  const opts: IClientOptions = {
    clientId: `tendril-localcloud-${process.pid}`,
    clean: true,
    username: url.username ? decodeURIComponent(url.username) : undefined,
    password: url.password ? decodeURIComponent(url.password) : undefined,
    ...(url.protocol === 'mqtt+unix:'
      ? { path: decodeURIComponent(url.pathname), unixSocket: true }
      : { host: url.hostname.replace(/^\[|\]$/g, ''), port: urlPort }),
  };
  if (url.protocol === 'mqtts:') {
    // The services' own identity from the local CA; the broker's certificate must come from it too.
    const svc = await o.ca.issueDevice(SERVICE_IDENTITY);
    Object.assign(opts, { key: svc.privateKeyPem, cert: svc.certificatePem, ca: o.identity.caPem });
  }
  const scheme = url.protocol === 'mqtts:' ? 'mqtts' : 'mqtt';
  const where = `the broker at ${url.protocol}//${url.host}${url.pathname}`;
  return { client: await connectService(`${scheme}://localhost`, opts, where, onMessage), port };
}

export async function startMosquittoBroker(o: MosquittoBrokerOptions): Promise<DeviceBroker> {
  const handlers: DevicePublishHandler[] = [];
  const connectHandlers: ((thing: string) => void)[] = [];
  const early: [string, string, Buffer][] = []; // messages of a kept session, before any handler
  const clients = new Map<string, string>(); // client id -> thing
  const pending = new Set<(e: Error) => void>();
  const external = o.selection.kind === 'external';
  let client: MqttClient | undefined;
  let dead: string | undefined;
  const stopPublishing = (why: string) => {
    dead = why;
    for (const reject of pending) reject(new Error(why));
    pending.clear();
  };
  const connected = (thing: string) => {
    for (const h of connectHandlers) {
      try {
        h(thing);
      } catch (e) {
        o.log(`mqtt: connect handler for ${thing} failed: ${String(e)}`);
      }
    }
  };
  const dispatch = (thing: string, topic: string, payload: Buffer) => {
    for (const h of handlers) {
      try {
        h(thing, topic, payload);
      } catch (e) {
        o.log(`mqtt: handling ${topic} from ${thing} failed: ${String(e)}`);
      }
    }
  };
  const seen = new Set<string>(); // external broker: things heard from since the services connected
  const onMessage: MessageListener = (topic, payload) => {
    const thing = topic.split('/')[2];
    if (!thing) return;
    if (external && !seen.has(thing) && o.isKnownThing(thing)) {
      seen.add(thing);
      clients.set(thing, thing);
      connected(thing);
    }
    if (handlers.length === 0) early.push([thing, topic, payload]);
    else dispatch(thing, topic, payload);
  };
  const onEvent = (type: 'connected' | 'disconnected', clientId: string, username?: string) => {
    if (type === 'disconnected') return void clients.delete(clientId);
    if (username === undefined || username === SERVICE_IDENTITY) return;
    if (!o.isKnownThing(username)) o.log(`mqtt: ${username} connected, but no such thing is registered`);
    if (!THING_CLIENT_ID(username, clientId))
      o.log(`mqtt: thing ${username} connected with client id '${clientId}', which is not its thing name`);
    clients.set(clientId, username);
    connected(username);
  };

  let port: number;
  let proc: MosquittoProcess | undefined;
  if (o.selection.kind === 'mosquitto') {
    const m = await startManaged(o, o.selection.bin, onEvent, (why) => {
      o.log(`mqtt: ${why}; device MQTT is down until the local cloud is restarted`);
      stopPublishing(why);
      client?.end(true);
    });
    port = m.port;
    proc = m.proc;
    try {
      // A kept session: subscriptions and messages queued while the services were away survive.
      client = await connectService(
        'mqtt://localhost',
        { path: m.files.socketPath, unixSocket: true, clientId: 'tendril-localcloud-services', clean: false },
        `mosquitto at ${m.files.socketPath}`,
        onMessage,
      );
    } catch (e) {
      await proc.stop();
      throw e;
    }
  } else {
    ({ client, port } = await connectExternal(o, o.selection.url, onMessage));
  }
  const c: MqttClient = client;
  c.on('connect', () => seen.clear());
  c.on('error', (e) => o.log(`mqtt: the services' connection: ${e.message}`));
  try {
    const granted = await c.subscribeAsync(SERVICE_TOPICS, { qos: 1 });
    const refused = granted.filter((g) => g.qos >= 128).map((g) => g.topic);
    if (refused.length > 0) throw new Error(`the broker refused the subscriptions ${refused.join(', ')}`);
  } catch (e) {
    await c.endAsync(true);
    await proc?.stop();
    throw e;
  }

  return {
    port,
    publish: (topic, payload) => {
      if (dead !== undefined) return Promise.reject(new Error(dead));
      const body = Buffer.from(typeof payload === 'string' ? payload : JSON.stringify(payload));
      return new Promise<void>((resolve, reject) => {
        pending.add(reject);
        c.publish(topic, body, { qos: 1 }, (err) => {
          pending.delete(reject);
          if (err) reject(err);
          else resolve();
        });
      });
    },
    onPublish: (h) => {
      handlers.push(h);
      if (handlers.length === 1 && early.length > 0)
        setImmediate(() => {
          for (const [thing, topic, payload] of early.splice(0)) dispatch(thing, topic, payload);
        });
    },
    onConnect: (h) => connectHandlers.push(h),
    connectedThings: () => [...new Set(clients.values())],
    close: async () => {
      stopPublishing('the local cloud is closing');
      await c.endAsync(true);
      await proc?.stop();
    },
  };
}
