/** Drop-in for `@serenity-kit/opaque` (ristretto255-SHA512). */
import { binding } from '../native';
import { serenityApi } from './api';

const api = serenityApi(binding.Suite.Ristretto255Sha512);
export const ready: Promise<void> = api.ready;
export const client = api.client;
export const server = api.server;
export type * from './api';
