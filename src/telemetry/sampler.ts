// Takes one sample: system CPU, memory and open file descriptors, the count of components per
// lifecycle state, and each component's CPU and memory summed over its whole process tree. Where a
// cgroup holds the component, its process list and CPU time come from the cgroup (processes that
// daemonized or exited are still counted); otherwise the component's processes are the subtrees of
// the nucleus's children that carry the component's SVCUID.
import { countStates } from './aggregate.js';
import {
  CLOCK_TICKS_PER_SECOND,
  processTree,
  readProcessTable,
  readSvcuid,
  readSystemCounters,
  type ProcEntry,
  type SystemCounters,
} from './proc.js';
import type { ComponentFigures, TelemetrySample } from './types.js';

export interface ComponentInfo {
  componentName: string;
  version: string;
  state: string;
}

/** The cgroup accounting of a component (src/lifecycle CgroupController). */
export interface CgroupAccounting {
  pids(component: string): Promise<number[]>;
  usage(component: string): Promise<{ cpuNanos: number | null; memoryBytes: number | null }>;
}

export interface SamplerOptions {
  components(): ComponentInfo[];
  /** absent when no cgroup controller is in use */
  cgroups?: CgroupAccounting;
  /** the component a SVCUID token was issued to */
  componentOfToken(token: string): string | undefined;
  /** the nucleus's pid, parent of every component step */
  rootPid?: number;
  /** monotonic milliseconds, for CPU rates */
  monotonicMs?: () => number;
  /** epoch milliseconds, the sample's timestamp */
  now?: () => number;
  procRoot?: string;
}

/** CPU percent of one core from two cumulative readings; null without a previous one. */
export function cpuPercent(prevNanos: number | undefined, nanos: number, elapsedMs: number): number | null {
  if (prevNanos === undefined || elapsedMs <= 0) return null;
  return Math.max(0, ((nanos - prevNanos) / (elapsedMs * 1e6)) * 100);
}

/** System CPU percent (all cores) between two /proc/stat readings. */
export function systemCpuPercent(prev: SystemCounters | undefined, cur: SystemCounters): number | null {
  if (!prev) return null;
  const total = cur.totalTicks - prev.totalTicks;
  if (total <= 0) return null;
  return Math.min(100, Math.max(0, ((total - (cur.idleTicks - prev.idleTicks)) / total) * 100));
}

const ticksToNanos = (ticks: number) => (ticks / CLOCK_TICKS_PER_SECOND) * 1e9;

export class TelemetrySampler {
  private prevSystem: SystemCounters | undefined;
  private prevAt: number | undefined;
  private prevCpu = new Map<string, number>();
  /** pid -> component, for the nucleus's children (a pid's environment does not change after exec) */
  private owners = new Map<number, string>();
  private readonly mono: () => number;
  private readonly now: () => number;

  constructor(private readonly o: SamplerOptions) {
    this.mono = o.monotonicMs ?? (() => performance.now());
    this.now = o.now ?? Date.now;
  }

  async sample(): Promise<TelemetrySample> {
    const infos = this.o.components();
    const [system, table] = await Promise.all([
      readSystemCounters(this.o.procRoot),
      readProcessTable(this.o.procRoot),
    ]);
    const at = this.mono();
    const elapsed = this.prevAt === undefined ? 0 : at - this.prevAt;
    const trees = this.o.cgroups ? undefined : await this.treesByComponent(table);
    const components: ComponentFigures[] = [];
    const cpuNow = new Map<string, number>();
    for (const c of infos) {
      let procs: ProcEntry[];
      let cpuNanos: number;
      let cgroupMemoryBytes: number | null = null;
      if (this.o.cgroups) {
        const [pids, usage] = await Promise.all([
          this.o.cgroups.pids(c.componentName).catch(() => [] as number[]),
          this.o.cgroups.usage(c.componentName).catch(() => ({ cpuNanos: null, memoryBytes: null }) as const),
        ]);
        procs = pids.flatMap((p) => table.get(p) ?? []);
        cpuNanos = usage.cpuNanos ?? ticksToNanos(procs.reduce((a, p) => a + p.cpuTicks, 0));
        cgroupMemoryBytes = usage.memoryBytes;
      } else {
        procs = trees?.get(c.componentName) ?? [];
        cpuNanos = ticksToNanos(procs.reduce((a, p) => a + p.cpuTicks, 0));
      }
      cpuNow.set(c.componentName, cpuNanos);
      components.push({
        componentName: c.componentName,
        version: c.version,
        state: c.state,
        cpuPercent: round(cpuPercent(this.prevCpu.get(c.componentName), cpuNanos, elapsed)),
        memoryBytes: procs.reduce((a, p) => a + p.rssBytes, 0),
        cgroupMemoryBytes,
        processCount: procs.length,
        source: this.o.cgroups ? 'cgroup' : 'process-tree',
      });
    }
    const sample: TelemetrySample = {
      timestamp: this.now(),
      system: {
        cpuPercent: round(systemCpuPercent(this.prevSystem, system)),
        memoryUsedBytes: system.memoryUsedBytes,
        memoryTotalBytes: system.memoryTotalBytes,
        openFileDescriptors: system.openFileDescriptors,
      },
      stateCounts: countStates(infos.map((c) => c.state)),
      components,
    };
    this.prevSystem = system;
    this.prevAt = at;
    this.prevCpu = cpuNow;
    return sample;
  }

  /** Each component's processes: the subtrees of the nucleus's children that carry its SVCUID. */
  private async treesByComponent(table: Map<number, ProcEntry>): Promise<Map<string, ProcEntry[]>> {
    const root = this.o.rootPid ?? process.pid;
    const children = [...table.values()].filter((e) => e.ppid === root).map((e) => e.pid);
    const live = new Set(children);
    for (const pid of this.owners.keys()) if (!live.has(pid)) this.owners.delete(pid);
    const out = new Map<string, ProcEntry[]>();
    for (const pid of children) {
      let owner = this.owners.get(pid);
      if (owner === undefined) {
        // not cached when unknown: a child read between fork and exec still has the nucleus's environment
        const token = await readSvcuid(pid, this.o.procRoot);
        owner = token ? this.o.componentOfToken(token) : undefined;
        if (!owner) continue;
        this.owners.set(pid, owner);
      }
      const list = out.get(owner) ?? [];
      list.push(...processTree(table, pid));
      out.set(owner, list);
    }
    return out;
  }
}

const round = (v: number | null) => (v === null ? null : Math.round(v * 100) / 100);
