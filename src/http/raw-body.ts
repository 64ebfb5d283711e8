/**
 * The raw-body rule every adapter follows: a signed request's MAC covers
 * the body's exact bytes, so the verifier gets those bytes, or `undefined`
 * only when the request has no body. A body the adapter could not keep
 * (another parser read it first) is refused, never checked as empty: a
 * signature made without a body must not cover one added on the way.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { PopError } from '../errors';

/** True when the headers announce a body: a non-zero `content-length`, or any `transfer-encoding`. */
export function headersShowBody(headers: IncomingHttpHeaders): boolean {
  if (headers['transfer-encoding'] !== undefined) return true;
  const length = headers['content-length'];
  return length !== undefined && !/^\s*0+\s*$/.test(length);
}

/** The refusal for a body whose bytes the adapter could not see. */
export function unreadBody(): PopError {
  return new PopError(
    'the body of this signed request cannot be checked: the server did not keep its raw bytes (see keyward/fastify or keyward/express on parsers)',
    'ERR_POP_BAD_MAC',
  );
}
