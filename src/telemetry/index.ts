// Telemetry (issue 10): per-component CPU and memory over each process tree, system CPU, memory and
// file descriptors, components per lifecycle state; published on `$local/greengrass/telemetry`,
// written to <root>/telemetry/latest.json (owner only), aggregated and published to
// `$aws/things/<thing>/greengrass/health/json` [CL-80] on the CF-43 intervals.
export * from './types.js';
export * from './aggregate.js';
export * from './schedule.js';
export * from './settings.js';
export {
  TelemetryAgent,
  DEFAULT_TELEMETRY_SETTINGS,
  OUTBOX_LIMIT,
  type AgentTimers,
  type TelemetryAgentOptions,
} from './agent.js';
export {
  TelemetrySampler,
  cpuPercent,
  systemCpuPercent,
  type CgroupAccounting,
  type ComponentInfo,
  type SamplerOptions,
} from './sampler.js';
export {
  readLatestSample,
  readAgentState,
  LATEST_SAMPLE_FILE,
  AGENT_STATE_FILE,
  type AgentState,
} from './state-file.js';
export {
  parseProcStat,
  parseCpuLine,
  parseMeminfo,
  processTree,
  readProcessTable,
  type ProcEntry,
} from './proc.js';
