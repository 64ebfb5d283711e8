/** Types of free-port.mjs, for the TypeScript that imports it (tests, demo). */
export declare function freePort(): Promise<number>;
