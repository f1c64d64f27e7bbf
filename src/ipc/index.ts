// Public face of src/ipc (shared/DESIGN.md: other folders import only this file).
export { IpcServer, type IpcServerOptions, type IpcServerStats } from './server.js';
export {
  DEFAULT_LIMITS,
  type Authenticate,
  type Authorize,
  type AuthorizationCheck,
  type IpcLimits,
  type IpcLogger,
  type LogLevel,
} from './types.js';
export {
  OperationRegistry,
  type CallContext,
  type JsonObject,
  type RequestHandler,
  type ServerStream,
  type StreamHandler,
} from './operations.js';
export {
  IpcError,
  invalidArgumentsError,
  resourceNotFoundError,
  serviceError,
  unauthorizedError,
  type ErrorShapeName,
} from './errors.js';
export {
  OPERATIONS,
  operationId,
  type OperationModel,
  PUBSUB_SERVICE,
  MQTTPROXY_SERVICE,
  LIFECYCLE_SERVICE,
  COMPONENT_METRIC_SERVICE,
  CLI_SERVICE,
  SHADOW_SERVICE,
  SECRET_SERVICE,
  CLIENT_DEVICES_SERVICE,
} from './model.js';
export {
  buildPolicyIndex,
  isAuthorized,
  policyAuthorizer,
  resourceMatches,
  type PolicyIndex,
} from './authorization.js';
export { AuthTokenRegistry, generateAuthToken } from './tokens.js';
export { planSocketPath, SUN_PATH_LIMIT, type SocketPathPlan } from './socket-path.js';
export {
  PubSubBroker,
  PUBLISH_TO_TOPIC,
  SUBSCRIBE_TO_TOPIC,
  type PubSubMessage,
  type ReceiveMode,
} from './services/pubsub.js';
export { filterMatches, topicLevels } from './services/topic-trie.js';
export {
  LifecycleService,
  lifecycleControl,
  UPDATE_STATE,
  PAUSE_COMPONENT,
  RESUME_COMPONENT,
  type ComponentControl,
  type ReportableState,
  type SupervisorLookup,
} from './services/lifecycle.js';
export {
  ComponentUpdateNotifier,
  SUBSCRIBE_TO_COMPONENT_UPDATES,
  DEFER_COMPONENT_UPDATE,
  type ComponentUpdateNotifierOptions,
  type PreUpdateResult,
  type UpdateDeferral,
  type UpdateTimers,
} from './services/lifecycle-updates.js';
export {
  ConfigurationService,
  GET_CONFIGURATION,
  UPDATE_CONFIGURATION,
  SUBSCRIBE_TO_CONFIGURATION_UPDATE,
  type ConfigurationServiceOptions,
} from './services/configuration.js';
export {
  ConfigurationValidator,
  SUBSCRIBE_TO_VALIDATE_CONFIGURATION_UPDATES,
  SEND_CONFIGURATION_VALIDITY_REPORT,
  type ValidationResult,
  type ValidationStatus,
} from './services/configuration-validation.js';
export {
  configurationValue,
  parseUpdateConfiguration,
  staleKeys,
  type UpdateConfigurationRequest,
} from './services/configuration-requests.js';
export {
  registerUnavailableOperations,
  PUBLISH_TO_IOT_CORE,
  SUBSCRIBE_TO_IOT_CORE,
  PUT_COMPONENT_METRIC,
  VALIDATE_AUTHORIZATION_TOKEN,
  STREAM_MANAGER,
} from './services/unsupported.js';
export {
  CliService,
  CLI_PRINCIPAL,
  CREATE_LOCAL_DEPLOYMENT,
  CANCEL_LOCAL_DEPLOYMENT,
  GET_LOCAL_DEPLOYMENT_STATUS,
  LIST_LOCAL_DEPLOYMENTS,
  LIST_COMPONENTS,
  GET_COMPONENT_DETAILS,
  RESTART_COMPONENT,
  STOP_COMPONENT,
  CREATE_DEBUG_PASSWORD,
  type CancelResult,
  type CliBackend,
  type CliComponentDetails,
  type CliComponentState,
  type CliServiceOptions,
  type ComponentActionResult,
  type LocalDeploymentInfo,
  type LocalDeploymentStatus,
} from './services/cli.js';
export {
  parseCreateLocalDeployment,
  type FailureHandlingPolicy,
  type LocalDeploymentRequest,
  type RunWithInfo,
} from './services/cli-requests.js';
export {
  escapeResourceLiteral,
  interpolatePolicyResource,
  type PolicyVariables,
} from './authorization-interpolation.js';
export { ComponentMetricService, type ComponentMetricSink } from './services/component-metric.js';
export {
  checkMetricRequest,
  METRIC_UNITS,
  type ComponentMetric,
} from './services/component-metric-request.js';
export { MqttProxyService, MAX_IOT_CORE_MESSAGE_BYTES, type IotCoreLink } from './services/mqttproxy.js';
