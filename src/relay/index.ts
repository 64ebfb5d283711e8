/**
 * `keyward/relay`: the relay server, its stores and the low-level client
 * connection (docs/relay.md).
 */
export { type RelayConnectOptions, RelayConnection, type RelayConnectionEvents, type RelayDelivery, type RelayEndpoint, type RelayLimits, type RelayRequest, type RelayAnswer } from './connection';
export { RelayKey } from './key';
export { LocalPresence, type PresenceHolder, type RelayPresence } from './presence';
export { createRelayServer, type RelayAddresses, type RelayKeyLike, type RelayListenOptions, type RelayServer, type RelayServerOptions } from './server';
export { PgRelayStore } from './pg-store';
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
