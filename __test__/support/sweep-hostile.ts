/**
 * The hostile arguments of the API sweep (issue 13): wrong types, odd
 * buffers, throwing proxies and getters, and numbers at the edges. Each is a
 * factory, because some (a detached buffer) must be fresh for every call.
 */

/** What a trap or getter of ours throws: the caller's own error, which may propagate as it is. */
export class HostileTrapError extends Error {
  constructor() {
    super('hostile trap');
    this.name = 'HostileTrapError';
  }
}

/** A string no message may echo when it was a secret argument. */
export const MARKER = 'hostile-s3cr3t-\u2603-\u0000-marker';

const trap = () => {
  throw new HostileTrapError();
};
const throwingHandler: ProxyHandler<object> = {
  get: trap,
  has: trap,
  ownKeys: trap,
  getPrototypeOf: trap,
  getOwnPropertyDescriptor: trap,
  set: trap,
  apply: trap,
  construct: trap,
};

let huge: Uint8Array | undefined;

function detached(): Uint8Array {
  const view = new Uint8Array(32).fill(7);
  structuredClone(view.buffer, { transfer: [view.buffer] });
  return view;
}

export interface Hostile {
  name: string;
  make: () => unknown;
}

/** Values for any argument position. */
export const hostileValues: Hostile[] = [
  { name: 'undefined', make: () => undefined },
  { name: 'null', make: () => null },
  { name: 'number 42', make: () => 42 },
  { name: 'marker string', make: () => MARKER },
  { name: 'empty string', make: () => '' },
  { name: 'plain object', make: () => ({}) },
  { name: 'array', make: () => [MARKER] },
  { name: 'function', make: () => () => MARKER },
  { name: 'symbol', make: () => Symbol(MARKER) },
  { name: 'bigint', make: () => 2n ** 64n },
  { name: 'boolean', make: () => true },
  { name: 'empty Uint8Array', make: () => new Uint8Array(0) },
  { name: 'detached Uint8Array', make: detached },
  { name: 'SharedArrayBuffer view', make: () => new Uint8Array(new SharedArrayBuffer(32)).fill(9) },
  { name: 'Uint16Array', make: () => new Uint16Array(16) },
  { name: 'DataView', make: () => new DataView(new ArrayBuffer(32)) },
  { name: 'ArrayBuffer', make: () => new ArrayBuffer(32) },
  { name: 'Proxy with throwing traps', make: () => new Proxy({}, throwingHandler) },
  { name: 'Proxy over a Uint8Array', make: () => new Proxy(new Uint8Array(32).fill(3), {}) },
  { name: 'object with a throwing toString', make: () => ({ toString: trap, valueOf: trap, [Symbol.toPrimitive]: trap }) },
  { name: 'NaN', make: () => Number.NaN },
  { name: '-1', make: () => -1 },
  { name: '1.5', make: () => 1.5 },
  { name: '2^53', make: () => 2 ** 53 },
  { name: 'Infinity', make: () => Number.POSITIVE_INFINITY },
];

/** 64 MiB, for the serialization a reader takes: where a size limit should refuse. */
export const hugeBuffer = (): Uint8Array => (huge ??= new Uint8Array(64 * 1024 * 1024).fill(0x41));

/** An option bag whose every read throws. */
export const throwingBag = (): unknown => new Proxy({}, throwingHandler);

/** `bag` with `field` turned into a getter that throws. */
export function withThrowingGetter(bag: Record<string, unknown>, field: string): Record<string, unknown> {
  const copy = { ...bag };
  delete copy[field];
  return Object.defineProperty(copy, field, { get: trap, enumerable: true });
}

/** Truncations, extensions and bit flips of a valid serialization; at most ~40. */
export function mutations(valid: Uint8Array): { name: string; bytes: Uint8Array }[] {
  const out: { name: string; bytes: Uint8Array }[] = [];
  const n = valid.byteLength;
  // Copies, never views: `Buffer#slice` shares memory with the valid value.
  const copy = (end = n) => Uint8Array.prototype.slice.call(valid, 0, end);
  const cuts = new Set([0, 1, 2, Math.floor(n / 4), Math.floor(n / 2), n - 33, n - 17, n - 2, n - 1].filter((c) => c >= 0 && c < n));
  for (const c of cuts) out.push({ name: `truncated to ${c}`, bytes: copy(c) });
  const cat = (extra: Uint8Array) => {
    const b = new Uint8Array(n + extra.byteLength);
    b.set(valid);
    b.set(extra, n);
    return b;
  };
  out.push({ name: 'extended by 0x00', bytes: cat(Uint8Array.of(0)) });
  out.push({ name: 'extended by 0xff', bytes: cat(Uint8Array.of(0xff)) });
  out.push({ name: 'extended by 64 bytes', bytes: cat(new Uint8Array(64).fill(0x5a)) });
  out.push({ name: 'doubled', bytes: cat(valid) });
  const positions = new Set<number>();
  for (let i = 0; i < Math.min(n, 8); i++) positions.add(i);
  for (let k = 0; k < 16 && n > 0; k++) positions.add(Math.floor((k * (n - 1)) / 15));
  for (const p of positions) {
    for (const bit of p < 8 ? [0x01, 0x80] : [0x01]) {
      const b = copy();
      b[p] ^= bit;
      out.push({ name: `bit 0x${bit.toString(16)} of byte ${p} flipped`, bytes: b });
    }
  }
  return out;
}

/** The same for text (a token, a PHC string): cut, extended and changed characters. */
export function textMutations(valid: string): { name: string; text: string }[] {
  const out: { name: string; text: string }[] = [];
  const n = valid.length;
  for (const c of new Set([0, 1, Math.floor(n / 2), n - 1].filter((c) => c >= 0 && c < n))) out.push({ name: `cut to ${c}`, text: valid.slice(0, c) });
  for (const extra of ['A', '=', '$', '\u0000', 'é', '\ud800', 'AAAA'.repeat(16)])
    out.push({ name: `extended by ${JSON.stringify(extra).slice(0, 12)}`, text: valid + extra });
  for (let k = 0; k < 12 && n > 0; k++) {
    const p = Math.floor((k * (n - 1)) / 11);
    const ch = valid[p] === 'A' ? 'B' : 'A';
    out.push({ name: `char ${p} changed`, text: valid.slice(0, p) + ch + valid.slice(p + 1) });
  }
  return out;
}
