// Configuration IPC operations through the official client against the real config tree and store:
// GetConfiguration, UpdateConfiguration and SubscribeToConfigurationUpdate (ipc.md section 7,
// IPC-61..63, IPC-109..111; config.md CF-03, CF-55). Validation: configuration-service-validation.test.ts.
import { expect } from 'chai';
import { officialClient, rpcError, errorCode, errorMessage, nextMessage } from '../../support/ipc-client.js';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { greengrasscoreipc } from 'aws-iot-device-sdk-v2';
import { ConfigStore, readTlogFile } from '../../../src/config/index.js';
import {
  AuthTokenRegistry,
  ConfigurationService,
  IpcServer,
  OperationRegistry,
} from '../../../src/ipc/index.js';
import { RawPeer, frame, str } from './raw.js';

type Client = greengrasscoreipc.Client;
type ConfigEvent = greengrasscoreipc.model.ConfigurationUpdateEvents;

describe('IPC configuration service (official client, real config store)', function () {
  let dir: string;
  let store: ConfigStore;
  let server: IpcServer;
  let tokens: AuthTokenRegistry;
  let service: ConfigurationService;
  const clients: Client[] = [];
  const T0 = Date.UTC(2024, 0, 1); // stored values are written at this time (epoch ms)

  async function connect(component: string): Promise<Client> {
    const token = tokens.issue(component);
    const client = officialClient(server.socketPath, token);
    clients.push(client);
    await client.connect();
    return client;
  }

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tendril-ipc-config-'));
    store = await ConfigStore.open({ root: join(dir, 'root'), effectiveConfigDebounceMs: 0 });
    store.config.merge(
      {
        services: {
          A: {
            version: '1.0.0',
            configuration: { greeting: 'hi', limits: { max: 5, names: ['x', 'y'] }, accessControl: {} },
          },
          B: { version: '1.0.0', configuration: { mode: 'fast', nested: { deep: { v: 1 } } } },
          NoConfig: { version: '1.0.0' },
        },
      },
      { timestamp: T0 },
    );
    tokens = new AuthTokenRegistry();
    const registry = new OperationRegistry();
    service = new ConfigurationService({ config: store.config, sync: () => store.sync() }).register(registry);
    server = new IpcServer({ socketPath: join(dir, 'ipc.socket'), authenticate: tokens.lookup, registry });
    await server.listen();
  });
  afterEach(async () => {
    for (const c of clients.splice(0)) await c.close().catch(() => {});
    await server.close();
    service.close();
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  describe('GetConfiguration', () => {
    it('[IPC-61][IPC-109] a leaf comes back wrapped as {key: value}, with componentName echoed', async () => {
      const a = await connect('A');
      expect(await a.getConfiguration({ keyPath: ['greeting'] })).to.deep.equal({
        componentName: 'A',
        value: { greeting: 'hi' },
      });
      expect(await a.getConfiguration({ keyPath: ['limits', 'names'] })).to.deep.equal({
        componentName: 'A',
        value: { names: ['x', 'y'] },
      });
    });

    it('[IPC-109] a container comes back as its map; an empty keyPath gives the whole configuration', async () => {
      const a = await connect('A');
      expect((await a.getConfiguration({ keyPath: ['limits'] })).value).to.deep.equal({
        max: 5,
        names: ['x', 'y'],
      });
      expect((await a.getConfiguration({ keyPath: [] })).value).to.deep.equal({
        greeting: 'hi',
        limits: { max: 5, names: ['x', 'y'] },
        accessControl: {},
      });
    });

    it('[IPC-100][IPC-109] another component is readable without any policy', async () => {
      const a = await connect('A');
      expect(await a.getConfiguration({ componentName: 'B', keyPath: ['nested', 'deep'] })).to.deep.equal({
        componentName: 'B',
        value: { v: 1 },
      });
    });

    it('[IPC-109] a missing key, a component without configuration and an unknown component are ResourceNotFoundError naming the key path', async () => {
      const a = await connect('A');
      const missing = await rpcError(a.getConfiguration({ keyPath: ['limits', 'nope'] }));
      expect(errorCode(missing)).to.equal('ResourceNotFoundError');
      expect(errorMessage(missing)).to.equal('Key not found: A configuration limits.nope');
      expect((missing.serviceError as { resourceName?: string }).resourceName).to.equal(
        'A configuration limits.nope',
      );
      const noConfig = await rpcError(a.getConfiguration({ componentName: 'NoConfig', keyPath: [] }));
      expect(errorCode(noConfig)).to.equal('ResourceNotFoundError');
      expect(errorMessage(noConfig)).to.contain('NoConfig configuration');
      const unknown = await rpcError(a.getConfiguration({ componentName: 'Ghost', keyPath: ['x'] }));
      expect(errorCode(unknown)).to.equal('ResourceNotFoundError');
      expect(errorMessage(unknown)).to.contain('Ghost configuration x');
    });
  });

  describe('UpdateConfiguration', () => {
    it("[IPC-62][IPC-110][CF-03] a fresh timestamp merges into the caller's configuration and is durable before the answer", async () => {
      const a = await connect('A');
      const ts = new Date(T0 + 60_000);
      expect(
        await a.updateConfiguration({ keyPath: ['limits'], timestamp: ts, valueToMerge: { max: 9, min: 1 } }),
      ).to.deep.equal({});
      expect(store.config.get(['services', 'A', 'configuration', 'limits'])).to.deep.equal({
        max: 9,
        names: ['x', 'y'],
        min: 1,
      });
      expect(store.config.findLeaf(['services', 'A', 'configuration', 'limits', 'max'])?.modtime).to.equal(
        T0 + 60_000,
      );
      // acknowledged => in the tlog on disk
      const tlog = await readTlogFile(store.tlogFile);
      const line = tlog.lines.find(
        (l) => l.path.join('.') === 'services.A.configuration.limits.max' && l.value === 9,
      );
      expect(line?.ts).to.equal(T0 + 60_000);
    });

    it('[IPC-110] a missing keyPath container is created; no keyPath merges at the configuration root', async () => {
      const a = await connect('A');
      const timestamp = new Date(T0 + 1000);
      await a.updateConfiguration({ keyPath: ['new', 'box'], timestamp, valueToMerge: { k: true } });
      await a.updateConfiguration({ timestamp, valueToMerge: { top: 'level' } });
      expect(store.config.get(['services', 'A', 'configuration', 'new'])).to.deep.equal({ box: { k: true } });
      expect(store.config.get(['services', 'A', 'configuration', 'top'])).to.equal('level');
      expect(store.config.get(['services', 'A', 'configuration', 'greeting'])).to.equal('hi');
    });

    it('[IPC-110][CF-03] an older timestamp than the stored value is FailedUpdateConditionCheckError and changes nothing', async () => {
      const a = await connect('A');
      const stale = await rpcError(
        a.updateConfiguration({
          keyPath: ['limits'],
          timestamp: new Date(T0 - 1000),
          valueToMerge: { max: 1, brandNew: 2 },
        }),
      );
      expect(errorCode(stale)).to.equal('FailedUpdateConditionCheckError');
      expect(errorMessage(stale)).to.contain(
        "Proposed timestamp is older than the config's latest modified timestamp",
      );
      expect(errorMessage(stale)).to.contain('limits.max');
      expect(store.config.get(['services', 'A', 'configuration', 'limits'])).to.deep.equal({
        max: 5,
        names: ['x', 'y'],
      });
      // the same write with a fresh timestamp is accepted
      await a.updateConfiguration({
        keyPath: ['limits'],
        timestamp: new Date(T0 + 1000),
        valueToMerge: { max: 1 },
      });
      expect(store.config.get(['services', 'A', 'configuration', 'limits', 'max'])).to.equal(1);
    });

    it("[IPC-110][IPC-100] writes only the caller's own configuration; naming another component is UnauthorizedError", async () => {
      const b = await connect('B');
      await b.updateConfiguration({ timestamp: new Date(T0 + 5), valueToMerge: { greeting: 'from B' } });
      expect(store.config.get(['services', 'A', 'configuration', 'greeting'])).to.equal('hi');
      expect(store.config.get(['services', 'B', 'configuration', 'greeting'])).to.equal('from B');
      // the official client drops non-model members, so this request is sent raw
      const peer = await RawPeer.open(server.socketPath);
      try {
        await peer.handshake(tokens.issue('B'));
        peer.send(
          frame(
            0,
            0,
            1,
            { operation: str('aws.greengrass#UpdateConfiguration') },
            JSON.stringify({
              componentName: 'A',
              timestamp: (T0 + 10) / 1000,
              valueToMerge: { greeting: 'x' },
            }),
          ),
        );
        const [, reply] = await peer.waitFor(2);
        expect(reply.headers['service-model-type']?.value).to.equal('aws.greengrass#UnauthorizedError');
        expect(reply.json().message).to.equal('B cannot update the configuration of A');
        expect(store.config.get(['services', 'A', 'configuration', 'greeting'])).to.equal('hi');
      } finally {
        peer.destroy();
      }
    });

    it('[IPC-95] accessControl cannot be updated, by keyPath or by a top-level key', async () => {
      const a = await connect('A');
      for (const req of [
        { keyPath: ['accessControl'], valueToMerge: { 'aws.greengrass.ipc.pubsub': {} } },
        { valueToMerge: { AccessControl: { x: 1 }, greeting: 'no' } },
      ]) {
        const e = await rpcError(a.updateConfiguration({ ...req, timestamp: new Date(T0 + 1000) }));
        expect(errorCode(e)).to.equal('InvalidArgumentsError');
        expect(errorMessage(e)).to.equal('Config update is not allowed for following fields [accessControl]');
      }
      expect(store.config.get(['services', 'A', 'configuration', 'greeting'])).to.equal('hi');
    });

    it('[IPC-110] a keyPath naming a leaf is InvalidArgumentsError naming the key path', async () => {
      const a = await connect('A');
      const e = await rpcError(
        a.updateConfiguration({
          keyPath: ['greeting'],
          timestamp: new Date(T0 + 1000),
          valueToMerge: { x: 1 },
        }),
      );
      expect(errorCode(e)).to.equal('InvalidArgumentsError');
      expect(errorMessage(e)).to.equal('keyPath greeting is a value, not a container to merge into');
    });

    it('[IPC-62] a caller with no services entry gets ServiceError', async () => {
      const ghost = await connect('Ghost');
      const e = await rpcError(
        ghost.updateConfiguration({ timestamp: new Date(T0), valueToMerge: { a: 1 } }),
      );
      expect(errorCode(e)).to.equal('ServiceError');
      expect(errorMessage(e)).to.contain('Ghost');
      expect(store.config.find(['services', 'Ghost'])).to.equal(undefined);
    });
  });

  describe('SubscribeToConfigurationUpdate', () => {
    it('[IPC-63][IPC-111] changes made through the tree (not IPC) arrive as componentName + keyPath events', async () => {
      const a = await connect('A');
      const sub = a.subscribeToConfigurationUpdate({ keyPath: [] });
      const next = nextMessage<ConfigEvent>(sub);
      expect(await sub.activate()).to.deep.equal({});
      store.config.set(['services', 'A', 'configuration', 'limits', 'max'], 6);
      expect(await next()).to.deep.equal({
        configurationUpdateEvent: { componentName: 'A', keyPath: ['limits', 'max'] },
      });
      store.config.set(['services', 'A', 'configuration', 'added'], 'new');
      expect((await next()).configurationUpdateEvent?.keyPath).to.deep.equal(['added']);
      store.config.remove(['services', 'A', 'configuration', 'limits']);
      const removed = [
        (await next()).configurationUpdateEvent?.keyPath,
        (await next()).configurationUpdateEvent?.keyPath,
      ];
      expect(removed).to.have.deep.members([
        ['limits', 'max'],
        ['limits', 'names'],
      ]);
    });

    it("[IPC-111][IPC-100] subscribing to another component's key path sees only changes below it; same-value and timestamp-only writes send nothing", async () => {
      const a = await connect('A');
      const sub = a.subscribeToConfigurationUpdate({ componentName: 'B', keyPath: ['nested'] });
      const next = nextMessage<ConfigEvent>(sub);
      await sub.activate();
      const svc = ['services', 'B', 'configuration'];
      store.config.set([...svc, 'mode'], 'slow'); // outside the key path
      store.config.set([...svc, 'nested', 'deep', 'v'], 1, { bumpTimestamp: true, timestamp: T0 + 5 }); // same value
      store.config.set(['services', 'A', 'configuration', 'nested'], 'other component');
      store.config.set([...svc, 'nested', 'deep', 'v'], 2); // the one that counts
      expect(await next()).to.deep.equal({
        configurationUpdateEvent: { componentName: 'B', keyPath: ['nested', 'deep', 'v'] },
      });
    });

    it("[IPC-111] an update through UpdateConfiguration from B reaches A's subscription on B", async () => {
      const a = await connect('A');
      const b = await connect('B');
      const sub = a.subscribeToConfigurationUpdate({ componentName: 'B', keyPath: ['mode'] });
      const next = nextMessage<ConfigEvent>(sub);
      await sub.activate();
      await b.updateConfiguration({ timestamp: new Date(T0 + 1000), valueToMerge: { mode: 'eco' } });
      expect(await next()).to.deep.equal({
        configurationUpdateEvent: { componentName: 'B', keyPath: ['mode'] },
      });
      const got = await a.getConfiguration({ componentName: 'B', keyPath: ['mode'] });
      expect(got.value).to.deep.equal({ mode: 'eco' });
    });

    it('[IPC-111] a missing key path is ResourceNotFoundError; closing the stream removes the subscription [IPC-27]', async () => {
      const a = await connect('A');
      const bad = a.subscribeToConfigurationUpdate({ keyPath: ['nope'] });
      const e = await rpcError(bad.activate());
      expect(errorCode(e)).to.equal('ResourceNotFoundError');
      expect(errorMessage(e)).to.equal('Key not found: A configuration nope');
      const sub = a.subscribeToConfigurationUpdate({ keyPath: ['greeting'] });
      await sub.activate();
      expect(service.subscriptionCount).to.equal(1);
      await sub.close();
      while (service.subscriptionCount !== 0) await new Promise((r) => setTimeout(r, 5));
      expect(service.subscriptionCount).to.equal(0);
    });
  });
});
