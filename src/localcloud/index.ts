// Public face of src/localcloud (shared/DESIGN.md: other folders import only this file).
export { createLocalCloud } from './localcloud.js';
export type { LocalCloud, LocalCloudOptions } from './localcloud.js';
export type { AccessKey } from './sigv4.js';
export { LocalCloudEvents } from './context.js';
export type { LocalCloudEventMap } from './context.js';
export { LocalCloudStore } from './store/index.js';
export type {
  ClientDeviceAssociation,
  ComponentPlatform,
  ComponentState,
  ComponentVersionRecord,
  ConnectivityEndpoint,
  ConnectivityRecord,
  CoreDeviceFilter,
  CoreDeviceRecord,
  CoreDeviceStatus,
  DeploymentFilter,
  DeploymentRecord,
  DeploymentSpec,
  DeploymentStatus,
  EffectiveDeploymentRecord,
  EffectiveDeploymentStatus,
  InstalledComponentRecord,
  LifecycleState,
  ReportedComponent,
  ServiceRoleRecord,
  ShadowRecord,
  JobRecord,
  JobExecutionRecord,
  JobExecutionStatus,
  ThingRecord,
} from './store/index.js';
export { ArtifactStore, artifactLocation } from './artifact-store.js';
export type { ArnContext } from './arn.js';
export { LocalCa } from './device/pki.js';
export type { IssuedCertificate, ServerIdentity } from './device/pki.js';
export { DEFAULT_DEVICE_POLICY, filterCovers } from './device/policy.js';
export { parseBrokerOption } from './device/broker-mosquitto.js';
export type { DevicePolicy } from './device/policy.js';
export { nucleusInitConfig, provisionDevice, ProvisionError } from './device/provision.js';
export type { DeviceEndpoints, ProvisionRequest, ProvisionResult } from './device/provision.js';
export { DEPLOYMENT_SHADOW } from './device/shadows.js';
export { fullDeploymentDocument, configurationArn } from './device/deployment-document.js';
export { componentArn, componentVersionArn, coreDeviceArn, deploymentArn, iotJobArn } from './arn.js';
