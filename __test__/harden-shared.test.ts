/**
 * Issue 13, finding 10: the in-place seal/open paths assume no JavaScript
 * runs during the call, which a SharedArrayBuffer written by a worker breaks.
 * Shared inputs are copied before they reach Rust. The binding is wrapped
 * (the real one still runs) to see what it is handed: a race itself cannot
 * be tested deterministically.
 */
import test from 'ava';
import { open, SecretKey, seal } from '../src/index';
import { binding } from '../src/native';

type Fn = (...args: unknown[]) => unknown;

function watch(name: 'sealBoxInto' | 'openBoxInto', shared: boolean[]): () => void {
  const target = binding as unknown as Record<string, Fn>;
  const original = target[name];
  target[name] = (...args: unknown[]) => {
    for (const a of args) if (a instanceof Uint8Array) shared.push(a.buffer instanceof SharedArrayBuffer);
    return original(...args);
  };
  return () => {
    target[name] = original;
  };
}

function sharedCopy(bytes: Uint8Array, offset = 3): Uint8Array {
  const view = new Uint8Array(new SharedArrayBuffer(bytes.length + offset + 5), offset, bytes.length);
  view.set(bytes);
  return view;
}

test('seal and open hand Rust no shared memory, and still round-trip', (t) => {
  const key = SecretKey.generate();
  const shared: boolean[] = [];
  t.teardown(watch('sealBoxInto', shared));
  t.teardown(watch('openBoxInto', shared));
  const data = sharedCopy(Buffer.from('a secret in shared memory'));
  const aad = sharedCopy(Buffer.from('context'));
  const box = seal(key, data, { aad });
  const opened = open(key, sharedCopy(box), { aad, ttl: 60 });
  t.is(Buffer.from(opened).toString(), 'a secret in shared memory');
  // A large box takes the out-of-place path.
  const big = sharedCopy(new Uint8Array(100_000).fill(9));
  t.deepEqual(Buffer.from(open(key, sharedCopy(seal(key, big)))), Buffer.from(big));
  t.true(shared.length >= 8);
  t.deepEqual(
    shared,
    shared.map(() => false),
  );
});
