// Runs fault families and collects their records; used by faults/run.ts (`npm run faults`) and by the
// CI test (test/e2e/faults.test.ts, the --quick campaign).
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import components from './components.js';
import disk from './disk.js';
import hostile from './hostile.js';
import kill9 from './kill9.js';
import network from './network.js';
import type { FaultFamily } from './lib/family.js';
import { processesWith } from '../test/support/daemon.js';
import { onInterrupt } from './lib/proc.js';
import { Fault, type FaultRecord, type Figure } from './lib/report.js';

export const FAMILIES: FaultFamily[] = [kill9, network, disk, components, hostile];

export interface FamilyResult {
  name: string;
  title: string;
  /** The family stopped on an error outside any injection (set-up, clean-up). */
  error?: string;
  records: FaultRecord[];
  figures: Figure[];
  seconds: number;
}

export async function runFamily(
  family: FaultFamily,
  opts: { quick: boolean; reps?: number; log?: (line: string) => void },
): Promise<FamilyResult> {
  const faults: Fault[] = [];
  const figures: Figure[] = [];
  const dir = mkdtempSync(join(tmpdir(), `tendril-faults-${family.name}-`));
  chmodSync(dir, 0o755);
  const t0 = Date.now();
  let error: string | undefined;
  const removeDir = () => {
    // after an interruption: component processes a nucleus could not stop in time go too
    for (const pid of processesWith(dir))
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    if (!process.env.KEEP_FAULT_DIRS) rmSync(dir, { recursive: true, force: true });
  };
  onInterrupt.add(removeDir);
  try {
    await family.run({
      quick: opts.quick,
      reps: (full, quick) => opts.reps ?? (opts.quick ? quick : full),
      dir,
      id: randomBytes(3).toString('hex'),
      log: opts.log ?? (() => {}),
      fault: (name, expect) => {
        const f = new Fault(family.name, name, expect);
        faults.push(f);
        return f;
      },
      figure: (f) => figures.push({ family: family.name, ...f }),
    });
  } catch (e) {
    error = (e as Error).stack ?? String(e);
  } finally {
    onInterrupt.delete(removeDir);
    removeDir();
  }
  return {
    name: family.name,
    title: family.title,
    error,
    records: faults.map((f) => f.record),
    figures,
    seconds: (Date.now() - t0) / 1000,
  };
}
