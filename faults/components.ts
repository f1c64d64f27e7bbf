// Components that misbehave on purpose, deployed to a running nucleus next to a well-behaved probe
// component: one forks 1,000 children, one fills its log, one ignores SIGTERM, one exits in a tight
// loop. While each runs, the campaign times IPC round trips with the official client under the
// probe's token (GetConfiguration) and compares their p50/p99 with idle windows measured just before:
// a campaign figure (bound 10x), not a pass/fail check. The checks: the nucleus stays up and answers,
// the component is removed by a deployment, and nothing of it remains (process, cgroup) [LC-82]; the
// flooded log stays within the rotation bound [LC-86][LC-93]; the crash loop ends BROKEN [LC-29].
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Client } from '../test/support/ipc-client.js';
import { componentCgroups, componentProcesses, removeCgroups } from './lib/checks.js';
import type { FaultFamily, FamilyContext } from './lib/family.js';
import { connectAs, latencies, percentile, tokenOf } from './lib/ipc.js';
import { LocalDevice, recipe } from './lib/local.js';
import { componentDetails, readText, sleep, until } from './lib/proc.js';
import { check, type Fault } from './lib/report.js';

interface Hostile {
  short: string;
  fault: string;
  expect: string;
  run: string;
  /** Extra deployment flags. */
  args?: string[];
  /** Resolves once the misbehaviour is under way. */
  active(dev: LocalDevice, name: string, others: () => number[]): Promise<void>;
  /** Checks and measures while or after it ran (before removal). */
  after?(dev: LocalDevice, name: string, fault: Fault, others: () => number[]): Promise<void>;
}

const LOG_BOUND_KB = 10240 + 1024; // totalLogsSizeKB of rotated files + the active file (defaults)

// The log rotates while it is measured: when a listed file was rolled or deleted before its stat,
// the listing is taken again (counting it as gone would undercount the file it was renamed to).
function logBytes(root: string, name: string): number {
  const dir = join(root, 'logs');
  for (;;) {
    const sizes = readdirSync(dir)
      .filter((f) => f === `${name}.log` || f.startsWith(`${name}_`))
      .map((f) => statSync(join(dir, f), { throwIfNoEntry: false })?.size);
    if (sizes.every((s) => s !== undefined)) return sizes.reduce((n, s) => n + s, 0);
  }
}

const HOSTILES: Hostile[] = [
  {
    short: 'Forker',
    fault: 'a component that forks 1,000 children',
    expect: 'nucleus answers IPC throughout; removal kills all 1,001 processes and its cgroup',
    run: 'i=0; while [ $i -lt 1000 ]; do sleep 100000 & i=$((i+1)); done; echo forked; wait',
    active: async (dev, name, others) => {
      await until(
        '1,000 children',
        () => others().length >= 1000 || readText(join(dev.root, 'logs', `${name}.log`)).includes('forked'),
        120_000,
        100,
      );
    },
    after: async (_dev, _name, fault, others) => {
      const n = others().length;
      fault.measure('processes of the component at its peak', n, '');
      check(n >= 1000, `only ${n} processes of the forking component were alive`);
    },
  },
  {
    short: 'Flooder',
    fault: 'a component that fills its log (yes(1) on stdout)',
    expect: `nucleus answers IPC; its log files stay within ${LOG_BOUND_KB} KB (rotation); removal leaves nothing`,
    run: "exec yes 'tendril fault campaign: a component that fills its log with this line, again and again'",
    active: async (dev, name) => {
      await until('the log to grow past 2 MB', () => logBytes(dev.root, name) > 2 * 2 ** 20, 120_000, 100);
    },
    after: async (dev, name, fault) => {
      const bytes = logBytes(dev.root, name);
      fault.measure('log files of the component', Math.round(bytes / 1024), 'KB');
      check(
        bytes <= LOG_BOUND_KB * 1024 + 4096,
        `its log files hold ${bytes} bytes, over ${LOG_BOUND_KB} KB`,
      );
    },
  },
  {
    short: 'Stubborn',
    fault: 'a component that ignores SIGTERM',
    expect: 'nucleus answers IPC; removal escalates to SIGKILL and leaves nothing',
    run: "trap '' TERM; echo ignoring; while true; do sleep 1; done",
    active: async (dev, name) => {
      await until(
        'the trap',
        () => readText(join(dev.root, 'logs', `${name}.log`)).includes('ignoring'),
        60_000,
      );
    },
  },
  {
    short: 'Crasher',
    fault: 'a component that exits in a tight loop (exit 1)',
    expect: 'nucleus answers IPC; the restarts stop at BROKEN; removal leaves nothing',
    run: 'echo crash; exit 1',
    args: ['--failure-policy', 'DO_NOTHING'],
    active: async (dev, name) => {
      await until(
        'the first crash',
        () => readText(join(dev.root, 'logs', `${name}.log`)).includes('crash'),
        60_000,
      );
    },
    after: async (dev, name, fault) => {
      // RUNNING and ERRORED come and go while it restarts: wait for BROKEN, or say where it stays
      let last = '';
      await until(
        `${name} to be BROKEN`,
        async () => (last = (await componentDetails(dev.root, name))?.state ?? 'unknown') === 'BROKEN',
        60_000,
        100,
      ).catch(() => {
        throw new Error(`the crashing component is ${last} after 60 s, not BROKEN`);
      });
      fault.measure(
        'runs before it stopped',
        readText(join(dev.root, 'logs', `${name}.log`)).split('crash').length - 1,
        '',
      );
    },
  },
];

