// Public face of src/iot (shared/DESIGN.md: other folders import only this file).
export { IotConnection, backoffDelayMs, topicMatches } from './connection.js';
export type { IotConnectionOptions, MessageHandler, PublishOptions } from './connection.js';
export { MessageSpool, SpoolFullError, DEFAULT_SPOOL_BYTES } from './spool.js';
export type { SpoolOptions } from './spool.js';
