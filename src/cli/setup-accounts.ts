// The default component user and group of `tendril setup` [CF-84: ggc_user:ggc_group]: created as
// system accounts when missing, left alone when present.
import { execFileSync } from 'node:child_process';
import { findExecutable } from '../nucleus/index.js';

export const DEFAULT_USER = 'ggc_user';
export const DEFAULT_GROUP = 'ggc_group';

const NAME = /^[a-z_][a-z0-9_-]{0,30}\$?$/;

export function checkAccountName(name: string, flag: string): string {
  if (!NAME.test(name))
    throw new Error(
      `${flag} '${name}' is not a valid POSIX account name (lower-case letter or _, then letters, digits, _ or -, at most 32)`,
    );
  return name;
}

function getent(db: 'passwd' | 'group', name: string): string[] | undefined {
  try {
    return execFileSync('getent', [db, name], { encoding: 'utf8' }).trim().split(':');
  } catch {
    return undefined;
  }
}

function run(tool: string, args: string[]): void {
  const bin = findExecutable(tool);
  if (!bin) throw new Error(`${tool} is not installed: create the account yourself or install it (passwd)`);
  try {
    execFileSync(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    const stderr = String((e as { stderr?: Buffer }).stderr ?? '').trim();
    throw new Error(`${tool} ${args.join(' ')} failed: ${stderr || (e as Error).message}`);
  }
}

export interface AccountResult {
  groupCreated: boolean;
  userCreated: boolean;
  uid: number;
  gid: number;
}

/** Creates the group, then the user in it, each only when missing. */
export function ensureAccounts(user: string, group: string): AccountResult {
  let g = getent('group', group);
  const groupCreated = g === undefined;
  let u = getent('passwd', user);
  const userCreated = u === undefined;
  if ((groupCreated || userCreated) && process.getuid?.() !== 0)
    throw new Error(
      `the ${groupCreated ? `group ${group}` : `user ${user}`} does not exist and only root can create it: run setup as root`,
    );
  if (groupCreated) {
    run('groupadd', ['--system', group]);
    g = getent('group', group);
  }
  if (userCreated) {
    run('useradd', [
      '--system',
      '--gid',
      group,
      '--no-create-home',
      '--home-dir',
      '/nonexistent',
      '--shell',
      '/usr/sbin/nologin',
      user,
    ]);
    u = getent('passwd', user);
  }
  if (!u || !g) throw new Error(`the user ${user} or the group ${group} cannot be resolved after creation`);
  return { groupCreated, userCreated, uid: Number(u[2]), gid: Number(g[2]) };
}
