/**
 * `keyward/relay`: the relay server, its stores and the low-level client
 * connection (docs/relay.md).
 */
export {
  type RelayAnswer,
  RelayConnection,
  type RelayConnectionEvents,
  type RelayConnectOptions,
  type RelayDelivery,
  type RelayEndpoint,
  type RelayLimits,
  type RelayRequest,
} from './connection';
export { RelayKey } from './key';
export { PgRelayStore } from './pg-store';
export { LocalPresence, type PresenceHolder, type RelayPresence } from './presence';
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
