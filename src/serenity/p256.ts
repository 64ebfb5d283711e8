/** Drop-in for `@serenity-kit/opaque-p256` (P-256-SHA256). */
import { binding } from '../native';
import { serenityApi } from './api';

const api = serenityApi(binding.Suite.P256Sha256);
export const ready: Promise<void> = api.ready;
export const client = api.client;
export const server = api.server;
export type * from './api';
