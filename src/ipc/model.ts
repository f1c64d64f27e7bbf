// The Greengrass IPC operation model as far as the server needs it (ipc.md section 4, IPC-52..86;
// authorization service ids IPC-89): streaming or not, the declared error shapes, and the
// `accessControl` service id checked for the operation (undefined = no policy check).
import type { ErrorShapeName } from './errors.js';
import { SERVICE_NAMESPACE } from './protocol.js';

export interface OperationModel {
  name: string;
  streaming: boolean;
  errors: readonly ErrorShapeName[];
  authService?: string;
}

const S: ErrorShapeName = 'ServiceError';
const U: ErrorShapeName = 'UnauthorizedError';
const RNF: ErrorShapeName = 'ResourceNotFoundError';
const IA: ErrorShapeName = 'InvalidArgumentsError';

export const PUBSUB_SERVICE = 'aws.greengrass.ipc.pubsub';
export const MQTTPROXY_SERVICE = 'aws.greengrass.ipc.mqttproxy';
export const LIFECYCLE_SERVICE = 'aws.greengrass.ipc.lifecycle';
export const COMPONENT_METRIC_SERVICE = 'aws.greengrass.ipc.componentmetric';
export const CLI_SERVICE = 'aws.greengrass.Cli';
export const SHADOW_SERVICE = 'aws.greengrass.ShadowManager';
export const SECRET_SERVICE = 'aws.greengrass.SecretManager';
export const CLIENT_DEVICES_SERVICE = 'aws.greengrass.clientdevices.Auth';

const table: [string, boolean, ErrorShapeName[], string?][] = [
  ['PublishToTopic', false, [S, U], PUBSUB_SERVICE],
  ['SubscribeToTopic', true, [IA, S, U], PUBSUB_SERVICE],
  ['PublishToIoTCore', false, [S, U], MQTTPROXY_SERVICE],
  ['SubscribeToIoTCore', true, [S, U], MQTTPROXY_SERVICE],
  ['UpdateState', false, [S, RNF]],
  ['SubscribeToComponentUpdates', true, [S, RNF]],
  ['DeferComponentUpdate', false, [S, RNF, IA]],
  ['PauseComponent', false, [U, S, RNF], LIFECYCLE_SERVICE],
  ['ResumeComponent', false, [U, S, RNF], LIFECYCLE_SERVICE],
  ['GetConfiguration', false, [S, RNF]],
  ['UpdateConfiguration', false, [S, U, 'ConflictError', 'FailedUpdateConditionCheckError', IA]],
  ['SubscribeToConfigurationUpdate', true, [S, RNF]],
  ['SubscribeToValidateConfigurationUpdates', true, [S]],
  ['SendConfigurationValidityReport', false, [IA, S]],
  ['PutComponentMetric', false, [U, S, IA], COMPONENT_METRIC_SERVICE],
  ['ValidateAuthorizationToken', false, ['InvalidTokenError', U, S]],
  [
    'CreateLocalDeployment',
    false,
    [S, 'InvalidRecipeDirectoryPathError', 'InvalidArtifactsDirectoryPathError', IA],
    CLI_SERVICE,
  ],
  ['CancelLocalDeployment', false, [S, RNF, IA], CLI_SERVICE],
  ['GetLocalDeploymentStatus', false, [S, RNF], CLI_SERVICE],
  ['ListLocalDeployments', false, [S], CLI_SERVICE],
  ['ListComponents', false, [S], CLI_SERVICE],
  ['GetComponentDetails', false, [S, RNF, IA], CLI_SERVICE],
  ['RestartComponent', false, [S, 'ComponentNotFoundError', IA], CLI_SERVICE],
  ['StopComponent', false, [S, 'ComponentNotFoundError', IA], CLI_SERVICE],
  ['CreateDebugPassword', false, [U, S], CLI_SERVICE],
  ['GetThingShadow', false, [IA, RNF, S, U], SHADOW_SERVICE],
  ['UpdateThingShadow', false, [IA, 'ConflictError', S, U], SHADOW_SERVICE],
  ['DeleteThingShadow', false, [IA, RNF, S, U], SHADOW_SERVICE],
  ['ListNamedShadowsForThing', false, [IA, RNF, S, U], SHADOW_SERVICE],
  ['GetSecretValue', false, [U, RNF, S], SECRET_SERVICE],
  ['SubscribeToCertificateUpdates', true, [S, U, IA], CLIENT_DEVICES_SERVICE],
  ['VerifyClientDeviceIdentity', false, [U, S, IA], CLIENT_DEVICES_SERVICE],
  ['GetClientDeviceAuthToken', false, [U, S, IA, 'InvalidCredentialError'], CLIENT_DEVICES_SERVICE],
  [
    'AuthorizeClientDeviceAction',
    false,
    [U, S, IA, 'InvalidClientDeviceAuthTokenError'],
    CLIENT_DEVICES_SERVICE,
  ],
  ['SubscribeToIoTCoreConnectionStatus', true, [S]],
];

export const OPERATIONS: ReadonlyMap<string, OperationModel> = new Map(
  table.map(([name, streaming, errors, authService]) => [
    `${SERVICE_NAMESPACE}#${name}`,
    { name: `${SERVICE_NAMESPACE}#${name}`, streaming, errors, authService },
  ]),
);

export const operationId = (shortName: string) => `${SERVICE_NAMESPACE}#${shortName}`;
export const responseShape = (operation: string) => `${operation}Response`;
/** Event shape of each streaming operation [IPC-53..86]. */
export const EVENT_SHAPES: ReadonlyMap<string, string> = new Map(
  [
    ['SubscribeToTopic', 'SubscriptionResponseMessage'],
    ['SubscribeToIoTCore', 'IoTCoreMessage'],
    ['SubscribeToComponentUpdates', 'ComponentUpdatePolicyEvents'],
    ['SubscribeToConfigurationUpdate', 'ConfigurationUpdateEvents'],
    ['SubscribeToValidateConfigurationUpdates', 'ValidateConfigurationUpdateEvents'],
    ['SubscribeToCertificateUpdates', 'CertificateUpdateEvent'],
    ['SubscribeToIoTCoreConnectionStatus', 'IoTCoreConnectionStatusEvent'],
  ].map(([op, ev]) => [`${SERVICE_NAMESPACE}#${op}`, `${SERVICE_NAMESPACE}#${ev}`]),
);
