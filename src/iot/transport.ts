// The MQTT client underneath IotConnection: aws-crt through aws-iot-device-sdk-v2, MQTT 3.1.1 or 5
// over mutual TLS (cloud.md CL-66..CL-70), through an HTTP CONNECT tunnel when the nucleus has a
// network proxy [CF-40]. aws-crt costs about 20 MB, so it is loaded (dynamic import) only when a
// cloud connection is configured.

export interface TransportOptions {
  endpoint: string;
  port: number;
  clientId: string;
  certificatePath: string;
  privateKeyPath: string;
  rootCaPath: string;
  version: 'mqtt3' | 'mqtt5';
  keepAliveSeconds: number;
  pingTimeoutMs: number;
  operationTimeoutMs: number;
  socketConnectTimeoutMs: number;
  minReconnectSeconds: number;
  maxReconnectSeconds: number;
  /** An http:// proxy to tunnel through (CONNECT), with basic authentication when a username is given. */
  httpProxy?: { host: string; port: number; username?: string; password?: string };
}

export interface TransportEvents {
  /** The connection is up; `sessionPresent` false means subscriptions must be made again. */
  up(sessionPresent: boolean): void;
  down(reason: string): void;
  message(topic: string, payload: Buffer): void;
}

/** An MQTT client that reconnects by itself once it has been connected. */
export interface MqttTransport {
  /** First connection; rejects when it fails (the caller retries with backoff). */
  connect(): Promise<void>;
  publish(topic: string, payload: Buffer, qos: 0 | 1): Promise<void>;
  /** Resolves with the granted QoS (128 = refused). */
  subscribe(filter: string, qos: 0 | 1): Promise<number>;
  unsubscribe(filter: string): Promise<void>;
  close(): Promise<void>;
}

type Sdk = typeof import('aws-iot-device-sdk-v2');

let sdk: Promise<Sdk> | undefined;
const loadSdk = (): Promise<Sdk> => (sdk ??= import('aws-iot-device-sdk-v2'));

const toBuffer = (p: ArrayBuffer | Uint8Array | undefined): Buffer =>
  p === undefined ? Buffer.alloc(0) : Buffer.from(p instanceof Uint8Array ? p : new Uint8Array(p));

function proxyOptions(s: Sdk, o: TransportOptions) {
  const p = o.httpProxy;
  if (!p) return undefined;
  const basic = p.username !== undefined;
  return new s.http.HttpProxyOptions(
    p.host,
    p.port,
    basic ? s.http.HttpProxyAuthenticationType.Basic : s.http.HttpProxyAuthenticationType.None,
    p.username,
    p.password,
    undefined,
    s.http.HttpProxyConnectionType.Tunneling,
  );
}

export async function createTransport(o: TransportOptions, ev: TransportEvents): Promise<MqttTransport> {
  const s = await loadSdk();
  return o.version === 'mqtt5' ? mqtt5Transport(s, o, ev) : mqtt3Transport(s, o, ev);
}

