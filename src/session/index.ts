export { IdentityKey } from './identity';
export { PreKeySet, type PreKeySetOptions } from './prekeys';
export {
  Session,
  secureWipe,
  type AcceptOptions,
  type ExpectedPeer,
  type FromBundleOptions,
  type HandshakeOptions,
  type RespondOptions,
  type Responded,
} from './session';
export {
  DEFAULT_HANDSHAKE_REPLAY_WINDOW_MS,
  DEFAULT_REPLAY_GUARD_MAX_ENTRIES,
  MemoryReplayGuard,
  defaultReplayGuard,
  type MemoryReplayGuardOptions,
  type ReplayGuard,
} from './replay';
export { NoiseHandshake, x25519, type NoiseHandshakeOptions } from './noise';
