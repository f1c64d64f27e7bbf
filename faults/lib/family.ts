// The shape of a fault family (one file per family under faults/) and what the runner hands it.
import type { Fault, Figure } from './report.js';

export interface FamilyContext {
  quick: boolean;
  /** Repetitions of each fault: `full` (or `quick` with --quick), unless --reps overrides both. */
  reps(full: number, quick: number): number;
  /** A fresh directory for this family (mode 755, so components running as nobody reach below it). */
  dir: string;
  /** A short random hex id, for names that must not collide with another run on the host. */
  id: string;
  log(line: string): void;
  /** Declares a fault; its injections are counted by `Fault.inject`. */
  fault(name: string, expect: string): Fault;
  figure(f: Omit<Figure, 'family'>): void;
}

export interface FaultFamily {
  name: string;
  title: string;
  run(ctx: FamilyContext): Promise<void>;
}

/** The recipe of a service whose install and run steps leave lines in its log. */
export function serviceRecipe(
  name: string,
  version: string,
  o: { broken?: boolean; installSeconds?: number; run?: string; extra?: Record<string, unknown> } = {},
): Record<string, unknown> {
  const install = `echo install-begin ${version}; sleep ${o.installSeconds ?? 0}; echo install-end ${version}`;
  const run = o.broken
    ? `echo run ${version}; exit 1`
    : (o.run ?? `echo run ${version} {configuration:/Message}; exec sleep 100000`);
  return {
    RecipeFormatVersion: '2020-01-25',
    ComponentName: name,
    ComponentVersion: version,
    ComponentConfiguration: { DefaultConfiguration: { Message: 'default' } },
    Manifests: [{ Platform: { os: 'linux' }, Lifecycle: { Install: install, Run: run } }],
    ...o.extra,
  };
}
