/** The only module that touches the napi binding; every call goes through here. */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type * as Binding from '../native/binding';
import { fromNative } from './errors';

/** The loader sits at the package root: one level up from src/, two from dist/cjs/. */
function load(): typeof Binding {
  const candidates = ['../native/binding.js', '../../native/binding.js'].map((p) => join(__dirname, p));
  const found = candidates.find((p) => existsSync(p));
  if (found === undefined) throw new Error(`keyward: native/binding.js not found near ${__dirname}`);
  return require(found);
}

export const binding = load();

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
