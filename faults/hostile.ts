// Hostile inputs against a cloud-connected nucleus, each refused with an error that names the field
// and nothing changed on the device (components, versions, store, another component's configuration):
// fuzzed IPC frames on the real socket; malformed and oversized recipes and local deployment
// documents; malformed and oversized job documents sent over MQTT; malformed requests to the local
// cloud's control plane; ZIP artifacts with traversal, absolute and symlink entries; IPC calls on
// another component's topics, lifecycle and deployments, and a removed component's token
// [IPC-04][IPC-12][IPC-97][DP-26][RC-16].
import { CreateComponentVersionCommand, CreateDeploymentCommand } from '@aws-sdk/client-greengrassv2';
import { existsSync } from 'node:fs';
import { ComponentStore } from '../src/deployment/index.js';
import { errorCode, errorMessage, rpcError, type Client } from '../test/support/ipc-client.js';
import type { FaultFamily, FamilyContext } from './lib/family.js';
import { fuzzSession, Rng } from './lib/fuzz.js';
import { archiveCases, documentCases, jobCases, recipeCases, zipBytes } from './lib/hostile-cases.js';
import { connectAs, socketCount, tokenOf } from './lib/ipc.js';
import { LocalDevice, recipe } from './lib/local.js';
import { componentDetails, componentList, sleep, until } from './lib/proc.js';
import { check, type Fault } from './lib/report.js';
import { Rig } from './lib/rig.js';

const first = (text: string) => text.replace(/\s+/g, ' ').trim().slice(0, 160);

