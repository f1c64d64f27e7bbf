// Dynamic configuration validation through the official client: SubscribeToValidateConfigurationUpdates,
// SendConfigurationValidityReport and the deployment engine's `validate` [IPC-64, IPC-65, IPC-112].
import { expect } from 'chai';
import { officialClient, rpcError, errorCode, errorMessage, nextMessage } from '../../support/ipc-client.js';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { greengrasscoreipc } from 'aws-iot-device-sdk-v2';
import {
  AuthTokenRegistry,
  ConfigurationValidator,
  IpcServer,
  OperationRegistry,
} from '../../../src/ipc/index.js';

type Client = greengrasscoreipc.Client;
type ValidateEvent = greengrasscoreipc.model.ValidateConfigurationUpdateEvents;

describe('IPC configuration validation (official client)', function () {
  let dir: string;
  let server: IpcServer;
  let tokens: AuthTokenRegistry;
  let validator: ConfigurationValidator;
  const clients: Client[] = [];

  async function connect(component: string): Promise<Client> {
    const token = tokens.issue(component);
    const client = officialClient(server.socketPath, token);
    clients.push(client);
    await client.connect();
    return client;
  }

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tendril-ipc-validate-'));
    tokens = new AuthTokenRegistry();
    const registry = new OperationRegistry();
    validator = new ConfigurationValidator().register(registry);
    server = new IpcServer({ socketPath: join(dir, 'ipc.socket'), authenticate: tokens.lookup, registry });
    await server.listen();
  });
  afterEach(async () => {
    for (const c of clients.splice(0)) await c.close().catch(() => {});
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });

  describe('configuration validation', () => {
    async function subscribeValidator(component: string) {
      const client = await connect(component);
      const sub = client.subscribeToValidateConfigurationUpdates({});
      const next = nextMessage<ValidateEvent>(sub);
      await sub.activate();
      return { client, sub, next };
    }

    it('[IPC-64][IPC-65][IPC-112] the proposed configuration is sent and an ACCEPTED report resolves validate', async () => {
      const { client, next } = await subscribeValidator('A');
      const proposed = { greeting: 'hello', limits: { max: 7 } };
      const result = validator.validate('A', proposed, 'dep-1', 30_000);
      const event = await next();
      expect(event).to.deep.equal({
        validateConfigurationUpdateEvent: { deploymentId: 'dep-1', configuration: proposed },
      });
      expect(
        await client.sendConfigurationValidityReport({
          configurationValidityReport: {
            status: greengrasscoreipc.model.ConfigurationValidityStatus.ACCEPTED,
            deploymentId: 'dep-1',
          },
        }),
      ).to.deep.equal({});
      expect(await result).to.deep.equal({ status: 'ACCEPTED' });
    });

    it('[IPC-112] a REJECTED report carries its message; a second report for the same deployment is InvalidArgumentsError', async () => {
      const { client, next } = await subscribeValidator('B');
      const result = validator.validate('B', { mode: 'broken' }, 'dep-2', 30_000);
      await next();
      await client.sendConfigurationValidityReport({
        configurationValidityReport: {
          status: greengrasscoreipc.model.ConfigurationValidityStatus.REJECTED,
          deploymentId: 'dep-2',
          message: 'mode broken is unknown',
        },
      });
      expect(await result).to.deep.equal({ status: 'REJECTED', message: 'mode broken is unknown' });
      const again = await rpcError(
        client.sendConfigurationValidityReport({
          configurationValidityReport: {
            status: greengrasscoreipc.model.ConfigurationValidityStatus.ACCEPTED,
            deploymentId: 'dep-2',
          },
        }),
      );
      expect(errorCode(again)).to.equal('InvalidArgumentsError');
      expect(errorMessage(again)).to.equal('Validation request either timed out or was never made');
    });

    it('[IPC-112] no answer within the timeout resolves TIMEOUT and a late report is refused; no subscriber resolves NO_SUBSCRIBER', async () => {
      expect(await validator.validate('A', {}, 'dep-3', 10)).to.deep.equal({ status: 'NO_SUBSCRIBER' });
      const { client, next } = await subscribeValidator('A');
      const result = validator.validate('A', { greeting: 'x' }, 'dep-3', 50);
      await next();
      const r = await result;
      expect(r.status).to.equal('TIMEOUT');
      expect(r.message).to.contain('dep-3');
      const late = await rpcError(
        client.sendConfigurationValidityReport({
          configurationValidityReport: {
            status: greengrasscoreipc.model.ConfigurationValidityStatus.ACCEPTED,
            deploymentId: 'dep-3',
          },
        }),
      );
      expect(errorCode(late)).to.equal('InvalidArgumentsError');
    });

    it('[IPC-65] a report with a bad status is InvalidArgumentsError naming the field', async () => {
      const { client } = await subscribeValidator('A');
      const e = await rpcError(
        client.sendConfigurationValidityReport({
          configurationValidityReport: {
            status: 'MAYBE' as greengrasscoreipc.model.ConfigurationValidityStatus,
            deploymentId: 'd',
          },
        }),
      );
      expect(errorCode(e)).to.equal('InvalidArgumentsError');
      expect(errorMessage(e)).to.equal(
        'configurationValidityReport.status must be ACCEPTED or REJECTED, got "MAYBE"',
      );
    });

    it('[IPC-112] one listener per component: a second subscription does not replace the first, and closing the first leaves none', async () => {
      const first = await subscribeValidator('A');
      const secondSub = first.client.subscribeToValidateConfigurationUpdates({});
      let secondGot = 0;
      secondSub.on('message', () => secondGot++);
      await secondSub.activate();
      const result = validator.validate('A', { v: 1 }, 'dep-4', 30_000);
      expect((await first.next()).validateConfigurationUpdateEvent?.deploymentId).to.equal('dep-4');
      await first.client.sendConfigurationValidityReport({
        configurationValidityReport: {
          status: greengrasscoreipc.model.ConfigurationValidityStatus.ACCEPTED,
          deploymentId: 'dep-4',
        },
      });
      expect((await result).status).to.equal('ACCEPTED');
      expect(secondGot).to.equal(0);
      await first.sub.close();
      while (validator.hasSubscriber('A')) await new Promise((r) => setTimeout(r, 5));
      expect(await validator.validate('A', {}, 'dep-5', 10)).to.deep.equal({ status: 'NO_SUBSCRIBER' });
    });
  });
});
