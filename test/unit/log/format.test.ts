import { expect } from 'chai';
import {
  formatJson,
  formatText,
  isoInstant,
  parseLogFormat,
  parseLogLevel,
  type LogRecord,
} from '../../../src/log/index.js';

const base: LogRecord = {
  timestamp: Date.UTC(2022, 10, 21, 17, 27, 5, 319),
  level: 'INFO',
  thread: 'main-lifecycle',
  loggerName: 'com.aws.greengrass.lifecyclemanager.GenericExternalService',
  eventType: 'service-set-state',
  contexts: { serviceName: 'main', currentState: 'FINISHED', newState: 'STOPPING' },
};

describe('log format', () => {
  it('[LC-90] TEXT line matches the reference example, empty message skipped', () => {
    expect(formatText(base)).to.equal(
      '2022-11-21T17:27:05.319Z [INFO] (main-lifecycle) com.aws.greengrass.lifecyclemanager.GenericExternalService: ' +
        'service-set-state. {serviceName=main, currentState=FINISHED, newState=STOPPING}',
    );
  });

  it('[LC-90] TEXT joins eventType, message and contexts with ". "', () => {
    const line = formatText({
      ...base,
      level: 'WARN',
      thread: 'Copier',
      loggerName: 'com.example.Hello',
      eventType: 'stderr',
      message: 'oops',
      contexts: { scriptName: 'services.com.example.Hello.lifecycle.Run' },
    });
    expect(line).to.equal(
      '2022-11-21T17:27:05.319Z [WARN] (Copier) com.example.Hello: stderr. oops. {scriptName=services.com.example.Hello.lifecycle.Run}',
    );
  });

  it('[LC-90] TEXT with no contexts and no eventType prints only the message', () => {
    expect(formatText({ ...base, eventType: undefined, message: 'hello', contexts: {} })).to.equal(
      '2022-11-21T17:27:05.319Z [INFO] (main-lifecycle) com.aws.greengrass.lifecyclemanager.GenericExternalService: hello',
    );
  });

  it('[LC-90] TEXT appends the stack trace on the following lines', () => {
    const err = new Error('boom');
    const text = formatText({ ...base, level: 'ERROR', cause: err });
    const lines = text.split('\n');
    expect(lines[0]).to.match(/ \[ERROR\] /);
    expect(lines[1]).to.equal('Error: boom');
    expect(lines.length).to.be.greaterThan(2);
  });

  it('[LC-90] instant prints like java Instant: no fraction when milliseconds are zero', () => {
    expect(isoInstant(Date.UTC(2022, 0, 2, 3, 4, 5, 0))).to.equal('2022-01-02T03:04:05Z');
    expect(isoInstant(Date.UTC(2022, 0, 2, 3, 4, 5, 300))).to.equal('2022-01-02T03:04:05.300Z');
  });

  it('[LC-92] JSON has the reference fields in order, absent parts null', () => {
    const json = formatJson({ ...base, message: undefined });
    expect(Object.keys(JSON.parse(json))).to.deep.equal([
      'thread',
      'level',
      'eventType',
      'message',
      'contexts',
      'loggerName',
      'timestamp',
      'cause',
    ]);
    expect(JSON.parse(json)).to.deep.equal({
      thread: 'main-lifecycle',
      level: 'INFO',
      eventType: 'service-set-state',
      message: null,
      contexts: { serviceName: 'main', currentState: 'FINISHED', newState: 'STOPPING' },
      loggerName: 'com.aws.greengrass.lifecyclemanager.GenericExternalService',
      timestamp: 1669051625319,
      cause: null,
    });
  });

  it('[LC-92] JSON serializes the cause', () => {
    const parsed = JSON.parse(formatJson({ ...base, cause: new TypeError('bad') })) as {
      cause: { name: string; message: string };
    };
    expect(parsed.cause.name).to.equal('TypeError');
    expect(parsed.cause.message).to.equal('bad');
  });

  it('[LC-89] level and format names parse case-insensitively; unknown values name the field', () => {
    expect(parseLogLevel('debug')).to.equal('DEBUG');
    expect(parseLogLevel('Warning')).to.equal('WARN');
    expect(parseLogFormat('json')).to.equal('JSON');
    expect(() => parseLogLevel('LOUD', 'logging.level')).to.throw(/logging\.level: unknown log level 'LOUD'/);
    expect(() => parseLogFormat('xml', 'logging.format')).to.throw(
      /logging\.format: unknown log format 'xml'/,
    );
  });
});