const family: FaultFamily = {
  name: 'hostile',
  title: 'Hostile inputs: refused with precise errors, nothing changed',
  async run(ctx: FamilyContext) {
    const rig = new Rig(ctx, 'hx');
    const probe = `${rig.prefix}Probe`;
    const owner = `${rig.prefix}Owner`;
    const victim = `${rig.prefix}Victim`;
    const clients: Client[] = [];
    try {
      await rig.open();
      const dev = new LocalDevice(ctx.dir, rig.root); // its deploy() against the rig's nucleus
      const pubsub = (name: string, resources: string[]) => ({
        'aws.greengrass.ipc.pubsub': { [`${name}:pubsub:1`]: { operations: ['*'], resources } },
      });
      const setup = await dev.deploy({
        recipes: [
          recipe(probe, '1.0.0', 'exec sleep 100001', {
            ComponentConfiguration: {
              DefaultConfiguration: { n: 1, accessControl: pubsub(probe, ['fuzz/*']) },
            },
          }),
          recipe(owner, '1.0.0', 'exec sleep 100003', {
            ComponentConfiguration: {
              DefaultConfiguration: { secret: 'owner', accessControl: pubsub(owner, ['owner/*']) },
            },
          }),
        ],
        merge: [`${probe}=1.0.0`, `${owner}=1.0.0`],
        wait: true,
      });
      check(setup.result.code === 0, `set-up deployment failed: ${setup.result.stdout.slice(-400)}`);
      const probeToken = (await tokenOf(rig.root, 'sleep 100001')).token;
      const ownerToken = (await tokenOf(rig.root, 'sleep 100003')).token;
      const probeClient = await connectAs(rig.root, probeToken);
      const ownerClient = await connectAs(rig.root, ownerToken);
      clients.push(probeClient, ownerClient);

      /** What must not change: components and versions, the store, the owner's configuration. */
      const snapshot = async () =>
        JSON.stringify({
          components: (await componentList(rig.root)).map((c) => `${c.name}@${c.version}:${c.state}`).sort(),
          store: await new ComponentStore(rig.root).listInstalled(),
          owner: (await componentDetails(rig.root, owner))?.configuration,
        });
      const before = await snapshot();
      const unchanged = async (what: string) => {
        const now = await snapshot();
        check(
          now === before,
          `${what} changed the device: ${now.slice(0, 300)} (was ${before.slice(0, 300)})`,
        );
      };
      /** One refused input: `send` returns the refusal text, which must match `expect`. */
      const refused = async (
        fault: Fault,
        name: string,
        expect: RegExp,
        send: () => Promise<string | undefined>,
      ) => {
        await fault.inject(async () => {
          const text = await send();
          check(text !== undefined, `${name}: accepted`);
          check(expect.test(text), `${name}: refused, but the error does not say ${expect}: ${first(text)}`);
          fault.note(`${name}: "${first(text)}"`);
          await unchanged(name);
        });
      };

      // ---- fuzzed IPC frames ----
      const fuzz = ctx.fault(
        'fuzzed IPC frames (random, corrupted, truncated, oversized) on the nucleus socket, 8 connections at a time',
        'every reply a well-formed frame; every connection closed by the nucleus after EOF',
      );
      const sessions = ctx.quick ? 120 : 800;
      const seed = Number(process.env.FUZZ_SEED ?? (Date.now() & 0xffffffff) >>> 0);
      const rng = new Rng(seed);
      const sockets0 = socketCount(rig.nucleus.pid);
      let frames = 0;
      let replies = 0;
      let started = 0;
      await Promise.all(
        Array.from({ length: 8 }, async () => {
          while (started < sessions) {
            started++;
            const r = new Rng(rng.int(2 ** 32));
            await fuzz.inject(async () => {
              const s = await fuzzSession(rig.nucleus.socket, r, probeToken);
              frames += s.frames;
              replies += s.replies;
              check(s.bad.length === 0, `malformed replies: ${s.bad.slice(0, 3).join('; ')}`);
              check(!s.hung, 'the nucleus kept the connection open 10 s after EOF');
            });
          }
        }),
      );
      fuzz.note(`seed ${seed} (replay: FUZZ_SEED=${seed}); ${frames} frames sent, ${replies} replies`);
      const after = ctx.fault(
        'the nucleus after the fuzz',
        'alive; the probe answers; sockets back to the count before; nothing changed',
      );
      await after.inject(async () => {
        rig.nucleus.assertAlive('during the fuzz');
        const v = await probeClient.getConfiguration({ keyPath: ['n'] });
        check(v.value?.n !== undefined, `the probe read ${JSON.stringify(v.value)}`);
        await until(
          'the nucleus to close the fuzz connections',
          () => socketCount(rig.nucleus.pid) <= sockets0,
          30_000,
          100,
        ).catch(() => {
          throw new Error(
            `the nucleus holds ${socketCount(rig.nucleus.pid)} sockets, ${sockets0} before the fuzz`,
          );
        });
        await unchanged('the fuzz');
      });

      // ---- malformed and oversized recipes and deployment documents ----
      const target = `${rig.prefix}Target`;
      const recipes = ctx.fault(
        'malformed or oversized recipe in a local deployment',
        'refused naming the field; nothing changed',
      );
      for (const c of recipeCases(target))
        await refused(recipes, c.name, c.expect, async () => {
          const d = await dev.deploy({ recipes: [c.recipe], merge: [`${target}=1.0.0`], wait: true });
          if (d.result.code === 0) return undefined;
          if (!d.id) return d.result.stderr;
          const raw = (await dev.status(d.id)).raw.deploymentStatusDetails as
            Record<string, string> | undefined;
          return raw?.deploymentFailureCause ?? JSON.stringify(raw);
        });
      const documents = ctx.fault(
        'malformed or oversized local deployment document',
        'refused naming the field; nothing changed',
      );
      for (const c of documentCases(target))
        await refused(documents, c.name, c.expect, async () => {
          const d = await dev.deploy({
            recipes: [recipe(target, '1.0.0', 'exec sleep 100000')],
            merge: c.merge,
            config: c.config,
            wait: true,
          });
          if (d.result.code !== 0) {
            if (!d.id) return d.result.stderr;
            const raw = (await dev.status(d.id)).raw.deploymentStatusDetails as
              Record<string, string> | undefined;
            return raw?.deploymentFailureCause ?? JSON.stringify(raw);
          }
          await dev.deploy({ remove: [target], wait: true }); // undo, so that the next cases start equal
          return undefined;
        });
      const jobs = ctx.fault(
        'malformed or oversized job document sent to the device over MQTT',
        'FAILED reported with the field named; nothing changed',
      );
      for (const [i, c] of jobCases(rig.svc, rig.current.version).entries()) {
        const jobId = `forged-${ctx.id}-${i}`;
        await refused(jobs, c.name, c.expect, async () => {
          const now = Date.now() / 1000;
          const execution = {
            jobId,
            status: 'QUEUED',
            queuedAt: now,
            lastUpdatedAt: now,
            versionNumber: 1,
            executionNumber: 1,
            jobDocument: c.doc,
          };
          await rig.observer.publish(
            `$aws/things/${rig.device.thing}/jobs/$next/namespace-aws-gg-deployment/get/accepted`,
            JSON.stringify({ timestamp: now, execution }),
          );
          const seen = await until(
            `a status of ${jobId} or a refusal in the log`,
            () => {
              const t = rig.observer.traffic(jobId);
              const k = t.published.findIndex((s) => s !== 'IN_PROGRESS');
              if (k >= 0) return { status: t.published[k], details: t.details[k] };
              const line = rig.nucleus
                .log()
                .split('\n')
                .find((l) => l.includes(`job ${jobId} not queued`));
              return line ? { status: 'NOT_QUEUED', details: { line } } : undefined;
            },
            60_000,
          );
          if (seen.status === 'SUCCEEDED') return undefined;
          return `${seen.status}: ${seen.details['deployment-failure-cause'] ?? JSON.stringify(seen.details)}`;
        });
      }
      const cloud = ctx.fault(
        'malformed or oversized request to the local cloud control plane (SDK)',
        'ValidationException naming the field',
      );
      const sdkError = (p: Promise<unknown>) =>
        p.then(
          () => undefined,
          (e: Error) => `${e.name}: ${e.message}`,
        );
      const inline = (o: Record<string, unknown>) =>
        new CreateComponentVersionCommand({ inlineRecipe: Buffer.from(JSON.stringify(o)) });
      for (const [name, expect, send] of [
        [
          'recipe without ComponentName',
          /ComponentName/,
          () => rig.cloud.sdk.send(inline({ ...recipe('x', '1.0.0', 'true'), ComponentName: undefined })),
        ],
        [
          'recipe with a non-semver version',
          /ComponentVersion/,
          () => rig.cloud.sdk.send(inline(recipe(`${rig.prefix}Bad`, '1.x', 'true'))),
        ],
        [
          'oversized inline recipe (2 MiB)',
          /inlineRecipe|bytes|size|limit/i,
          () =>
            rig.cloud.sdk.send(
              inline({ ...recipe(`${rig.prefix}Big`, '1.0.0', 'true'), Pad: 'x'.repeat(2 * 2 ** 20) }),
            ),
        ],
        [
          'deployment with a componentVersion that does not exist ("latest")',
          /version latest/,
          () =>
            rig.cloud.sdk.send(
              new CreateDeploymentCommand({
                targetArn: rig.device.groupArn,
                components: { [rig.svc]: { componentVersion: 'latest' } },
              }),
            ),
        ],
        [
          'deployment with a merge that is not JSON',
          /merge/,
          () =>
            rig.cloud.sdk.send(
              new CreateDeploymentCommand({
                targetArn: rig.device.groupArn,
                components: {
                  [rig.svc]: {
                    componentVersion: rig.current.version,
                    configurationUpdate: { merge: '{not json' },
                  },
                },
              }),
            ),
        ],
        [
          'deployment with a malformed targetArn',
          /targetArn/,
          () => rig.cloud.sdk.send(new CreateDeploymentCommand({ targetArn: 'arn:nope', components: {} })),
        ],
      ] as const)
        await refused(cloud, name, expect, () => sdkError(send()));

      // ---- archives ----
      const archives = ctx.fault(
        'ZIP artifact with a hostile entry (Unarchive: ZIP)',
        'deployment refused naming the entry; no file written outside; nothing changed',
      );
      for (const [i, c] of archiveCases(ctx.id).entries()) {
        const name = `${rig.prefix}Zip${i}`;
        await refused(archives, c.name, c.expect, async () => {
          const r = recipe(name, '1.0.0', 'exec sleep 100000');
          (r.Manifests as Record<string, unknown>[])[0].Artifacts = [
            { Uri: 'greengrass:bundle.zip', Unarchive: 'ZIP' },
          ];
          const d = await dev.deploy({
            recipes: [r],
            artifacts: { [`${name}/1.0.0/bundle.zip`]: zipBytes(ctx.dir, c, i) },
            merge: [`${name}=1.0.0`],
            wait: true,
          });
          const escaped = c.outside(rig.root).filter((p) => existsSync(p));
          check(escaped.length === 0, `files written outside the folder: ${escaped.join(', ')}`);
          if (d.result.code === 0) return undefined;
          const raw = d.id
            ? ((await dev.status(d.id)).raw.deploymentStatusDetails as Record<string, string>)
            : undefined;
          return raw?.deploymentFailureCause ?? d.result.stderr;
        });
      }

      // ---- another component's resources, and a removed component's token ----
      const tokens = ctx.fault(
        "IPC calls on another component's topics, lifecycle and deployments",
        'UnauthorizedError (ServiceError for the CLI operations [IPC-31]) naming the caller; nothing changed; no message delivered',
      );
      const seen: unknown[] = [];
      const sub = ownerClient.subscribeToTopic({ topic: 'owner/secret' });
      sub.on('message', (m) => seen.push(m));
      await sub.activate();
      const unauthorized = async (name: string, p: Promise<unknown>) =>
        refused(
          tokens,
          name,
          new RegExp(
            `(UnauthorizedError|ServiceError): Principal ${probe.replace(/\./g, '\\.')} is not authorized`,
          ),
          async () => {
            const e = await rpcError(p).catch(() => undefined);
            return e ? `${errorCode(e)}: ${errorMessage(e)}` : undefined;
          },
        );
      await unauthorized(
        'PublishToTopic on the owner topic',
        probeClient.publishToTopic({
          topic: 'owner/secret',
          publishMessage: { jsonMessage: { message: { stolen: true } } },
        }),
      );
      await unauthorized(
        'SubscribeToTopic on the owner topic',
        probeClient.subscribeToTopic({ topic: 'owner/secret' }).activate(),
      );
      await unauthorized('PauseComponent of the owner', probeClient.pauseComponent({ componentName: owner }));
      await unauthorized(
        'RestartComponent of the owner',
        probeClient.restartComponent({ componentName: owner }),
      );
      await unauthorized(
        'CreateLocalDeployment',
        probeClient.createLocalDeployment({ rootComponentsToRemove: [owner] }),
      );
      await sleep(300);
      tokens.note(`messages delivered to the owner's subscription: ${seen.length}`);
      const revoked = ctx.fault("IPC connect with a removed component's token", 'the handshake is refused');
      await revoked.inject(async () => {
        const v = await dev.deploy({
          recipes: [recipe(victim, '1.0.0', 'exec sleep 100004')],
          merge: [`${victim}=1.0.0`],
          wait: true,
        });
        check(v.result.code === 0, `deploying ${victim} failed`);
        const token = (await tokenOf(rig.root, 'sleep 100004')).token;
        const gone = await dev.deploy({ remove: [victim], wait: true });
        check(gone.result.code === 0, `removing ${victim} failed`);
        const c = await connectAs(rig.root, token).then(
          (cl) => (clients.push(cl), 'connected'),
          (e: Error) => e.message,
        );
        check(c !== 'connected', `a client connected with the token of the removed ${victim}`);
        revoked.note(`connect refused: "${first(c)}"`);
      });
    } finally {
      for (const c of clients) await c.close().catch(() => undefined);
      await rig.close();
    }
  },
};
export default family;
