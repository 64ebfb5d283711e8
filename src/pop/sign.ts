/** Signing a request: the client side of proof-of-possession. */
import { randomBytes } from 'node:crypto';
import type { TextOrBytes } from '../bytes';
import { InvalidArgumentError } from '../errors';
import { binding, call } from '../native';
import { bodyBytes, PopKey } from './key';

/** What `signRequest` signs. */
export interface RequestToSign {
  /** An HTTP method name (`GET`, `POST`, or 1–16 letters). */
  method: string;
  /**
   * The request target (`/path?query`) exactly as it will be sent, or a full
   * URL, of which path and query are signed as `URL` serializes them. The
   * query is not reordered: `?to=alice&to=mallory` is another request than
   * `?to=mallory&to=alice`.
   */
  url: string;
  /** The exact body bytes that will be sent (a string: its UTF-8 bytes); none by default. */
  body?: TextOrBytes | null;
  /** ms since the epoch; now by default. */
  timestamp?: number;
  /** 8–128 characters of visible ASCII; 16 random bytes, base64url, by default. Never reuse one. */
  nonce?: string;
}

// A type alias, not an interface, so that it is assignable to a plain header record.
/** The four headers to add to the signed request. */
export type PopHeaders = {
  authorization: string;
  'x-ts': string;
  'x-nonce': string;
  'x-pop': string;
};

/** `/path?query` of a target (as it is) or a URL (as `URL` serializes it, as `fetch` sends it). */
export function requestTarget(url: string): string {
  if (typeof url !== 'string' || url.length === 0) throw new InvalidArgumentError('url must be a non-empty string');
  if (url.startsWith('/')) return url;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new InvalidArgumentError('url must be a request target (/path?query) or an absolute URL');
  }
  return `${parsed.pathname}${parsed.search}`;
}

const methodPattern = /^[A-Za-z]{1,16}$/;
// The usual ones skip the pattern: the verifier checks a method per request.
const commonMethods = new Set(['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS']);

export function methodArg(method: unknown): string {
  if (typeof method !== 'string' || !(commonMethods.has(method) || methodPattern.test(method))) {
    throw new InvalidArgumentError('method must be an HTTP method name');
  }
  return method;
}

/**
 * The four headers that prove possession of `popKey` for this exact request:
 * send the same method, target (as given, or as `URL` serializes a full URL,
 * which is what `fetch` sends) and body bytes. The nonce and timestamp follow
 * the verifier's grammar, checked in Rust (crates/pop/src/headers.rs): a
 * nonce is 8–128 bytes of visible ASCII, a timestamp whole ms from 0 to
 * 2^53 − 1; anything else is an `InvalidArgumentError` here, not a request
 * the server would refuse.
 */
export function signRequest(popKey: PopKey, request: RequestToSign): PopHeaders {
  if (!(popKey instanceof PopKey)) throw new InvalidArgumentError('popKey must be a PopKey');
  if (typeof request !== 'object' || request === null) throw new InvalidArgumentError('request must be an object');
  const method = methodArg(request.method);
  const target = requestTarget(request.url);
  const timestamp = request.timestamp ?? Date.now();
  if (typeof timestamp !== 'number') throw new InvalidArgumentError('timestamp must be whole ms ≥ 0');
  const nonce = request.nonce ?? randomBytes(16).toString('base64url');
  if (typeof nonce !== 'string') throw new InvalidArgumentError('nonce must be a string');
  const body = bodyBytes(request.body);
  const mac = call(() => popKey.native.sign(method, target, timestamp, Buffer.from(nonce), body));
  return {
    authorization: `${binding.POP_BEARER_PREFIX}${popKey.bearer}`,
    'x-ts': String(timestamp),
    'x-nonce': nonce,
    'x-pop': Buffer.from(mac.buffer, mac.byteOffset, mac.byteLength).toString('base64url'),
  };
}

/** What `signRequestRfc9421` signs: `signRequest`'s request, and how it names the target. */
export interface RequestToSignRfc9421 extends Omit<RequestToSign, 'timestamp'> {
  /**
   * `'target-uri'` signs `@target-uri` (the URL's origin, path and query; `url` must then be a
   * full URL); `'path-query'` signs `@path` and `@query` only, for a server behind a proxy that
   * rewrites the scheme or host. `'target-uri'` for a full URL, `'path-query'` for a target, by default.
   */
  components?: 'target-uri' | 'path-query';
  /** ms since the epoch; now by default. Sent as `created`, in whole seconds. */
  timestamp?: number;
}

// A type alias, not an interface, so that it is assignable to a plain header record.
/** The headers of an RFC 9421 signed request (docs/pop.md, "RFC 9421 profile"). */
export type Rfc9421Headers = {
  authorization: string;
  'signature-input': string;
  signature: string;
  /** Only when the request has a body (which the signature then covers). */
  'content-digest'?: string;
};

/**
 * The headers that prove possession of `popKey` in keyward's RFC 9421 profile
 * (docs/pop.md): one `pop` signature, `hmac-sha256`, `keyid` the session id,
 * `created` and `nonce`, over `@method`, the target and, with a body,
 * `content-digest`. Signed in Rust (crates/pop/src/rfc9421.rs), which refuses
 * what the verifier would refuse: `InvalidArgumentError` for a bad nonce,
 * timestamp, or a method or URL that is not printable ASCII.
 */
export function signRequestRfc9421(popKey: PopKey, request: RequestToSignRfc9421): Rfc9421Headers {
  if (!(popKey instanceof PopKey)) throw new InvalidArgumentError('popKey must be a PopKey');
  if (typeof request !== 'object' || request === null) throw new InvalidArgumentError('request must be an object');
  const method = methodArg(request.method);
  const target = requestTarget(request.url);
  const absolute = !request.url.startsWith('/');
  const components = request.components ?? (absolute ? 'target-uri' : 'path-query');
  if (components !== 'target-uri' && components !== 'path-query') throw new InvalidArgumentError("components must be 'target-uri' or 'path-query'");
  if (components === 'target-uri' && !absolute) throw new InvalidArgumentError("components 'target-uri' needs a full URL");
  const origin = absolute ? new URL(request.url).origin : '';
  const timestamp = request.timestamp ?? Date.now();
  if (typeof timestamp !== 'number' || !Number.isSafeInteger(timestamp) || timestamp < 0) throw new InvalidArgumentError('timestamp must be whole ms ≥ 0');
  const nonce = request.nonce ?? randomBytes(16).toString('base64url');
  if (typeof nonce !== 'string') throw new InvalidArgumentError('nonce must be a string');
  const body = bodyBytes(request.body);
  const created = Math.floor(timestamp / 1000);
  const fields = call(() => popKey.native.signRfc9421(method, origin, target, body, popKey.sessionId, created, nonce, components === 'path-query'));
  const headers: Rfc9421Headers = {
    authorization: `${binding.POP_BEARER_PREFIX}${popKey.bearer}`,
    'signature-input': fields.signatureInput,
    signature: fields.signature,
  };
  if (fields.contentDigest !== undefined && fields.contentDigest !== null) headers['content-digest'] = fields.contentDigest;
  return headers;
}
