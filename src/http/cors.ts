/**
 * CORS for browser clients (`keyward/web`) on another origin: which origins
 * may call, the request headers a signed request sends, and the response
 * headers a refusal needs the page to see. One list for the Fastify plugin,
 * the Express middleware and `keyward serve --cors-origin`; the CORS itself is
 * `@fastify/cors` or `cors`, optional peer dependencies loaded on use.
 */

import { InvalidArgumentError, KeywardError } from '../errors';

/** What a browser's signed request sends. */
export const CORS_REQUEST_HEADERS = ['authorization', 'content-type', 'x-ts', 'x-nonce', 'x-pop'] as const;
/** What a refusal tells the page: when to retry, and why the signature was refused. */
export const CORS_EXPOSED_HEADERS = ['retry-after', 'www-authenticate'] as const;
/** How long a browser may cache a preflight answer, in seconds. */
export const CORS_MAX_AGE_S = 600;

const originPattern = /^https?:\/\/[^/\s?#]+$/;

/**
 * The origins as given (`https://app.example`, `http://localhost:5173`):
 * scheme, host and optional port, nothing else; anything else (a path, a
 * wildcard, a trailing slash) is an `InvalidArgumentError` naming the option.
 */
export function corsOriginsArg(value: unknown, name: string): string[] {
  if (!Array.isArray(value)) throw new InvalidArgumentError(`${name} must be an array of origins`);
  for (const origin of value) {
    if (typeof origin !== 'string' || !originPattern.test(origin)) {
      throw new InvalidArgumentError(`${name} takes origins such as https://app.example (scheme, host, optional port)`);
    }
  }
  return [...value];
}

/** The options both CORS packages take for keyward's signed requests. */
export function corsOptions(origins: readonly string[]) {
  return { origin: [...origins], allowedHeaders: [...CORS_REQUEST_HEADERS], exposedHeaders: [...CORS_EXPOSED_HEADERS], maxAge: CORS_MAX_AGE_S };
}

/** Raised when an optional peer dependency is not installed: code ERR_MISSING_PEER_DEPENDENCY, naming the package. */
export const missingPeer =
  (name: string, why: string) =>
  (error: unknown): never => {
    const e = error as { code?: string; message?: string };
    if ((e.code === 'ERR_MODULE_NOT_FOUND' || e.code === 'MODULE_NOT_FOUND') && e.message?.includes(name)) {
      throw new KeywardError(`${why} needs the ${name} package: npm install ${name}`, 'ERR_MISSING_PEER_DEPENDENCY');
    }
    throw error;
  };

/** Loads `@fastify/cors`, an optional peer dependency. */
export async function loadFastifyCors(): Promise<typeof import('@fastify/cors').default> {
  const { default: cors } = await import('@fastify/cors').catch(missingPeer('@fastify/cors', 'CORS (corsOrigins, --cors-origin)'));
  return cors;
}
