// Public face of src/lifecycle (shared/DESIGN.md: other folders import only this file).
export * from './types.js';
export * from './state-machine.js';
export * from './state-machine-record.js';
export * from './policy.js';
export * from './dependency.js';
export * from './steps.js';
export * from './steps-skipif.js';
export * from './config-change.js';
export { systemClock, systemTimers, type Clock, type Timers } from './supervisor-steps.js';
export * from './supervisor.js';
export { runBootstrapStep } from './supervisor-bootstrap.js';
export type { BootstrapStepOptions, BootstrapStepOutcome } from './supervisor-bootstrap.js';
export * from './manager.js';
// System adapters: processes, cgroups, users, component logs.
export * from './process/index.js';
export * from './cgroups/index.js';
export * from './users.js';
export * from './component-log.js';
