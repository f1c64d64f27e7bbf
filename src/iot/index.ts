// Public face of src/iot (shared/DESIGN.md: other folders import only this file).
export { IotConnection, backoffDelayMs, topicMatches } from './connection.js';
export type { IotConnectionOptions, MessageHandler, PublishOptions } from './connection.js';
export { MessageSpool, SpoolFullError, DEFAULT_SPOOL_BYTES } from './spool.js';
export type { SpoolOptions } from './spool.js';
export { DataPlaneClient, DataPlaneError } from './data-plane.js';
export type { DataPlaneOptions, ResolvedCandidate } from './data-plane.js';
export { downloadArtifact, ArtifactDownloadError } from './artifact-download.js';
export type { ArtifactDownload } from './artifact-download.js';
export { CloudComponentSource } from './cloud-source.js';
export type { CloudSourceOptions } from './cloud-source.js';
export { IotJobsListener, jobsTopics } from './jobs.js';
export type { IotJobsOptions } from './jobs.js';
export { FleetStatusService, FLEET_STATUS_SEQUENCE_PATH } from './fleet-status.js';
export type { ComponentStatusInfo, FleetStatusOptions, FleetStatusTrigger } from './fleet-status.js';
export { ShadowDeploymentListener, DEPLOYMENT_SHADOW_NAME } from './shadow.js';
export type { ShadowDeploymentOptions } from './shadow.js';
export { NetworkProxy, NetworkProxyError, httpGet } from './proxy.js';
export type { NetworkProxySettings } from './proxy.js';
export {
  TesCredentials,
  CredentialsError,
  DEFAULT_CREDENTIAL_RETRY,
  EXPIRY_MARGIN_MS,
} from './tes-credentials.js';
export type {
  AwsCredentials,
  CredentialProviderSettings,
  CredentialReply,
  CredentialRetrySeconds,
} from './tes-credentials.js';
export { TesServer, TES_PATH, TES_SERVICE } from './tes-server.js';
export type { TesServerOptions } from './tes-server.js';
export { S3ArtifactFetcher, parseS3Uri } from './s3-artifact.js';
export type { S3FetcherOptions } from './s3-artifact.js';
