/** Types of services.mjs, for the TypeScript that imports it (bench/server.ts). */
export declare function startServices(): Promise<{
  env: { KEYWARD_TEST_PG: string; KEYWARD_TEST_REDIS: string; KEYWARD_TEST_NGINX: string };
  stop: () => Promise<unknown>;
}>;
