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
export { NoiseHandshake, x25519, type NoiseHandshakeOptions } from './noise';
