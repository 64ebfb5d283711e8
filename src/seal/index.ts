export { makeToken, open, openJson, readToken, seal, sealJson } from './box';
export { deriveKey, SecretKey } from './key';
export { mac, verifyMac } from './mac';
export type { Clock, OpenOptions, SealOptions } from './options';
export {
  type HashPasswordOptions,
  hashPassword,
  hashPasswordSync,
  needsRehash,
  type PasswordParams,
  type PasswordPreset,
  type VerifyPasswordOptions,
  verifyPassword,
  verifyPasswordSync,
} from './password';
export * as primitives from './primitives';
export {
  createOpenStream,
  createOpenTransform,
  createSealStream,
  createSealTransform,
  type StreamOptions,
} from './stream';
export { Vault, type VaultOptions, type VaultValue } from './vault';
