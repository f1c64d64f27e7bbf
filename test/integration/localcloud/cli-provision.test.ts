import { expect } from 'chai';
import yaml from 'js-yaml';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UsageError } from '../../../src/cli/command.js';
import {
  parseDevicePorts,
  parseProvisionFlags,
  runLocalCloud,
  runProvision,
  type LocalCloudEndpoints,
} from '../../../src/cli/localcloud-command.js';
import { ScriptedDevice } from './device-helpers.js';

type Config = {
  system: { certificateFilePath: string; privateKeyPath: string; rootCaPath: string; thingName: string };
  services: { 'aws.greengrass.Nucleus': { configuration: { mqtt: { port: number } } } };
};

async function connectWith(configPath: string): Promise<ScriptedDevice> {
  const cfg = yaml.load(readFileSync(configPath, 'utf8')) as Config;
  return ScriptedDevice.connect(
    cfg.services['aws.greengrass.Nucleus'].configuration.mqtt.port,
    {
      cert: readFileSync(cfg.system.certificateFilePath, 'utf8'),
      key: readFileSync(cfg.system.privateKeyPath, 'utf8'),
      ca: readFileSync(cfg.system.rootCaPath, 'utf8'),
    },
    cfg.system.thingName,
  );
}

describe('tendril localcloud provision', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'tendril-provision-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('refuses missing or bad flags, naming the flag', () => {
    expect(() => parseProvisionFlags({ thing: 'a', out: 'o' })).to.throw(UsageError, '--data');
    expect(() => parseProvisionFlags({ data: dir, out: 'o' })).to.throw(UsageError, '--thing');
    expect(() => parseProvisionFlags({ data: dir, thing: 'a' })).to.throw(UsageError, '--out');
    expect(() => parseProvisionFlags({ data: dir, thing: 'a', out: 'o', group: '' })).to.throw(
      UsageError,
      '--group',
    );
    expect(() => parseDevicePorts({ 'mqtt-port': '99999' })).to.throw(UsageError, '--mqtt-port');
    expect(() => parseDevicePorts({ 'data-plane-port': 'x' })).to.throw(UsageError, '--data-plane-port');
  });

  it('needs endpoints.json and says how to get it', async () => {
    let err: unknown;
    try {
      await runProvision({ dataDir: dir, thingName: 'a', outDir: join(dir, 'a') });
    } catch (e) {
      err = e;
    }
    expect(err).to.be.instanceOf(UsageError);
    expect((err as Error).message).to.contain('endpoints.json');
  });

  it('provisions while the server runs and while it is stopped; both devices connect with their config.yaml', async () => {
    let ac = new AbortController();
    let running = runLocalCloud({ dataDir: dir, host: '127.0.0.1', port: 0 }, ac.signal, () => {});
    const file = join(dir, 'endpoints.json');
    while (!existsSync(file)) await new Promise((r) => setTimeout(r, 10));
    const endpoints = JSON.parse(readFileSync(file, 'utf8')) as LocalCloudEndpoints;
    expect(endpoints.dataPlane).to.match(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(endpoints.caPath).to.equal(join(dir, 'pki', 'ca.pem'));

    const online = await runProvision({
      dataDir: dir,
      thingName: 'online',
      thingGroup: 'g',
      outDir: join(dir, 'on'),
    });
    const d1 = await connectWith(online.configPath);
    await d1.close();
    ac.abort();
    await running;

    const offline = await runProvision({ dataDir: dir, thingName: 'offline', outDir: join(dir, 'off') });
    let err: unknown;
    try {
      await runProvision({ dataDir: dir, thingName: 'bad name', outDir: join(dir, 'bad') });
    } catch (e) {
      err = e;
    }
    expect((err as Error).message).to.contain('thingName');

    ac = new AbortController();
    rmSync(file);
    // The same ports again, so that the config written offline is valid as it is.
    running = runLocalCloud(
      {
        dataDir: dir,
        host: '127.0.0.1',
        port: Number(new URL(endpoints.controlPlane).port),
        dataPlanePort: endpoints.dataPlanePort,
        mqttPort: endpoints.mqttPort,
      },
      ac.signal,
      () => {},
    );
    while (!existsSync(file)) await new Promise((r) => setTimeout(r, 10));
    const d2 = await connectWith(offline.configPath);
    await d2.close();
    ac.abort();
    await running;
  });
});
