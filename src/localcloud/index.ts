// Public face of src/localcloud (shared/DESIGN.md: other folders import only this file).
export { createLocalCloud } from './localcloud.js';
export type { LocalCloud, LocalCloudOptions } from './localcloud.js';
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
} from './store/index.js';
export { ArtifactStore, artifactLocation } from './artifact-store.js';
export type { ArnContext } from './arn.js';
export { componentArn, componentVersionArn, coreDeviceArn, deploymentArn, iotJobArn } from './arn.js';
