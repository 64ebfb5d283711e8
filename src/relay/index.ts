/**
 * `keyward/relay`: the relay server, its stores, its presence across
 * instances (Redis), the low-level client connection and the `Messenger`
 * (docs/relay.md).
 */
export {
  type RelayAnswer,
  type RelayCertificates,
  RelayConnection,
  type RelayConnectionEvents,
  type RelayConnectOptions,
  type RelayDelivery,
  type RelayEndpoint,
  type RelayLimits,
  type RelayRequest,
} from './connection';
export { RelayKey } from './key';
export { Messenger, type MessengerEvents, type MessengerOptions, type ReceivedMessage } from './messenger';
export { PgRelayStore } from './pg-store';
export { LocalPresence, type PresenceHolder, type RelayPresence } from './presence';
export { type PresenceRedis, RedisPresence, type RedisPresenceOptions } from './redis-presence';
export { createRelayServer, type RelayAddresses, type RelayKeyLike, type RelayListenOptions, type RelayServer, type RelayServerOptions } from './server';
export { SqliteRelayStore } from './sqlite-store';
export {
  type ClaimedBundle,
  type Enqueued,
  type EnqueuedAll,
  type Mailbox,
  type OneTimePrekey,
  type PrekeyStatus,
  RelayError,
  type RelayStore,
  type RelayStoreLimits,
  type SignedPrekeySection,
  type StoredMessage,
} from './store';
export { RELAY_LIMITS, RELAY_STORE_DEFAULTS, type RelayBody, type RelayCode, type RelayFrame, type RelayPrekeyStatus, type RelayWireCode } from './wire';
