/** Drop-in for `@serenity-kit/opaque` (ristretto255-SHA512). */
import { serenityApi } from './api';

const api = serenityApi('ristretto255_sha512');
export const ready: Promise<void> = api.ready;
export const client = api.client;
export const server = api.server;
export type * from './api';
