/** drpc for TypeScript: the isomorphic core. Node-only parts live under `adapters/node`. */
export { Code, codeText, DrpcError, isConnError, isOK, OK_STATUS, type Status } from './status.ts';
export { createMessage, MType, mtypeName, nextSeq, formatSeq, parseSeq, type Message } from './message.ts';
export type { Meta } from './wire-text.ts';
export {
  codecs,
  createCodecs,
  CodecId,
  jsonCodec,
  plainCodec,
  protobufCodec,
  bytesCodec,
  ACCEPT_BODY_CODEC,
  REAL_IP,
  type Codec,
  type CodecRegistry,
} from './codec/codec.ts';
export { filters, createFilters } from './filter/index.ts';
export { gzip, gzipFilter, type GzipOptions } from './filter/gzip.ts';
export { md5Filter } from './filter/md5.ts';
export { FilterRegistry, type Filter, type FilterLimits, type FilterPipes } from './filter/filter.ts';
export { Registry, type Identified } from './registry.ts';
export { DEFAULT_MAX_FRAME, type Proto, type ProtoOptions, type ProtoFactory, type Frame } from './proto/proto.ts';
export { rawProto, erpcRawProto } from './proto/raw.ts';
export { jsonProto, type JsonProtoOptions } from './proto/json.ts';
export { RawFramer } from './proto/framer.ts';
export {
  Session,
  type SessionOptions,
  type SessionState,
  type SessionEvents,
  type CallOptions,
  type PushOptions,
  type Reply,
} from './session.ts';
export { Router, type CallHandler, type PushHandler, type CallContext, type PushContext } from './router.ts';
export type { Plugin, HookContext } from './hooks.ts';
export { servePushes, type Serve } from './inbound.ts';
export { serveCalls } from './serve.ts';
export { systemClock, ManualClock, type Clock, type TimerHandle } from './clock.ts';
export type { Transport, TransportHandlers } from './transport/transport.ts';
export { memoryPair, type MemoryTransport } from './transport/memory.ts';
export { inspect, type Tap, type TapEntry, type TapStats } from './inspect.ts';
export { connect, Client, type ConnectOptions, type ClientState, type ClientEvents, type StateInfo } from './client.ts';
export {
  contract,
  validate,
  type Contract,
  type CallSpec,
  type Schema,
  type StandardSchemaV1,
  type Untyped,
  type AnyContract,
  type ContractCheck,
  type ContractSection,
} from './contract.ts';
export { backoffDelay, type BackoffOptions } from './backoff.ts';
export { HEARTBEAT_METHOD, HEARTBEAT_META } from './heartbeat.ts';
export { authenticate, acceptAuth, type AuthChecker } from './auth.ts';
export { autoProto, type AutoProtoOptions } from './proto/auto.ts';
export {
  openWebSocket,
  WebSocketTransport,
  type WebSocketConstructor,
  type WebSocketLike,
  type WebSocketTransportOptions,
} from './transport/websocket.ts';
export { broadcast, type BroadcastResult } from './broadcast.ts';
export { Topic, TOPIC_META, type TopicOptions, type Gap, type SubscribeReply } from './topics.ts';
export { TopicHub } from './topic-hub.ts';
export { TopicFamily, type TopicFamilyOptions } from './topic-family.ts';
export { Subscriptions, type SubscribeOptions, type Subscription, type TopicHandler, type TopicMessageInfo } from './subscriptions.ts';
