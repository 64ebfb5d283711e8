export { IdentityKey } from './identity';
export { NoiseHandshake, type NoiseHandshakeOptions, x25519 } from './noise';
export { PreKeySet, type PreKeySetOptions } from './prekeys';
export {
  DEFAULT_HANDSHAKE_REPLAY_WINDOW_MS,
  DEFAULT_REPLAY_GUARD_MAX_ENTRIES,
  defaultReplayGuard,
  MemoryReplayGuard,
  type MemoryReplayGuardOptions,
  type ReplayGuard,
} from './replay';
export {
  type AcceptOptions,
  type ExpectedPeer,
  type FromBundleOptions,
  type HandshakeOptions,
  type OneTimeKemPreKey,
  type Responded,
  type RespondOptions,
  Session,
  secureWipe,
} from './session';
