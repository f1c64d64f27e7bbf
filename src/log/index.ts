// The nucleus logging library: formats [LC-90, LC-92], rotating files [LC-93], runtime
// configuration [LC-94]. Imports no other folder of src/.

export {
  LOG_LEVELS,
  type LogLevel,
  type LogFormat,
  type LogRecord,
  levelRank,
  parseLogLevel,
  parseLogFormat,
  isoInstant,
  formatText,
  formatJson,
  formatRecord,
} from './format.js';
export {
  DEFAULT_FILE_SIZE_KB,
  DEFAULT_TOTAL_LOGS_SIZE_KB,
  type RotatingFileOptions,
  type RolledFile,
  RotatingFileWriter,
  hourKey,
} from './rotating-file.js';
export {
  type LogOutputType,
  type LogConfig,
  type LogOutput,
  type LogManagerOptions,
  type Contexts,
  LogManager,
  Logger,
  parseLogConfig,
  defaultLogConfig,
} from './logger.js';
