// `tendril setup`: install Tendril as a system service on a root [CF-84 installer, CF-91, CF-92]:
// root layout, component user and group, init config (optionally provisioned against the local cloud
// or AWS IoT), and the systemd unit. Every step is idempotent; `--uninstall [--purge]` reverses it.
import { existsSync, rmSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { acquireInstanceLock, createRootLayout, InstanceLockedError, rootPaths } from '../nucleus/index.js';
import { UsageError, type Command } from './command.js';
import { checkAccountName, DEFAULT_GROUP, DEFAULT_USER, ensureAccounts } from './setup-accounts.js';
import { writeInitConfig, type Provisioning } from './setup-config.js';
import { installUnit, renderUnit, SYSTEM_UNIT_DIR, uninstallUnit } from './setup-unit.js';

type Values = Record<string, string | boolean | string[] | undefined>;

const AWS_FLAGS = ['cert', 'key', 'root-ca', 'iot-data-endpoint', 'iot-cred-endpoint', 'region'] as const;
const INSTALL_FLAGS = [
  'user',
  'group',
  'no-start',
  'localcloud',
  'thing-name',
  'thing-group',
  'tes-role-alias-name',
  ...AWS_FLAGS,
] as const;

export interface SetupPlan {
  root: string;
  user: string;
  group: string;
  unitDir: string;
  start: boolean;
  provisioning: Provisioning;
}

export interface UninstallPlan {
  unitDir: string;
  purgeRoot?: string;
}

function str(values: Values, flag: string): string | undefined {
  const v = values[flag];
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || v.trim() === '') throw new UsageError(`--${flag} must not be empty`);
  return v;
}

function given(values: Values, flags: readonly string[]): string[] {
  return flags.filter((f) => values[f] !== undefined);
}

function provisioningOf(values: Values): Provisioning {
  const cloudDir = str(values, 'localcloud');
  const aws = given(values, AWS_FLAGS);
  const thingName = str(values, 'thing-name');
  const thingGroup = str(values, 'thing-group');
  const roleAlias = str(values, 'tes-role-alias-name');
  if (cloudDir !== undefined) {
    if (aws.length)
      throw new UsageError(
        `--localcloud conflicts with ${aws.map((f) => `--${f}`).join(', ')}: provision against the local cloud or AWS, not both`,
      );
    if (roleAlias !== undefined)
      throw new UsageError(
        '--tes-role-alias-name applies to AWS provisioning only (the local cloud sets its own)',
      );
    if (thingName === undefined) throw new UsageError('--localcloud needs --thing-name NAME');
    if (!existsSync(resolve(cloudDir, 'endpoints.json')))
      throw new UsageError(
        `--localcloud ${cloudDir}: no endpoints.json there; run 'tendril localcloud --data ${cloudDir}' once first`,
      );
    return { kind: 'localcloud', dataDir: cloudDir, thingName, thingGroup };
  }
  if (thingGroup !== undefined)
    throw new UsageError(
      '--thing-group applies to --localcloud only (on AWS, add the thing to a group in the cloud)',
    );
  if (aws.length === 0 && roleAlias === undefined) {
    if (thingName !== undefined)
      throw new UsageError(
        `--thing-name needs --localcloud DIR or the AWS flags (${AWS_FLAGS.map((f) => `--${f}`).join(', ')})`,
      );
    return { kind: 'none' };
  }
  const missing = ['thing-name', ...AWS_FLAGS].filter((f) => values[f] === undefined);
  if (missing.length)
    throw new UsageError(
      `provisioning against AWS needs ${missing.map((f) => `--${f}`).join(', ')} as well (given: ${[...(thingName ? ['thing-name'] : []), ...aws].map((f) => `--${f}`).join(', ') || '--tes-role-alias-name'})`,
    );
  for (const flag of ['cert', 'key', 'root-ca'] as const) {
    const file = resolve(str(values, flag)!);
    if (!existsSync(file) || !statSync(file).isFile())
      throw new UsageError(`--${flag} ${file}: no such file`);
  }
  return {
    kind: 'aws',
    thingName: thingName!,
    cert: str(values, 'cert')!,
    key: str(values, 'key')!,
    rootCa: str(values, 'root-ca')!,
    iotDataEndpoint: str(values, 'iot-data-endpoint')!,
    iotCredEndpoint: str(values, 'iot-cred-endpoint')!,
    region: str(values, 'region')!,
    roleAlias,
  };
}

