export { SecretKey, deriveKey } from './key';
export { seal, open, sealJson, openJson, makeToken, readToken } from './box';
export { mac, verifyMac } from './mac';
export {
  hashPassword,
  hashPasswordSync,
  verifyPassword,
  verifyPasswordSync,
  needsRehash,
  type HashPasswordOptions,
  type PasswordParams,
  type PasswordPreset,
  type VerifyPasswordOptions,
} from './password';
export {
  createSealStream,
  createOpenStream,
  createSealTransform,
  createOpenTransform,
  type StreamOptions,
} from './stream';
export { Vault, type VaultOptions, type VaultValue } from './vault';
export * as primitives from './primitives';
export type { Clock, OpenOptions, SealOptions } from './options';
