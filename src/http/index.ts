/** @internal What the HTTP adapters share: the auth route table, the error mapping and the raw-body rule. */
export { AUTH_BODY_LIMIT, authRoutes, bodySchema, validateBody, type AuthRoute, type FieldSpec, type RouteContext } from './routes';
export { httpFailure, DEFAULT_RETRY_AFTER_S, type HttpFailure } from './errors';
export { headersShowBody, unreadBody } from './raw-body';