/** Validates the flags of an install; throws UsageError naming the flag. Changes nothing. */
export function parseSetupFlags(values: Values, positionals: string[]): SetupPlan | UninstallPlan {
  if (positionals.length) throw new UsageError(`unexpected argument '${positionals[0]}'`);
  const rootFlag = str(values, 'root');
  const unitDir = resolve(str(values, 'unit-dir') ?? SYSTEM_UNIT_DIR);
  if (values.uninstall) {
    const extra = given(values, INSTALL_FLAGS);
    if (extra.length)
      throw new UsageError(`--uninstall takes only --unit-dir, --purge and --root, not --${extra[0]}`);
    if (values.purge && rootFlag === undefined)
      throw new UsageError('--purge needs --root DIR: the root to delete');
    return { unitDir, purgeRoot: values.purge ? resolve(rootFlag!) : undefined };
  }
  if (values.purge) throw new UsageError('--purge applies to --uninstall only');
  if (rootFlag === undefined) throw new UsageError('--root DIR is required');
  const root = resolve(rootFlag);
  if (root === '/') throw new UsageError('--root must not be /');
  return {
    root,
    user: checkFlag(() => checkAccountName(str(values, 'user') ?? DEFAULT_USER, '--user')),
    group: checkFlag(() => checkAccountName(str(values, 'group') ?? DEFAULT_GROUP, '--group')),
    unitDir,
    start: !values['no-start'],
    provisioning: provisioningOf(values),
  };
}

