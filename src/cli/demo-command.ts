// `tendril demo`: Tendril's main job on one machine. It starts the local cloud, registers the example
// components through the Greengrass V2 API (the unmodified AWS SDK client), provisions a device and
// starts a nucleus connected to the cloud over MQTT with mutual TLS, deploys the examples to the
// device's thing group through the API (an IoT job), and shows their state live until Ctrl-C.
import {
  chmodSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import yaml from 'js-yaml';
import type { Command } from './command.js';
import { stageNodeModules } from './stage-node-modules.js';

const packageRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const examples = join(packageRoot, 'examples', 'components');
const THING = 'tendril-demo-core';
const GROUP = 'TendrilDemo';
const EXAMPLES: Record<string, string> = {
  'com.example.HelloWorld': '1.0.0',
  'com.example.Publisher': '1.0.0',
  'com.example.Subscriber': '1.0.0',
};

/** True when every directory from `dir` up to / lets other users through (o+x). */
function othersCanTraverse(dir: string): boolean {
  for (let d = dir; ; d = dirname(d)) {
    try {
      if ((statSync(d).mode & 0o001) === 0) return false;
    } catch {
      // not created yet: its parent decides
    }
    if (dirname(d) === d) return true;
  }
}

export const demoCommand: Command = {
  name: 'demo',
  summary: 'run the local cloud and a nucleus with the example components, showing their state live',
  usage: 'demo [--dir DIR] [--seconds N]',
  options: {
    dir: { type: 'string' },
    seconds: { type: 'string' },
  },
  optionHelp: {
    dir: 'where the demo keeps the local cloud data and the nucleus root (default ./.tendril-demo)',
    seconds: 'stop by itself after N seconds (default: run until Ctrl-C)',
  },
  details:
    'As root the components run as the user nobody; otherwise as the current user.\n' +
    'Logs: DIR/root/logs/greengrass.log and DIR/root/logs/<Component>.log.',
  async run(values) {
    const seconds = values.seconds === undefined ? undefined : Number(values.seconds);
    if (seconds !== undefined && !(Number.isFinite(seconds) && seconds > 0)) {
      process.stderr.write(
        `tendril demo: --seconds: expected a positive number, got '${String(values.seconds)}'\n`,
      );
      return 2;
    }
    const say = (s: string) => process.stdout.write(`${s}\n`);
    let dir = resolve(String(values.dir ?? '.tendril-demo'));
    // As root the components run as nobody, who must traverse every directory above the root.
    if (process.getuid?.() === 0 && !othersCanTraverse(dirname(dir))) {
      if (values.dir !== undefined) {
        process.stderr.write(
          `tendril demo: --dir: ${dir} is below a directory that other users cannot enter; the components run as nobody. Choose a directory like /tmp/tendril-demo.\n`,
        );
        return 2;
      }
      dir = join(tmpdir(), 'tendril-demo');
      say(`(the current directory is not reachable by the component user nobody: using ${dir})`);
    }
    mkdirSync(dir, { recursive: true });
    chmodSync(dir, 0o755); // the component user must reach the nucleus root inside it

    // The AWS SDK warns that its releases after January 2027 need Node 22; this one works on Node 20.
    const emit = process.emitWarning.bind(process);
    process.emitWarning = ((w: string | Error, ...rest: unknown[]) => {
      if (String(typeof w === 'string' ? (rest[0] ?? w) : w.name).includes('NodeVersionSupportWarning'))
        return;
      (emit as (...a: unknown[]) => void)(w, ...rest);
    }) as typeof process.emitWarning;
    const { createLocalCloud } = await import('../localcloud/index.js');
    const {
      GreengrassV2Client,
      CreateComponentVersionCommand,
      CreateDeploymentCommand,
      DescribeComponentCommand,
      GetCoreDeviceCommand,
      ListEffectiveDeploymentsCommand,
    } = await import('@aws-sdk/client-greengrassv2');
    const cloud = await createLocalCloud({
      dataDir: join(dir, 'cloud'),
      host: '127.0.0.1',
      port: 0,
      log: () => {},
    });
    say(`local cloud: Greengrass V2 API at ${cloud.endpoint}`);
    const gg = new GreengrassV2Client({
      endpoint: cloud.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'demo', secretAccessKey: 'demo' },
    });

    // Register the example components through the API, as a fleet operator would.
    for (const [name, version] of Object.entries(EXAMPLES)) {
      const artifactDir = join(examples, 'artifacts', name, version);
      for (const file of readdirSync(artifactDir)) {
        const uri = `greengrass:${file}`;
        const query = new URLSearchParams({ uri, componentName: name, componentVersion: version });
        const res = await fetch(`${cloud.endpoint}/tendril/artifacts?${query}`, {
          method: 'PUT',
          body: readFileSync(join(artifactDir, file)),
        });
        if (!res.ok) throw new Error(`artifact upload ${name}/${file}: HTTP ${res.status}`);
      }
      const recipe = readFileSync(join(examples, 'recipes', `${name}-${version}.yaml`));
      let arn: string | undefined;
      try {
        arn = (await gg.send(new CreateComponentVersionCommand({ inlineRecipe: recipe }))).arn;
      } catch (e) {
        if ((e as Error).name !== 'ConflictException') throw e;
        arn = `arn:aws:greengrass:us-east-1:123456789012:components:${name}:versions:${version}`;
      }
      const d = await gg.send(new DescribeComponentCommand({ arn }));
      say(`  component ${name} ${version}: ${d.status?.componentState}`);
    }

    // A device: a certificate from the local CA and a nucleus config pointing at the local cloud.
    const device = await cloud.provision({
      thingName: THING,
      thingGroup: GROUP,
      outDir: join(dir, 'device'),
    });
    const init = yaml.load(readFileSync(device.configPath, 'utf8')) as {
      services: Record<string, { configuration: Record<string, unknown> }>;
    };
    if (process.getuid?.() === 0)
      init.services['aws.greengrass.Nucleus'].configuration.runWithDefault = { posixUser: 'nobody:nogroup' };
    writeFileSync(join(dir, 'device', 'init.yaml'), yaml.dump(init));
    say(`device: thing ${THING} in group ${GROUP}, certificate from the local CA`);

    const { Nucleus } = await import('../nucleus/index.js');
    const root = join(dir, 'root');
    const nucleus = await Nucleus.start({ root, initConfigFile: join(dir, 'device', 'init.yaml') });
    say(`nucleus: root ${root}, IPC ${nucleus.paths.ipcSocket}`);
    for (let i = 0; ; i++) {
      const core = await gg
        .send(new GetCoreDeviceCommand({ coreDeviceThingName: THING }))
        .catch(() => undefined);
      if (core) {
        say(`  core device ${THING}: ${core.status} (connected over MQTT with mutual TLS)`);
        break;
      }
      if (i > 100) throw new Error('the nucleus did not reach the local cloud within 20 s');
      await new Promise((r) => setTimeout(r, 200));
    }

    // Deploy the examples to the thing group through the API; the nucleus receives an IoT job.
    // the Node examples run as the component user: give them an SDK copy that user can read
    const nodePath = stageNodeModules(
      join(packageRoot, 'node_modules'),
      ['aws-iot-device-sdk-v2'],
      join(dir, 'node_modules'),
    );
    const merge = JSON.stringify({ NodePath: nodePath });
    const created = await gg.send(
      new CreateDeploymentCommand({
        targetArn: `arn:aws:iot:us-east-1:123456789012:thinggroup/${GROUP}`,
        deploymentName: 'tendril-demo',
        components: {
          'com.example.HelloWorld': { componentVersion: '1.0.0' },
          'com.example.Publisher': { componentVersion: '1.0.0', configurationUpdate: { merge } },
          'com.example.Subscriber': { componentVersion: '1.0.0', configurationUpdate: { merge } },
        },
      }),
    );
    const id = created.deploymentId!;
    say(`deployment ${id} created for thing group ${GROUP}: ${Object.keys(EXAMPLES).join(', ')}\n`);
    let cloudStatus = 'QUEUED';
    const poll = setInterval(() => {
      void gg
        .send(new ListEffectiveDeploymentsCommand({ coreDeviceThingName: THING }))
        .then((r) => {
          const d = r.effectiveDeployments?.find((e) => e.deploymentId === id);
          if (d?.coreDeviceExecutionStatus) cloudStatus = d.coreDeviceExecutionStatus;
        })
        .catch(() => undefined);
    }, 1000);

    const lastLine = (c: string): string => {
      const f = join(root, 'logs', `${c}.log`);
      if (!existsSync(f)) return '';
      const lines = readFileSync(f, 'utf8').trimEnd().split('\n');
      const m = /\] \([^)]*\) [^:]+: (?:stdout|stderr)\. (.*?)\. \{scriptName/.exec(lines.at(-1) ?? '');
      return m ? m[1] : '';
    };
    const render = () => {
      const rows = Object.keys(EXAMPLES).map((c) => {
        const s = nucleus.manager.get(c)?.status();
        return `  ${c.padEnd(24)} ${(s?.state ?? 'QUEUED').padEnd(10)} ${lastLine(c).slice(0, 60)}`;
      });
      return [
        `deployment ${id} as the cloud sees it: ${cloudStatus}   (Ctrl-C to stop)`,
        `  ${'component'.padEnd(24)} ${'state'.padEnd(10)} last output`,
        ...rows,
      ];
    };
    const tty = process.stdout.isTTY;
    let printed = 0;
    const tick = () => {
      const lines = render();
      if (tty && printed) process.stdout.write(`\x1b[${printed}A\x1b[J`);
      process.stdout.write(lines.join('\n') + '\n');
      printed = lines.length;
    };
    tick();
    const timer = setInterval(tick, tty ? 1000 : 5000);
    await new Promise<void>((done) => {
      process.once('SIGINT', done);
      process.once('SIGTERM', done);
      if (seconds !== undefined) setTimeout(done, seconds * 1000).unref();
    });
    clearInterval(timer);
    clearInterval(poll);
    tick();
    say('\nstopping: components (dependers first), nucleus, local cloud');
    await nucleus.stop();
    await cloud.close();
    gg.destroy();
    say('stopped.');
    return 0;
  },
};
