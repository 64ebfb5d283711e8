/**
 * `Vault`: an encrypted key-value store in a directory. Changes are staged
 * in memory until `save()`, which commits them atomically; `rollback()`
 * forgets them. Values are bytes or JSON. Namespaces nest, each with its own
 * derived key. Format and guarantees: docs/sealed-data.md.
 */
import { type TextOrBytes, textOrBytes } from '../bytes';
import { InvalidArgumentError } from '../errors';
import { binding, call, callAsync } from '../native';
import { keyArg, type SecretKey } from './key';
import { type Clock, nowOf } from './options';

type Store = InstanceType<typeof binding.VaultStore>;
/** What a vault holds: a Uint8Array (stored as bytes, returned as a Uint8Array) or a JSON value (returned as `JSON.parse` gives it). */
export type VaultValue = Uint8Array | string | number | boolean | null | VaultValue[] | { [key: string]: VaultValue };

const { Bytes: BYTES, Json: JSON_TEXT } = binding.VaultKind;
const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

/** Options of `Vault.open` and `Vault.openSync`. */
export interface VaultOptions {
  /** Injectable clock (ms since the epoch) for the sealed records' timestamps; the system clock by default. */
  clock?: Clock;
}

function pathArg(path: unknown): string {
  if (typeof path !== 'string' || path.length === 0) throw new InvalidArgumentError('path must be a directory path');
  return path;
}

const unrepresentable = new Set(['bigint', 'function', 'symbol']);

/**
 * `value` as JSON text, or `InvalidArgumentError`. JSON.stringify would throw a
 * plain TypeError for a bigint or a cycle and silently drop a nested function
 * or symbol; a vault stores what it was given or nothing.
 */
function jsonText(value: unknown): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(value, (_key, v: unknown) => {
      if (unrepresentable.has(typeof v)) throw new InvalidArgumentError(`value holds a ${typeof v}, which JSON cannot represent`);
      return v;
    });
  } catch (error) {
    if (error instanceof TypeError) throw new InvalidArgumentError('value must be a Uint8Array or representable as JSON (no cycles)');
    throw error;
  }
  if (text === undefined) throw new InvalidArgumentError('value must be a Uint8Array or representable as JSON');
  return text;
}

/**
 * An encrypted key-value store in a directory, opened with `Vault.open`. Reads include staged
 * changes; nothing reaches disk before `save()`. One writer at a time: there is no lock between
 * processes. Calls after `close()` or `destroy()`, or while a `save()` or `rekey()` is in flight,
 * throw `InvalidStateError`; after a `VaultPoisonedError` they throw that again.
 */
export class Vault {
  readonly #store: Store;
  readonly #path: Uint8Array[];
  readonly #options: VaultOptions | undefined;

  private constructor(store: Store, path: Uint8Array[], options: VaultOptions | undefined) {
    this.#store = store;
    this.#path = path;
    this.#options = options;
  }

  /**
   * Opens (or creates) the vault in directory `path`; a wrong key throws `DecryptionError`. A vault
   * of the first format opens and is migrated by its next save; one written by a newer keyward
   * throws `FormatError`. Only the vault's own files in `path` are ever touched.
   */
  static async open(path: string, key: SecretKey, options?: VaultOptions): Promise<Vault> {
    const p = pathArg(path);
    const k = keyArg(key);
    const store = await callAsync(() => binding.VaultStore.open(p, k, nowOf(options)));
    return new Vault(store, [], options);
  }

  /** `open()` on the calling thread. */
  static openSync(path: string, key: SecretKey, options?: VaultOptions): Vault {
    const p = pathArg(path);
    const k = keyArg(key);
    return new Vault(
      call(() => binding.VaultStore.openSync(p, k, nowOf(options))),
      [],
      options,
    );
  }

  /** A nested namespace sharing this vault's staging and saves, with its own derived key. */
  namespace(name: TextOrBytes): Vault {
    return new Vault(this.#store, [...this.#path, textOrBytes(name, 'name')], this.#options);
  }

  /**
   * The value of `tag` (staged changes included), or `undefined`. A record that is not the one the
   * manifest recorded (changed, or an older one put back) throws `VaultIntegrityError`.
   */
  get(tag: TextOrBytes): VaultValue | undefined {
    const t = textOrBytes(tag, 'tag');
    const value = call(() => this.#store.get(this.#path, t));
    if (value === null || value === undefined) return undefined;
    return value.kind === BYTES ? value.data : (JSON.parse(decoder.decode(value.data)) as VaultValue);
  }

  /**
   * Stages `value`: a Uint8Array is stored as bytes, anything else as JSON. A value JSON cannot
   * hold as given (a bigint, function or symbol anywhere in it, a cycle) throws
   * `InvalidArgumentError` and stages nothing.
   */
  set(tag: TextOrBytes, value: VaultValue): void {
    const t = textOrBytes(tag, 'tag');
    if (value instanceof Uint8Array) {
      call(() => this.#store.set(this.#path, t, BYTES, value));
      return;
    }
    const text = jsonText(value);
    call(() => this.#store.set(this.#path, t, JSON_TEXT, encoder.encode(text)));
  }

  /** Whether `tag` has a value in this namespace, staged changes included; reads no record. */
  has(tag: TextOrBytes): boolean {
    const t = textOrBytes(tag, 'tag');
    return call(() => this.#store.has(this.#path, t));
  }

  /** Stages a deletion; returns whether the tag existed. */
  delete(tag: TextOrBytes): boolean {
    const t = textOrBytes(tag, 'tag');
    return call(() => this.#store.delete(this.#path, t));
  }

  /** The tags in this namespace (not its children), staged changes included. */
  tags(): string[] {
    return call(() => this.#store.tags(this.#path)).map((t) => decoder.decode(t));
  }

  /** Whether any namespace of this vault has staged changes that `save()` would commit. */
  get hasChanges(): boolean {
    return call(() => this.#store.hasChanges());
  }

  /**
   * Commits every staged change (all namespaces) durably and atomically. On `VaultIoError` nothing
   * changed, on disk or here, and the changes stay staged (save again). On `VaultPoisonedError`
   * the new state is in place but this object is closed: open the directory again.
   */
  save(): Promise<void> {
    return callAsync(() => this.#store.commit(undefined, nowOf(this.#options)));
  }

  /** `save()` on the calling thread. */
  saveSync(): void {
    call(() => this.#store.commitSync(undefined, nowOf(this.#options)));
  }

  /** Forgets every staged change (all namespaces). */
  rollback(): void {
    call(() => this.#store.rollback());
  }

  /**
   * Re-encrypts everything (staged changes included) under `key`; the old key opens nothing after.
   * On `VaultIoError` nothing changed and the old key still opens the vault; on
   * `VaultPoisonedError` the new key does (this object is closed: open the directory again).
   */
  rekey(key: SecretKey): Promise<void> {
    const k = keyArg(key);
    return callAsync(() => this.#store.commit(k, nowOf(this.#options)));
  }

  /** `rekey()` on the calling thread. */
  rekeySync(key: SecretKey): void {
    const k = keyArg(key);
    call(() => this.#store.commitSync(k, nowOf(this.#options)));
  }

  /**
   * Deletes the vault's own files, and the directory if nothing else is in it; the object is
   * unusable afterwards. Files the vault did not create stay.
   */
  destroy(): void {
    call(() => this.#store.destroy());
  }

  /** Wipes the keys and staged values from memory; unsaved changes are lost. */
  close(): void {
    call(() => this.#store.close());
  }
}