function checkFlag<T>(f: () => T): T {
  try {
    return f();
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

export async function runSetup(plan: SetupPlan, say: (s: string) => void): Promise<void> {
  if (!existsSync(plan.unitDir) || !statSync(plan.unitDir).isDirectory())
    throw new UsageError(`--unit-dir ${plan.unitDir}: no such directory`);
  const accounts = ensureAccounts(plan.user, plan.group);
  say(
    `group ${plan.group} (gid ${accounts.gid}): ${accounts.groupCreated ? 'created' : 'exists'}; ` +
      `user ${plan.user} (uid ${accounts.uid}): ${accounts.userCreated ? 'created' : 'exists'}`,
  );
  const paths = createRootLayout(plan.root);
  say(`root layout: ${paths.root}`);
  const init = await writeInitConfig(plan.root, plan, plan.provisioning);
  const provDone = {
    provisioned: `provisioned against the local cloud (certificate in ${paths.root}/certs)`,
    kept: 'already provisioned for this thing: certificate kept',
    configured: 'configured for AWS IoT',
    none: 'not provisioned (local deployments only)',
  }[init.provisioning];
  say(`init config: ${init.path}; ${provDone}; runWithDefault.posixUser ${plan.user}:${plan.group}`);
  if (existsSync(paths.configTlog))
    say(
      `note: ${paths.configTlog} exists, so a restart keeps the saved config and does not re-read config.yaml; ` +
        `to apply it, run once 'tendril run --root ${paths.root} --init-config ${init.path}'`,
    );
  installUnit(plan.unitDir, renderUnit(plan.root), { start: plan.start, say });
}

export function runUninstall(plan: UninstallPlan, say: (s: string) => void): void {
  if (plan.purgeRoot !== undefined) {
    const root = plan.purgeRoot;
    if (root === '/') throw new UsageError('--root must not be /');
    if (existsSync(root) && !existsSync(rootPaths(root).config))
      throw new UsageError(
        `--root ${root} has no config/ directory: it does not look like a nucleus root, not deleting it`,
      );
  }
  uninstallUnit(plan.unitDir, say);
  if (plan.purgeRoot === undefined) return;
  const root = plan.purgeRoot;
  if (!existsSync(root)) {
    say(`no root at ${root}`);
    return;
  }
  let lock;
  try {
    lock = acquireInstanceLock(rootPaths(root).lockFile);
  } catch (e) {
    if (e instanceof InstanceLockedError)
      throw new Error(`a nucleus (pid ${e.holderPid}) still runs on ${root}: stop it before --purge`);
    throw e;
  }
  lock.release();
  rmSync(root, { recursive: true, force: true });
  say(`removed root ${root}`);
}

export const setupCommand: Command = {
  name: 'setup',
  summary: 'install the nucleus as a systemd service on a root (user, group, config, unit), or uninstall it',
  usage:
    'setup --root DIR [--user ggc_user] [--group ggc_group] [--unit-dir DIR] [--no-start]\n' +
    '             [--localcloud DIR --thing-name NAME [--thing-group G]]\n' +
    '             [--thing-name NAME --cert F --key F --root-ca F --iot-data-endpoint H --iot-cred-endpoint H --region R\n' +
    '              [--tes-role-alias-name A]]\n' +
    '       setup --uninstall [--unit-dir DIR] [--purge --root DIR]',
  options: {
    root: { type: 'string', short: 'r' },
    user: { type: 'string' },
    group: { type: 'string' },
    'unit-dir': { type: 'string' },
    'no-start': { type: 'boolean' },
    localcloud: { type: 'string' },
    'thing-name': { type: 'string' },
    'thing-group': { type: 'string' },
    cert: { type: 'string' },
    key: { type: 'string' },
    'root-ca': { type: 'string' },
    'iot-data-endpoint': { type: 'string' },
    'iot-cred-endpoint': { type: 'string' },
    region: { type: 'string' },
    'tes-role-alias-name': { type: 'string' },
    uninstall: { type: 'boolean' },
    purge: { type: 'boolean' },
  },
  optionHelp: {
    root: 'the Greengrass root directory (created with the standard layout)',
    user: 'default component user, created as a system user when missing (default ggc_user)',
    group: 'default component group, created as a system group when missing (default ggc_group)',
    'unit-dir': `where tendril.service is written (default ${SYSTEM_UNIT_DIR}; only there is systemctl run)`,
    'no-start': 'enable the service but do not start it',
    localcloud: 'provision against the local cloud whose data directory (with endpoints.json) is DIR',
    'thing-name': 'the device thing name (local cloud or AWS)',
    'thing-group': 'local cloud: a thing group to add the device to (created if missing)',
    cert: 'AWS: the device certificate file',
    key: 'AWS: the device private key file',
    'root-ca': 'AWS: the root CA file',
    'iot-data-endpoint': 'AWS: the IoT data (ATS) endpoint host',
    'iot-cred-endpoint': 'AWS: the IoT credentials provider endpoint host',
    region: 'AWS: the region',
    'tes-role-alias-name': 'AWS: the token exchange role alias (optional)',
    uninstall: 'stop, disable and remove the unit',
    purge: 'with --uninstall: delete the root directory as well',
  },
  details:
    'The init config is <root>/config/config.yaml; a nucleus reads it on its first start (no config.tlog yet).\n' +
    'Re-running setup is safe: existing accounts, certificates and settings not given again are kept.\n' +
    'See docs/install.md.',
  async run(values, positionals) {
    const plan = parseSetupFlags(values, positionals);
    const say = (s: string) => process.stdout.write(`tendril setup: ${s}\n`);
    try {
      if ('root' in plan) await runSetup(plan, say);
      else runUninstall(plan, say);
    } catch (e) {
      if (e instanceof Error && e.name === 'UsageError') throw e;
      process.stderr.write(`tendril setup: ${(e as Error).message}\n`);
      return 1;
    }
    return 0;
  },
};
