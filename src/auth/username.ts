/**
 * What a username may be. The limit is in UTF-8 bytes, not characters: the
 * name travels inside the sealed session token, and the token must stay a
 * bearer the PoP layer accepts (`PopKey` takes at most 512 characters; the
 * verifier reads at most 4096). A session token is a sealed box of
 * 65 + n bytes (src/auth/session.ts) plus 49 of sealing, in base64url:
 * ceil((114 + n) × 4 / 3) characters, 492 for the longest name (255 bytes).
 * 255 bytes is 255 ASCII, 127 Cyrillic or 85 CJK characters.
 */
import { AuthError } from '../errors';

/** The longest username, in UTF-8 bytes. */
export const USERNAME_MAX_BYTES = 255;

// C0 controls and DEL; a lone surrogate (`\p{Cs}` under /u) has no UTF-8 form.
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it refuses
const refused = /[\u0000-\u001f\u007f]|\p{Cs}/u;

/** The username, or a 400 `AuthError` naming the rule it breaks (never echoing it). */
export function usernameArg(value: unknown): string {
  if (typeof value !== 'string' || value.length === 0 || refused.test(value) || Buffer.byteLength(value, 'utf8') > USERNAME_MAX_BYTES) {
    throw new AuthError(`username must be 1–${USERNAME_MAX_BYTES} bytes of UTF-8 without control characters`, 'ERR_AUTH_BAD_REQUEST');
  }
  return value;
}
