// Resolution of `runWith.posixUser` values (`user[:group]`, names or numeric ids) to a POSIX
// identity [LC-65, LC-66], from the passwd and group databases (files, as getent would read them on
// a system without remote NSS). Supplementary groups are applied at exec time (setpriv
// --init-groups); supplementaryGroups() reports what they will be.

import { readFile } from 'node:fs/promises';
import type { PosixIdentity } from './types.js';

export interface PasswdEntry {
  name: string;
  uid: number;
  gid: number;
  home: string;
  shell: string;
}

export interface GroupEntry {
  name: string;
  gid: number;
  members: string[];
}

export interface UserDatabasePaths {
  passwd?: string;
  group?: string;
}

function parseId(text: string): number | null {
  return /^\d+$/.test(text) ? Number(text) : null;
}

export function parsePasswd(text: string): PasswdEntry[] {
  const out: PasswdEntry[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '' || line.startsWith('#')) continue;
    const f = line.split(':');
    if (f.length < 7) continue;
    const uid = parseId(f[2]);
    const gid = parseId(f[3]);
    if (uid === null || gid === null) continue;
    out.push({ name: f[0], uid, gid, home: f[5], shell: f[6] });
  }
  return out;
}

export function parseGroup(text: string): GroupEntry[] {
  const out: GroupEntry[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '' || line.startsWith('#')) continue;
    const f = line.split(':');
    if (f.length < 4) continue;
    const gid = parseId(f[2]);
    if (gid === null) continue;
    out.push({ name: f[0], gid, members: f[3] === '' ? [] : f[3].split(',').map((m) => m.trim()) });
  }
  return out;
}

/** A snapshot of the passwd and group databases. */
export class UserDatabase {
  constructor(
    readonly users: PasswdEntry[],
    readonly groups: GroupEntry[],
  ) {}

  static async load(paths: UserDatabasePaths = {}): Promise<UserDatabase> {
    const [p, g] = await Promise.all([
      readFile(paths.passwd ?? '/etc/passwd', 'utf8'),
      readFile(paths.group ?? '/etc/group', 'utf8'),
    ]);
    return new UserDatabase(parsePasswd(p), parseGroup(g));
  }

  userByName(name: string): PasswdEntry | undefined {
    return this.users.find((u) => u.name === name);
  }
  userById(uid: number): PasswdEntry | undefined {
    return this.users.find((u) => u.uid === uid);
  }
  groupByName(name: string): GroupEntry | undefined {
    return this.groups.find((g) => g.name === name);
  }
  groupById(gid: number): GroupEntry | undefined {
    return this.groups.find((g) => g.gid === gid);
  }

  /**
   * Resolves `user[:group]`, split on the first ':' [LC-66]. Without a group the user's primary
   * group is used; a numeric uid unknown to passwd needs an explicit group. `field` names the
   * configuration key in errors.
   */
  resolve(value: string, field = 'runWith.posixUser'): PosixIdentity {
    const colon = value.indexOf(':');
    const userPart = (colon < 0 ? value : value.slice(0, colon)).trim();
    const groupPart = colon < 0 ? null : value.slice(colon + 1).trim();
    if (userPart === '') throw new Error(`${field}: '${value}' has no user before ':'`);
    if (groupPart === '') throw new Error(`${field}: '${value}' has an empty group after ':'`);

    const numericUid = parseId(userPart);
    const entry = numericUid === null ? this.userByName(userPart) : this.userById(numericUid);
    if (!entry && numericUid === null) throw new Error(`${field}: unknown user '${userPart}'`);
    if (!entry && groupPart === null) {
      throw new Error(
        `${field}: unknown uid ${userPart} and no group given, so its primary group cannot be found`,
      );
    }

    let gid: number;
    if (groupPart === null) {
      gid = (entry as PasswdEntry).gid;
    } else {
      const numericGid = parseId(groupPart);
      if (numericGid !== null) {
        gid = numericGid;
      } else {
        const g = this.groupByName(groupPart);
        if (!g) throw new Error(`${field}: unknown group '${groupPart}'`);
        gid = g.gid;
      }
    }
    return { user: entry ? entry.name : userPart, uid: entry ? entry.uid : (numericUid as number), gid };
  }

  /**
   * The group ids a process of this user gets from initgroups(): its passwd primary group plus
   * every group listing it as a member; empty when the uid has no passwd entry.
   */
  supplementaryGroups(uid: number): number[] {
    const entry = this.userById(uid);
    if (!entry) return [];
    const gids = new Set<number>([entry.gid]);
    for (const g of this.groups) if (g.members.includes(entry.name)) gids.add(g.gid);
    return [...gids].sort((a, b) => a - b);
  }
}

/** Convenience: load the system databases and resolve one value. */
export async function resolvePosixUser(
  value: string,
  field = 'runWith.posixUser',
  paths: UserDatabasePaths = {},
): Promise<PosixIdentity> {
  return (await UserDatabase.load(paths)).resolve(value, field);
}