function mqtt3Transport(s: Sdk, o: TransportOptions, ev: TransportEvents): MqttTransport {
  const builder = s.iot.AwsIotMqttConnectionConfigBuilder.new_mtls_builder_from_path(
    o.certificatePath,
    o.privateKeyPath,
  );
  const proxy = proxyOptions(s, o);
  if (proxy) builder.with_http_proxy_options(proxy);
  const config = builder
    .with_certificate_authority_from_path(undefined, o.rootCaPath)
    .with_endpoint(o.endpoint)
    .with_port(o.port)
    .with_client_id(o.clientId)
    .with_clean_session(true)
    .with_keep_alive_seconds(o.keepAliveSeconds)
    .with_ping_timeout_ms(o.pingTimeoutMs)
    .with_protocol_operation_timeout_ms(o.operationTimeoutMs)
    .with_reconnect_min_sec(o.minReconnectSeconds)
    .with_reconnect_max_sec(o.maxReconnectSeconds)
    .build();
  config.socket_options = new s.io.SocketOptions(
    s.io.SocketType.STREAM,
    s.io.SocketDomain.IPV4,
    o.socketConnectTimeoutMs,
  );
  const client = new s.mqtt.MqttClient();
  const conn = client.new_connection(config);
  let closed = false;
  conn.on('interrupt', (e) => ev.down(String((e as Error | undefined)?.message ?? e)));
  conn.on('resume', (_rc, sessionPresent) => ev.up(sessionPresent));
  conn.on('error', (e) => ev.down(String((e as Error | undefined)?.message ?? e)));
  conn.on('message', (topic, payload) => ev.message(topic, toBuffer(payload)));
  return {
    connect: async () => {
      const sessionPresent = await conn.connect();
      ev.up(sessionPresent);
    },
    publish: async (topic, payload, qos) => {
      await conn.publish(topic, payload, qos);
    },
    subscribe: async (filter, qos) => {
      const r = await conn.subscribe(filter, qos);
      return r.error_code ? 128 : r.qos;
    },
    unsubscribe: async (filter) => {
      await conn.unsubscribe(filter);
    },
    close: async () => {
      if (closed) return;
      closed = true;
      await conn.disconnect().catch(() => undefined);
    },
  };
}

function mqtt5Transport(s: Sdk, o: TransportOptions, ev: TransportEvents): MqttTransport {
  const m5 = s.mqtt5;
  const builder = s.iot.AwsIotMqtt5ClientConfigBuilder.newDirectMqttBuilderWithMtlsFromPath(
    o.endpoint,
    o.certificatePath,
    o.privateKeyPath,
  );
  const proxy = proxyOptions(s, o);
  if (proxy) builder.withHttpProxyOptions(proxy);
  const config = builder
    .withCertificateAuthorityFromPath(undefined, o.rootCaPath)
    .withPort(o.port)
    .withConnectProperties({
      clientId: o.clientId,
      keepAliveIntervalSeconds: o.keepAliveSeconds,
      sessionExpiryIntervalSeconds: 604800, // [CL-70]
      receiveMaximum: 100,
    })
    .withSessionBehavior(m5.ClientSessionBehavior.RejoinPostSuccess)
    .withRetryJitterMode(m5.RetryJitterType.Full)
    .withMinReconnectDelayMs(o.minReconnectSeconds * 1000)
    .withMaxReconnectDelayMs(o.maxReconnectSeconds * 1000)
    .withPingTimeoutMs(o.pingTimeoutMs)
    .withOfflineQueueBehavior(m5.ClientOperationQueueBehavior.FailAllOnDisconnect) // we spool ourselves
    .build();
  const client = new m5.Mqtt5Client(config);
  let first: { resolve(): void; reject(e: Error): void } | undefined;
  let closed = false;
  client.on('connectionSuccess', (e) => {
    first?.resolve();
    first = undefined;
    ev.up(e.connack.sessionPresent);
  });
  client.on('connectionFailure', (e) => {
    first?.reject(new Error(String(e.error.toString())));
    first = undefined;
  });
  client.on('disconnection', (e) => ev.down(String(e.error.toString())));
  client.on('messageReceived', (e) =>
    ev.message(e.message.topicName, toBuffer(e.message.payload as ArrayBuffer)),
  );
  return {
    connect: () =>
      new Promise<void>((resolve, reject) => {
        first = { resolve, reject };
        client.start();
      }),
    publish: async (topic, payload, qos) => {
      const r = await client.publish({ topicName: topic, payload, qos });
      const code = r?.reasonCode ?? 0;
      if (code >= 128) throw new Error(`PUBACK reason code ${code} for ${topic}`);
    },
    subscribe: async (filter, qos) => {
      const r = await client.subscribe({ subscriptions: [{ topicFilter: filter, qos }] });
      return r.reasonCodes[0] ?? 128;
    },
    unsubscribe: async (filter) => {
      await client.unsubscribe({ topicFilters: [filter] });
    },
    close: async () => {
      if (closed) return;
      closed = true;
      await new Promise<void>((resolve) => {
        client.once('stopped', () => resolve());
        client.stop();
      });
      client.close();
    },
  };
}
