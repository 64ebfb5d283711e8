/**
 * The only module that touches the napi binding; every call goes through here.
 * src/ and the build (dist/) sit at the same depth below the package root, so
 * one relative path finds native/ from both (tsconfig.build.json).
 */
import type * as Binding from '../native/binding';
import { fromNative } from './errors';

export const binding: typeof Binding = require('../native/binding.js');

/** Runs a native call, turning its error into the typed class. */
export function call<T>(fn: () => T): T {
  try {
    return fn();
  } catch (error) {
    throw fromNative(error);
  }
}

/** The same for calls that return a Promise (work on the libuv pool). */
export async function callAsync<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    throw fromNative(error);
  }
}
