/**
 * keyward: OPAQUE password login (RFC 9807), proof-of-possession API
 * sessions, end-to-end encrypted sessions and sealed data, on a Rust core
 * (docs/opaque.md, docs/pop.md, docs/sessions.md, docs/sealed-data.md).
 */

export * from './auth/index';
export { constantTimeEqual, decodeBase64Url, encodeBase64Url, type TextOrBytes } from './bytes';
export * from './errors';
export * from './opaque/index';
export * from './pop/index';
export * from './seal/index';
export * from './session/index';