const family: FaultFamily = {
  name: 'components',
  title: 'Hostile components: the nucleus stays responsive',
  async run(ctx: FamilyContext) {
    const dev = new LocalDevice(ctx.dir);
    const prefix = `com.faults${ctx.id}cmp.`;
    const probe = `${prefix}Probe`;
    const windowMs = ctx.quick ? 2000 : 10_000;
    const reps = ctx.reps(3, 1);
    let client: Client | undefined;
    try {
      await dev.nucleus.start();
      const first = await dev.deploy({
        recipes: [
          recipe(probe, '1.0.0', 'exec sleep 100001', {
            ComponentConfiguration: { DefaultConfiguration: { n: 1 } },
          }),
        ],
        merge: [`${probe}=1.0.0`],
        wait: true,
      });
      check(
        first.result.code === 0,
        `the probe deployment failed: ${first.result.stdout} ${first.result.stderr}`,
      );
      const { pid: probePid, token } = await tokenOf(dev.root, 'sleep 100001');
      client = await connectAs(dev.root, token);
      const c = client;
      const call = () => c.getConfiguration({ keyPath: ['n'] });
      const timed = async () => {
        const out: number[] = [];
        const end = Date.now() + windowMs;
        while (Date.now() < end || out.length < 200) out.push(...(await latencies(50, call)));
        return out.sort((a, b) => a - b);
      };
      const others = () => componentProcesses(dev.root).filter((p) => p !== probePid);

      for (const h of HOSTILES) {
        const fault = ctx.fault(h.fault, h.expect);
        // idle and faulty windows alternate, so that the load of the machine hits both alike
        const idle: number[] = [];
        const during: number[] = [];
        let seconds = 0;
        for (let rep = 0; rep < reps; rep++) {
          const name = `${prefix}${h.short}${rep}`; // a fresh name: its own log file and cgroup
          idle.push(...(await timed()));
          const ok = await fault.inject(async () => {
            const version = '1.0.0';
            const d = await dev.deploy({
              recipes: [recipe(name, version, h.run)],
              merge: [`${name}=${version}`],
              args: h.args,
            });
            check(
              d.result.code === 0,
              `the deployment of ${name} was refused: ${d.result.stderr || d.result.stdout}`,
            );
            await h.active(dev, name, others);
            during.push(...(await timed()));
            seconds += windowMs / 1000;
            dev.nucleus.assertAlive();
            await h.after?.(dev, name, fault, others);
            const t0 = Date.now();
            const removal = await dev.deploy({ remove: [name], wait: true });
            check(
              removal.result.code === 0,
              `the removal of ${name} failed: ${removal.result.stdout} ${removal.result.stderr}`,
            );
            await until(`every process of ${name} to end`, () => others().length === 0, 60_000, 50).catch(
              () => {
                throw new Error(`${others().length} processes of ${name} survived its removal`);
              },
            );
            fault.measure('removal (deployment to no process left)', (Date.now() - t0) / 1000, 's');
            const groups = componentCgroups(name).filter((g) => g.pids.length > 0);
            check(
              groups.length === 0,
              `cgroups of ${name} still hold processes: ${groups.map((g) => g.dir).join(', ')}`,
            );
            const v = await call();
            check(v.value?.n === 1, `the probe read ${JSON.stringify(v.value)} after the fault`);
          });
          if (!ok) {
            await dev.deploy({ remove: [name], wait: true }).catch(() => undefined);
            await sleep(1000);
          }
        }
        if (during.length > 0) {
          idle.sort((a, b) => a - b);
          during.sort((a, b) => a - b);
          const what = (n: number) => `${n} calls in ${seconds} s`;
          const base = (p: number) => ({
            name: `idle p${p} (${what(idle.length)})`,
            value: percentile(idle, p),
          });
          for (const p of [50, 99])
            ctx.figure({
              name: `IPC round trip p${p} with ${h.fault} (${what(during.length)})`,
              value: percentile(during, p),
              unit: 'ms',
              baseline: base(p),
              ...(p === 99
                ? { bound: '<= 10x idle p99', within: percentile(during, 99) <= 10 * base(99).value }
                : {}),
            });
          ctx.figure({
            name: `IPC round trip, slowest call with ${h.fault}`,
            value: during.at(-1)!,
            unit: 'ms',
            baseline: { name: 'idle slowest', value: idle.at(-1)! },
          });
        }
      }
    } finally {
      await client?.close().catch(() => undefined);
      await dev.nucleus.stop();
      for (const p of componentProcesses(dev.root)) process.kill(p, 'SIGKILL');
      for (const g of removeCgroups(prefix)) ctx.log(`  removed the cgroup ${g} left behind`);
    }
  },
};
export default family;
