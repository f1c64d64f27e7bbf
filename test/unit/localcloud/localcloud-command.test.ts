import { GetServiceRoleForAccountCommand, GreengrassV2Client } from '@aws-sdk/client-greengrassv2';
import { expect } from 'chai';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UsageError } from '../../../src/cli/command.js';
import {
  localcloudCommand,
  parseLocalCloudFlags,
  runLocalCloud,
} from '../../../src/cli/localcloud-command.js';

describe('tendril localcloud command', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'tendril-localcloud-cli-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('is named localcloud', () => {
    expect(localcloudCommand.name).to.equal('localcloud');
  });

  it('refuses a missing --data and a bad --port, naming the flag', () => {
    expect(() => parseLocalCloudFlags({})).to.throw(UsageError, '--data');
    expect(() => parseLocalCloudFlags({ data: dir, port: '70000' })).to.throw(UsageError, '--port');
    expect(() => parseLocalCloudFlags({ data: dir, port: 'abc' })).to.throw(UsageError, '--port');
    expect(parseLocalCloudFlags({ data: dir })).to.deep.equal({ dataDir: dir, host: '127.0.0.1', port: 0 });
  });

  it('serves the API, writes endpoints.json, and stops on abort', async () => {
    const ac = new AbortController();
    const lines: string[] = [];
    const running = runLocalCloud({ dataDir: dir, host: '127.0.0.1', port: 0 }, ac.signal, (l) =>
      lines.push(l),
    );
    const file = join(dir, 'endpoints.json');
    while (!existsSync(file)) await new Promise((r) => setTimeout(r, 10));
    const endpoints = JSON.parse(readFileSync(file, 'utf8')) as { controlPlane: string };
    const client = new GreengrassV2Client({
      endpoint: endpoints.controlPlane,
      region: 'us-east-1',
      credentials: { accessKeyId: 'x', secretAccessKey: 'y' },
    });
    const out = await client.send(new GetServiceRoleForAccountCommand({}));
    expect(out.$metadata.httpStatusCode).to.equal(200);
    client.destroy();
    ac.abort();
    const result = await running;
    expect(result.controlPlane).to.equal(endpoints.controlPlane);
    expect(lines[0]).to.contain(endpoints.controlPlane);
    expect(lines.at(-1)).to.equal('local cloud stopped');
  });
});
