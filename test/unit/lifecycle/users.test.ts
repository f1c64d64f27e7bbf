import { expect } from 'chai';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { UserDatabase, resolvePosixUser } from '../../../src/lifecycle/users.js';

const PASSWD = [
  'root:x:0:0:root:/root:/bin/bash',
  '# a comment',
  'ggc_user:x:1001:1001::/home/ggc_user:/bin/sh',
  'alice:x:1002:100:Alice:/home/alice:/bin/bash',
  '',
].join('\n');
const GROUP = [
  'root:x:0:',
  'users:x:100:',
  'ggc_group:x:1001:',
  'video:x:44:alice,ggc_user',
  'audio:x:29:alice',
  '',
].join('\n');

describe('posix user resolution', () => {
  let dir: string;
  let db: UserDatabase;
  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tendril-users-'));
    fs.writeFileSync(path.join(dir, 'passwd'), PASSWD);
    fs.writeFileSync(path.join(dir, 'group'), GROUP);
    db = await UserDatabase.load({ passwd: path.join(dir, 'passwd'), group: path.join(dir, 'group') });
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('[LC-66] a user without group gets its primary gid', () => {
    expect(db.resolve('ggc_user')).to.deep.equal({ user: 'ggc_user', uid: 1001, gid: 1001 });
  });

  it('[LC-66] user:group resolves both names', () => {
    expect(db.resolve('alice:ggc_group')).to.deep.equal({ user: 'alice', uid: 1002, gid: 1001 });
  });

  it('[LC-66] numeric ids resolve, a known uid gets its name', () => {
    expect(db.resolve('1002:44')).to.deep.equal({ user: 'alice', uid: 1002, gid: 44 });
    expect(db.resolve('1001')).to.deep.equal({ user: 'ggc_user', uid: 1001, gid: 1001 });
  });

  it('[LC-66] an unknown numeric uid is accepted with a group, refused without one', () => {
    expect(db.resolve('4242:4343')).to.deep.equal({ user: '4242', uid: 4242, gid: 4343 });
    expect(() => db.resolve('4242')).to.throw(/runWith\.posixUser: unknown uid 4242 and no group given/);
  });

  it('[LC-66] splits on the first colon only', () => {
    expect(() => db.resolve('alice:users:extra')).to.throw(/unknown group 'users:extra'/);
  });

  it('[LC-66] unknown user or group is an error naming it and the field', () => {
    expect(() => db.resolve('mallory')).to.throw(/^runWith\.posixUser: unknown user 'mallory'$/);
    expect(() => db.resolve('alice:nogroup', 'runWithDefault.posixUser')).to.throw(
      /^runWithDefault\.posixUser: unknown group 'nogroup'$/,
    );
    expect(() => db.resolve(':users')).to.throw(/has no user before ':'/);
    expect(() => db.resolve('alice:')).to.throw(/has an empty group after ':'/);
  });

  it('[LC-69] supplementary groups are the primary group plus memberships', () => {
    expect(db.supplementaryGroups(1002)).to.deep.equal([29, 44, 100]);
    expect(db.supplementaryGroups(1001)).to.deep.equal([44, 1001]);
    expect(db.supplementaryGroups(9999)).to.deep.equal([]);
  });

  it('[LC-65] resolves against the real system databases', async () => {
    expect(await resolvePosixUser('root')).to.deep.equal({ user: 'root', uid: 0, gid: 0 });
  });
});
