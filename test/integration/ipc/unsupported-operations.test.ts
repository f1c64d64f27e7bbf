// The operations Tendril declares but cannot serve yet answer a precise ServiceError through the
// official client, after the real operation's caller checks (ipc.md IPC-34, IPC-54, IPC-55,
// IPC-66, IPC-67, IPC-77..85, IPC-88, IPC-90, IPC-101).
import { expect } from 'chai';
import { officialClient, rpcError } from '../../support/ipc-client.js';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventstream_rpc, greengrasscoreipc } from 'aws-iot-device-sdk-v2';
import {
  AuthTokenRegistry,
  buildPolicyIndex,
  IpcServer,
  OperationRegistry,
  policyAuthorizer,
  PUBLISH_TO_IOT_CORE,
  registerUnavailableOperations,
} from '../../../src/ipc/index.js';

type Client = greengrasscoreipc.Client;

const shape = (e: eventstream_rpc.RpcError) =>
  (e.serviceError as { _errorCode?: string } | undefined)?._errorCode;
const message = (e: eventstream_rpc.RpcError) =>
  (e.serviceError as { message?: string } | undefined)?.message ?? String(e);

describe('IPC operations without a backend (official client)', function () {
  let dir: string;
  let server: IpcServer;
  let tokens: AuthTokenRegistry;
  let registry: OperationRegistry;
  const clients: Client[] = [];

  async function connect(component: string): Promise<Client> {
    const token = tokens.issue(component);
    const client = officialClient(server.socketPath, token);
    clients.push(client);
    await client.connect();
    return client;
  }

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tendril-ipc-unsupported-'));
    tokens = new AuthTokenRegistry();
    registry = new OperationRegistry();
    registerUnavailableOperations(registry);
    const index = buildPolicyIndex({
      Mqtt: {
        'aws.greengrass.ipc.mqttproxy': {
          'mqtt-1': { operations: ['*'], resources: ['devices/+/telemetry'] },
        },
      },
      'aws.greengrass.Metrics': {
        'aws.greengrass.ipc.componentmetric': {
          'metric-1': {
            operations: ['aws.greengrass#PutComponentMetric'],
            resources: ['allowed*'],
          },
        },
      },
    });
    server = new IpcServer({
      socketPath: join(dir, 'ipc.socket'),
      authenticate: tokens.lookup,
      authorize: policyAuthorizer(index),
      registry,
    });
    await server.listen();
  });
  after(async () => {
    for (const c of clients.splice(0)) await c.close().catch(() => {});
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });

  describe('mqttproxy', () => {
    it('[IPC-54][IPC-90] PublishToIoTCore, once authorized, answers ServiceError "no cloud connection"', async () => {
      const c = await connect('Mqtt');
      const e = await rpcError(
        c.publishToIoTCore({
          topicName: 'devices/d1/telemetry',
          qos: greengrasscoreipc.model.QOS.AT_LEAST_ONCE,
          payload: Buffer.from('{}'),
        }),
      );
      expect(shape(e)).to.equal('ServiceError');
      expect(message(e)).to.equal('PublishToIoTCore is not available: no cloud connection');
    });

    it('[IPC-55][IPC-90] SubscribeToIoTCore, once authorized, answers ServiceError "no cloud connection"', async () => {
      const c = await connect('Mqtt');
      const op = c.subscribeToIoTCore({
        topicName: 'devices/+/telemetry',
        qos: greengrasscoreipc.model.QOS.AT_MOST_ONCE,
      });
      const e = await rpcError(op.activate());
      expect(shape(e)).to.equal('ServiceError');
      expect(message(e)).to.equal('SubscribeToIoTCore is not available: no cloud connection');
    });

    it('[IPC-97][IPC-98] a topic outside the mqttproxy policy is UnauthorizedError naming component, operation and topic', async () => {
      const c = await connect('Mqtt');
      const e = await rpcError(
        c.publishToIoTCore({
          topicName: 'devices/d1/other',
          qos: greengrasscoreipc.model.QOS.AT_MOST_ONCE,
          payload: Buffer.from('x'),
        }),
      );
      expect(shape(e)).to.equal('UnauthorizedError');
      expect(message(e)).to.equal(
        'Principal Mqtt is not authorized to perform aws.greengrass.ipc.mqttproxy:aws.greengrass#PublishToIoTCore on resource devices/d1/other',
      );
    });

    it('[IPC-90] a publish without payload is refused before authorization', async () => {
      const c = await connect('NoPolicy');
      const e = await rpcError(
        c.publishToIoTCore({ topicName: 'a/b', qos: greengrasscoreipc.model.QOS.AT_MOST_ONCE }),
      );
      expect(shape(e)).to.equal('ServiceError');
      expect(message(e)).to.equal('Payload is required');
    });
  });

  describe('PutComponentMetric', () => {
    const metric = (name: string) => ({
      metrics: [{ name, unit: greengrasscoreipc.model.MetricUnitType.COUNT, value: 1 }],
    });

    it('[IPC-66][IPC-101] an authorized aws.* caller gets ServiceError: no telemetry publisher', async () => {
      const c = await connect('aws.greengrass.Metrics');
      const e = await rpcError(c.putComponentMetric(metric('allowedCount')));
      expect(shape(e)).to.equal('ServiceError');
      expect(message(e)).to.contain('PutComponentMetric is not available');
    });

    it('[IPC-101] a caller outside aws.* is UnauthorizedError', async () => {
      const c = await connect('com.example.App');
      const e = await rpcError(c.putComponentMetric(metric('allowedCount')));
      expect(shape(e)).to.equal('UnauthorizedError');
      expect(message(e)).to.contain('com.example.App').and.contain('aws.greengrass#PutComponentMetric');
    });

    it('[IPC-101] a metric name outside the policy is UnauthorizedError naming the metric', async () => {
      const c = await connect('aws.greengrass.Metrics');
      const e = await rpcError(c.putComponentMetric(metric('other')));
      expect(shape(e)).to.equal('UnauthorizedError');
      expect(message(e)).to.equal(
        'Principal aws.greengrass.Metrics is not authorized to perform aws.greengrass.ipc.componentmetric:aws.greengrass#PutComponentMetric on resource other',
      );
    });

    it('[IPC-66][IPC-101] StreamManager needs no policy; bad metrics are InvalidArgumentsError', async () => {
      const c = await connect('aws.greengrass.StreamManager');
      const ok = await rpcError(c.putComponentMetric(metric('anything')));
      expect(shape(ok)).to.equal('ServiceError');
      const tooLong = await rpcError(c.putComponentMetric(metric('x'.repeat(33))));
      expect(shape(tooLong)).to.equal('InvalidArgumentsError');
      expect(message(tooLong)).to.contain('32 UTF-8 bytes');
      const negative = await rpcError(
        c.putComponentMetric({
          metrics: [{ name: 'n', unit: greengrasscoreipc.model.MetricUnitType.SECONDS, value: -1 }],
        }),
      );
      expect(shape(negative)).to.equal('InvalidArgumentsError');
    });
  });

  describe('ValidateAuthorizationToken', () => {
    it('[IPC-67][IPC-101] a caller other than StreamManager is UnauthorizedError', async () => {
      const c = await connect('com.example.App');
      const e = await rpcError(c.validateAuthorizationToken({ token: 't' }));
      expect(shape(e)).to.equal('UnauthorizedError');
      expect(message(e)).to.contain('com.example.App');
    });

    it('[IPC-67] StreamManager gets ServiceError: no external-client tokens', async () => {
      const c = await connect('aws.greengrass.StreamManager');
      const e = await rpcError(c.validateAuthorizationToken({ token: 't' }));
      expect(shape(e)).to.equal('ServiceError');
      expect(message(e)).to.contain('ValidateAuthorizationToken is not available');
    });
  });

  describe('plugin operations', () => {
    it('[IPC-77][IPC-88] shadow operations answer ServiceError "not supported" naming ShadowManager', async () => {
      const c = await connect('App');
      const e = await rpcError(c.getThingShadow({ thingName: 't' }));
      expect(shape(e)).to.equal('ServiceError');
      expect(message(e)).to.equal(
        'Operation aws.greengrass#GetThingShadow is not supported: aws.greengrass.ShadowManager is not available in Tendril',
      );
    });

    it('[IPC-81][IPC-88] GetSecretValue answers ServiceError "not supported"', async () => {
      const c = await connect('App');
      const e = await rpcError(c.getSecretValue({ secretId: 's' }));
      expect(shape(e)).to.equal('ServiceError');
      expect(message(e)).to.contain('not supported').and.contain('aws.greengrass.SecretManager');
    });

    it('[IPC-82][IPC-83][IPC-88] client-device operations, streaming and not, answer ServiceError "not supported"', async () => {
      const c = await connect('App');
      const verify = await rpcError(
        c.verifyClientDeviceIdentity({ credential: { clientDeviceCertificate: 'PEM' } }),
      );
      expect(shape(verify)).to.equal('ServiceError');
      expect(message(verify)).to.contain('not supported').and.contain('aws.greengrass.clientdevices.Auth');
      const op = c.subscribeToCertificateUpdates({
        certificateOptions: { certificateType: greengrasscoreipc.model.CertificateType.SERVER },
      });
      const sub = await rpcError(op.activate());
      expect(shape(sub)).to.equal('ServiceError');
      expect(message(sub)).to.contain('SubscribeToCertificateUpdates is not supported');
    });
  });

  it('[IPC-88] a handler registered before the fallbacks wins (the cloud side replaces mqttproxy)', () => {
    const r = new OperationRegistry();
    r.handle(PUBLISH_TO_IOT_CORE, () => ({}));
    const added = registerUnavailableOperations(r);
    expect(added).to.not.include(PUBLISH_TO_IOT_CORE);
    expect(added).to.include('aws.greengrass#SubscribeToIoTCore');
    expect(added).to.have.length(12); // 14 operations (IPC-54, 55, 66, 67, 77..85) minus the one already served
  });
});
