// Public typings of `keyward`: the declarations tsc emits for src/index.ts.
export * from './dist/cjs/index';
