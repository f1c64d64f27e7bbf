// The nucleus's side of bootstrap steps [LC-35]: a deployment hands over the target definition of a
// component, and the step runs through the same launcher, work directory, environment and user
// resolution as the component's other steps (the lifecycle layer's runBootstrapStep).
import type { JsonObject } from '../config/index.js';
import type { BootstrapRunner } from '../deployment/index.js';
import {
  runBootstrapStep,
  type PosixIdentity,
  type ProcessLauncher,
  type ServiceDefinition,
} from '../lifecycle/index.js';

export interface BootstrapRunnerOptions {
  launcher: ProcessLauncher;
  shell: () => string;
  workDir: (component: string) => string;
  env: (component: string) => Record<string, string>;
  resolveRunAs: (
    component: string,
    runWith: Record<string, unknown> | undefined,
  ) => Promise<PosixIdentity | null>;
}

export function nucleusBootstrapRunner(o: BootstrapRunnerOptions): BootstrapRunner {
  return {
    run(component: string, service: JsonObject, signal?: AbortSignal) {
      const definition = service as ServiceDefinition;
      return runBootstrapStep({
        component,
        definition,
        launcher: o.launcher,
        workDir: o.workDir(component),
        env: o.env(component),
        shell: o.shell(),
        resolveRunAs: () => o.resolveRunAs(component, definition.runWith),
        signal,
      });
    },
  };
}
