// Public face of src/config (shared/DESIGN.md: other folders import only this file).
export {
  ConfigValueError,
  isPlainObject,
  jsonEqual,
  parseJsonLossless,
  stringifyJson,
  type JsonObject,
  type JsonValue,
  type LeafValue,
} from './json.js';
export {
  ConfigNode,
  Topic,
  Topics,
  type ChangeKind,
  type Validator,
  type Watcher,
  type WhatHappened,
  type WriteOptions,
} from './node.js';
export {
  Configuration,
  DEFAULT_TIMESTAMP,
  type ChangeListener,
  type Clock,
  type ConfigurationOptions,
  type SetOptions,
} from './configuration.js';
export {
  childBehaviour,
  deploymentMergeTree,
  rollbackMergeTree,
  type DeploymentMergeTreeOptions,
  type UpdateBehaviour,
  type UpdateBehaviourTree,
  type UpdateMapOptions,
} from './behaviour.js';
export {
  parseJsonPointer,
  resolveComponentConfiguration,
  type ComponentConfigurationUpdate,
  type RejectedReset,
  type ResolveComponentConfigurationInput,
  type ResolvedComponentConfiguration,
} from './component-config.js';
export {
  TlogError,
  applyTlog,
  applyTlogLine,
  decodeTlogLine,
  dumpTlog,
  encodeTlogLine,
  parseTlog,
  readTlogFile,
  type ParsedTlog,
  type TlogLine,
} from './tlog.js';
export {
  DEFAULT_MAX_TLOG_ENTRIES,
  TlogWriter,
  type TlogWriterOptions,
  type TlogWriterStats,
} from './tlog-writer.js';
export { commitFile } from './files.js';
export {
  InitConfigError,
  parseInitConfig,
  readConfigFile,
  validateInitConfig,
  type ConfigFileContent,
} from './init-config.js';
export { ConfigStore, effectiveConfigYaml, type ConfigSource, type OpenConfigStoreOptions } from './store.js';
