// The message bus's public surface, for the node (construction) and the API layer (calls and JSON).
export {
  MessageBus,
  parseDestination,
  parseMessageId,
  DEFAULT_DEADLINE_MS,
  DEFAULT_MESSAGE_BUS_LIMITS,
  MAX_WAIT_MS,
  type MessageBusCounters,
  type MessageBusLimits,
  type MessageBusStats,
  type MessageBusOptions,
  type MessageOverlay,
  type PushRequest,
} from './bus.ts';
export type { PopOptions } from './inbox.ts';
export { loadTopicFile, parseTopicFile, TopicFileError, type TopicFileConfig } from './topic-file.ts';
export {
  base64,
  fromBase64,
  inboundMessageJson,
  type BusError,
  type BusErrorCode,
  type BusResult,
  type Destination,
  type InboundMessageJson,
  type MessageInfo,
  type PushOutcome,
  type ReceivedMessage,
  type TransmissionState,
} from './types.ts';
