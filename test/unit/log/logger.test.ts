import { expect } from 'chai';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { LogManager, defaultLogConfig, parseLogConfig } from '../../../src/log/index.js';

describe('nucleus logger', () => {
  let dir: string;
  const t = Date.UTC(2023, 4, 6, 10, 11, 12, 345);
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tendril-log-'));
  });
  afterEach(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('[LC-89][LC-90][LC-91] writes TEXT lines with service context keys to greengrass.log', () => {
    const m = new LogManager(defaultLogConfig(dir), { now: () => t });
    const log = m
      .logger('com.aws.greengrass.lifecyclemanager.GenericExternalService', 'main-lifecycle')
      .with({ serviceName: 'main', currentState: 'RUNNING' });
    log.info('service-set-state', undefined, { newState: 'STOPPING' });
    log.debug('hidden-at-info');
    m.close();
    expect(fs.readFileSync(path.join(dir, 'greengrass.log'), 'utf8')).to.equal(
      '2023-05-06T10:11:12.345Z [INFO] (main-lifecycle) com.aws.greengrass.lifecyclemanager.GenericExternalService: ' +
        'service-set-state. {serviceName=main, currentState=RUNNING, newState=STOPPING}\n',
    );
  });

  it('[LC-94] reconfigures level and format at runtime', () => {
    const m = new LogManager(defaultLogConfig(dir), { now: () => t });
    const log = m.logger('Kernel');
    log.debug('dropped');
    m.reconfigure(parseLogConfig({ level: 'debug', format: 'JSON' }, m.current));
    log.debug('kept', 'now visible');
    m.close();
    const lines = fs.readFileSync(m.filePath, 'utf8').trim().split('\n');
    expect(lines).to.have.length(1);
    expect(JSON.parse(lines[0])).to.include({
      level: 'DEBUG',
      eventType: 'kept',
      message: 'now visible',
      thread: 'main',
    });
  });

  it('[LC-94] CONSOLE output writes to the console stream, not the file', () => {
    const chunks: string[] = [];
    const m = new LogManager(parseLogConfig({ outputType: 'CONSOLE' }, defaultLogConfig(dir)), {
      now: () => t,
      console: { write: (c: string) => chunks.push(c) },
    });
    m.logger('Kernel').warn('disk-low', 'space', { free: 3 });
    m.close();
    expect(chunks).to.deep.equal([
      '2023-05-06T10:11:12.345Z [WARN] (main) Kernel: disk-low. space. {free=3}\n',
    ]);
    expect(fs.existsSync(path.join(dir, 'greengrass.log'))).to.equal(false);
  });

  it('[LC-94] bad logging configuration names the field and reason', () => {
    const d = defaultLogConfig(dir);
    expect(() => parseLogConfig({ outputType: 'SYSLOG' }, d)).to.throw(
      /logging\.outputType: unknown output type 'SYSLOG'/,
    );
    expect(() => parseLogConfig({ fileSizeKB: -5 }, d)).to.throw(
      /logging\.fileSizeKB: expected a positive number/,
    );
    expect(() => parseLogConfig({ level: 3 }, d)).to.throw(/logging\.level: expected a string/);
    expect(parseLogConfig({ fileSizeKB: '2048' }, d).fileSizeKB).to.equal(2048);
  });
});
