/**
 * keyward: OPAQUE password login (RFC 9807) and, as it grows, the other
 * building blocks of DESIGN.md, on a Rust core.
 */
export * from './opaque/index';
export * from './errors';
export { constantTimeEqual, decodeBase64Url, encodeBase64Url, type TextOrBytes } from './bytes';
export * from './seal/index';
export * from './pop/index';
export * from './auth/index';
export * from './session/index';
