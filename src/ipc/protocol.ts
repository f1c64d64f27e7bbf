// eventstream-RPC constants (spec ipc.md section 2: IPC-07, IPC-08, IPC-10).

export const MessageType = {
  ApplicationMessage: 0,
  ApplicationError: 1,
  Ping: 2,
  PingResponse: 3,
  Connect: 4,
  ConnectAck: 5,
  ProtocolError: 6,
  InternalError: 7,
} as const;
export type MessageTypeValue = (typeof MessageType)[keyof typeof MessageType];

export const MessageFlags = { ConnectionAccepted: 1, TerminateStream: 2 } as const;

export const Header = {
  messageType: ':message-type',
  messageFlags: ':message-flags',
  streamId: ':stream-id',
  operation: 'operation',
  contentType: ':content-type',
  serviceModelType: 'service-model-type',
  version: ':version',
} as const;

export const PROTOCOL_VERSION = '0.1.0';
export const JSON_CONTENT_TYPE = 'application/json';
export const SERVICE_NAMESPACE = 'aws.greengrass';
export const SERVICE_ID = 'aws.greengrass#GreengrassCoreIPC';

/** Largest frame AES (hence every official client) accepts [IPC-04]. */
export const AES_MAX_MESSAGE_SIZE = 24 * 1024 * 1024;
/** Prelude (12) + message CRC (4) [IPC-03]. */
export const FRAME_OVERHEAD = 16;
export const PRELUDE_LENGTH = 12;
export const MAX_STREAM_ID = 0x7fffffff;
