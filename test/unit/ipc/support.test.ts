import { expect } from 'chai';
import { EventStreamCodec } from '@smithy/eventstream-codec';
import { fromUtf8, toUtf8 } from '@smithy/util-utf8';
import {
  AuthTokenRegistry,
  generateAuthToken,
  OperationRegistry,
  planSocketPath,
  SUN_PATH_LIMIT,
} from '../../../src/ipc/index.js';
import { FrameDecoder } from '../../../src/ipc/codec.js';

describe('IPC socket path plan [CF-77][CF-78]', () => {
  it('uses <root>/ipc.socket when it fits in sun_path', () => {
    expect(planSocketPath({ rootPath: '/greengrass/v2', cwd: '/' })).to.deep.equal({
      listenPath: '/greengrass/v2/ipc.socket',
      componentPath: '/greengrass/v2/ipc.socket',
      absolutePath: '/greengrass/v2/ipc.socket',
    });
  });

  it('a root whose socket path reaches 108 bytes goes through ./nucleusRoot and ../../ipc.socket', () => {
    const root = '/' + 'r'.repeat(SUN_PATH_LIMIT - '/ipc.socket'.length - 1);
    expect(`${root}/ipc.socket`.length).to.equal(SUN_PATH_LIMIT);
    expect(planSocketPath({ rootPath: root, cwd: '/opt/tendril' })).to.deep.equal({
      listenPath: './nucleusRoot/ipc.socket',
      componentPath: '../../ipc.socket',
      absolutePath: `${root}/ipc.socket`,
      symlink: { path: '/opt/tendril/nucleusRoot', target: root },
    });
    const shorter = root.slice(0, -1);
    expect(planSocketPath({ rootPath: shorter, cwd: '/x' }).symlink).to.equal(undefined);
  });

  it('honours system.ipcSocketPath and refuses one that is too long, naming it', () => {
    expect(planSocketPath({ rootPath: '/gg', ipcSocketPath: '/run/gg.sock', cwd: '/' }).listenPath).to.equal(
      '/run/gg.sock',
    );
    const long = '/' + 'x'.repeat(200);
    expect(() => planSocketPath({ rootPath: '/gg', ipcSocketPath: long, cwd: '/' })).to.throw(long);
    expect(() => planSocketPath({ rootPath: 'relative', cwd: '/' })).to.throw(/absolute/);
  });
});

describe('IPC auth tokens [CF-81][IPC-49]', () => {
  it('are 16 upper-case characters of a 32-character alphabet', () => {
    for (let i = 0; i < 50; i++) expect(generateAuthToken()).to.match(/^[A-Z2-7]{16}$/);
  });

  it('registry: one stable token per component, lookup, revoke', () => {
    const reg = new AuthTokenRegistry();
    const a = reg.issue('A');
    expect(reg.issue('A')).to.equal(a);
    const b = reg.issue('B');
    expect(b).to.not.equal(a);
    expect(reg.lookup(a)).to.equal('A');
    reg.revoke('A');
    expect(reg.lookup(a)).to.equal(undefined);
    expect(reg.lookup(b)).to.equal('B');
    expect(reg.lookup('')).to.equal(undefined);
  });
});

describe('IPC frame decoder [IPC-04][IPC-06]', () => {
  const codec = new EventStreamCodec(toUtf8, fromUtf8);
  const enc = (body: string) =>
    Buffer.from(codec.encode({ headers: { n: { type: 'string', value: body } }, body: Buffer.from(body) }));

  it('reassembles frames split across chunks and splits several frames in one chunk', () => {
    const d = new FrameDecoder(1024);
    const bytes = Buffer.concat([enc('one'), enc('two'), enc('three')]);
    const bodies: string[] = [];
    for (let i = 0; i < bytes.length; i += 7) {
      const { messages, error } = d.push(bytes.subarray(i, i + 7));
      expect(error).to.equal(undefined);
      for (const m of messages) bodies.push(Buffer.from(m.body).toString());
    }
    expect(bodies).to.deep.equal(['one', 'two', 'three']);
  });

  it('returns the messages before a malformed frame together with the error', () => {
    const bad = enc('bad');
    bad[bad.length - 1] ^= 1;
    const { messages, error } = new FrameDecoder(1024).push(Buffer.concat([enc('ok'), bad]));
    expect(messages.map((m) => Buffer.from(m.body).toString())).to.deep.equal(['ok']);
    expect(error?.message).to.match(/checksum/);
  });

  it('rejects a declared length over the limit before the body arrives', () => {
    const prelude = Buffer.alloc(12);
    prelude.writeUInt32BE(2048, 0);
    expect(new FrameDecoder(1024).push(prelude).error?.message).to.match(
      /exceeds the maximum message size of 1024/,
    );
  });

  it('rejects a headers length larger than the frame', () => {
    const f = enc('x');
    f.writeUInt32BE(f.length, 4);
    expect(new FrameDecoder(1024).push(f).error?.message).to.match(/headers length/);
  });
});

describe('IPC operation registry', () => {
  it('refuses unknown operations, wrong kinds and duplicates', () => {
    const r = new OperationRegistry();
    expect(() => r.handle('aws.greengrass#Nope', () => ({}))).to.throw(/unknown IPC operation/);
    expect(() => r.handle('aws.greengrass#SubscribeToTopic', () => ({}))).to.throw(/streaming/);
    expect(() => r.stream('aws.greengrass#PublishToTopic', () => ({}))).to.throw(/request\/response/);
    r.handle('aws.greengrass#PublishToTopic', () => ({}));
    expect(() => r.handle('aws.greengrass#PublishToTopic', () => ({}))).to.throw(/already registered/);
    expect(r.get('aws.greengrass#PublishToTopic')?.kind).to.equal('request');
  });
});
