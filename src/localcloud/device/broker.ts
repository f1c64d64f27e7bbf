// The embedded MQTT broker (aedes) behind TLS with mutual authentication (cloud.md CL-66, CL-67): only
// certificates from the local CA get through the handshake; the client id must be the certificate's thing
// name (or `<thing>#N`, CL-67); a device may use only the topics the policy allows. The cloud's own
// services (jobs, shadows, fleet status) run in this process: they see device publishes through `onPublish`
// and answer with `publish`. aedes speaks MQTT 3.1.1 (protocol level 4), not MQTT 5.
import { Aedes, type AuthenticateError, type Client } from 'aedes';
import type { AddressInfo } from 'node:net';
import { createServer, type Server, type TLSSocket } from 'node:tls';
import { allows, type DevicePolicy } from './policy.js';
import type { ServerIdentity } from './pki.js';

export type DevicePublishHandler = (thing: string, topic: string, payload: Buffer) => void;

export interface DeviceBrokerOptions {
  host: string;
  port: number;
  identity: ServerIdentity;
  policy: DevicePolicy;
  /** Whether a thing is registered; unknown things are refused at CONNECT. */
  isKnownThing(thing: string): boolean;
  log(msg: string): void;
}

export interface DeviceBroker {
  readonly port: number;
  /** Publishes from the cloud with QoS 1 (CL-04). */
  publish(topic: string, payload: unknown): Promise<void>;
  onPublish(handler: DevicePublishHandler): void;
  /** Called when a device's MQTT session is ready. */
  onConnect(handler: (thing: string) => void): void;
  /** Thing names of the connected clients. */
  connectedThings(): string[];
  close(): Promise<void>;
}

function authError(message: string, code: number): AuthenticateError {
  return Object.assign(new Error(message), { returnCode: code }) as AuthenticateError;
}

/** The thing name of a TLS client: its certificate's subject CN. */
function certificateThing(conn: unknown): string | undefined {
  const sock = conn as Partial<TLSSocket>;
  if (typeof sock.getPeerCertificate !== 'function') return undefined;
  const cn = sock.getPeerCertificate().subject?.CN;
  return typeof cn === 'string' && cn !== '' ? cn : undefined;
}

export async function startDeviceBroker(opts: DeviceBrokerOptions): Promise<DeviceBroker> {
  const thingOf = new WeakMap<Client, string>();
  const handlers: DevicePublishHandler[] = [];
  const aedes = await Aedes.createBroker({
    authenticate: (client, _user, _pass, done) => {
      const thing = certificateThing(client.conn);
      if (thing === undefined) return done(authError('no client certificate', 5), false);
      if (client.id !== thing && !client.id.startsWith(`${thing}#`)) {
        opts.log(`mqtt: refused client id '${client.id}' for the certificate of thing ${thing}`);
        return done(authError(`client id must be the thing name ${thing}`, 2), false);
      }
      if (!opts.isKnownThing(thing)) {
        opts.log(`mqtt: refused unknown thing ${thing}`);
        return done(authError(`thing ${thing} is not registered`, 5), false);
      }
      thingOf.set(client, thing);
      done(null, true);
    },
    authorizePublish: (client, packet, done) => {
      if (client === null) return done(null);
      const thing = thingOf.get(client);
      if (thing !== undefined && allows(opts.policy, 'publish', thing, packet.topic)) return done(null);
      opts.log(`mqtt: ${thing ?? client.id} may not publish to ${packet.topic}; closing the connection`);
      done(new Error(`not authorized to publish to ${packet.topic}`));
    },
    authorizeSubscribe: (client, sub, done) => {
      const thing = thingOf.get(client);
      if (thing !== undefined && allows(opts.policy, 'subscribe', thing, sub.topic)) return done(null, sub);
      opts.log(`mqtt: ${thing ?? client.id} may not subscribe to ${sub.topic}; granted QoS 128`);
      done(null, null);
    },
  });
  aedes.on('publish', (packet, client) => {
    if (!client) return;
    const thing = thingOf.get(client);
    if (thing === undefined) return;
    const payload = Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload);
    for (const h of handlers) {
      try {
        h(thing, packet.topic, payload);
      } catch (e) {
        opts.log(`mqtt: handling ${packet.topic} from ${thing} failed: ${String(e)}`);
      }
    }
  });
  const server: Server = createServer(
    {
      key: opts.identity.privateKeyPem,
      cert: opts.identity.certificatePem,
      ca: [opts.identity.caPem],
      requestCert: true,
      rejectUnauthorized: true,
    },
    (socket) => aedes.handle(socket),
  );
  server.on('tlsClientError', (e) => opts.log(`mqtt: TLS handshake refused: ${e.message}`));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const sockets = new Set<TLSSocket>();
  server.on('secureConnection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  const clients = new Set<Client>();
  const connectHandlers: ((thing: string) => void)[] = [];
  aedes.on('clientReady', (c) => {
    clients.add(c);
    const thing = thingOf.get(c);
    if (thing !== undefined) for (const h of connectHandlers) h(thing);
  });
  aedes.on('clientDisconnect', (c) => clients.delete(c));
  return {
    port: (server.address() as AddressInfo).port,
    publish: (topic, payload) =>
      new Promise<void>((resolve, reject) =>
        aedes.publish(
          {
            cmd: 'publish',
            topic,
            payload: Buffer.from(typeof payload === 'string' ? payload : JSON.stringify(payload)),
            qos: 1,
            retain: false,
            dup: false,
          },
          (err) => (err ? reject(err) : resolve()),
        ),
      ),
    onPublish: (h) => handlers.push(h),
    onConnect: (h) => connectHandlers.push(h),
    connectedThings: () => [...clients].map((c) => thingOf.get(c)).filter((t): t is string => !!t),
    close: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => aedes.close(() => resolve()));
      await closed;
    },
  };
}
