/**
 * `npm run bench:seal`: keyward's sealed data against sodium-native
 * (XChaCha20-Poly1305), node:crypto (ChaCha20-Poly1305, OpenSSL assembly)
 * and @node-rs/argon2, in one process. Outputs are checked for agreement
 * first; then medians and ratios. Not a test: quote ratios from one run.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import * as nodeRsArgon2 from '@node-rs/argon2';
import sodium from 'sodium-native';
import { createSealTransform, hashPassword, open, primitives, SecretKey, seal, verifyPassword } from '../src/index';
import { median, paired, type Row, table } from './harness';

function assert(ok: boolean, what: string): void {
  if (!ok) throw new Error(`bench precondition failed: ${what}`);
}

const sizes: [string, number][] = [
  ['64 B', 64],
  ['1 KiB', 1024],
  ['64 KiB', 64 * 1024],
  ['1 MiB', 1024 * 1024],
];

function sodiumSealOpen(key: Buffer, message: Buffer, aad: Buffer) {
  const nonce = Buffer.allocUnsafe(sodium.crypto_aead_xchacha20poly1305_ietf_NPUBBYTES);
  sodium.randombytes_buf(nonce);
  const sealed = Buffer.allocUnsafe(message.length + sodium.crypto_aead_xchacha20poly1305_ietf_ABYTES);
  sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(sealed, message, aad, null, nonce, key);
  const opened = Buffer.allocUnsafe(message.length);
  sodium.crypto_aead_xchacha20poly1305_ietf_decrypt(opened, null, sealed, aad, nonce, key);
  return opened;
}

function nodeSealOpen(key: Buffer, message: Buffer, aad: Buffer) {
  const nonce = randomBytes(12);
  const cipher = createCipheriv('chacha20-poly1305', key, nonce, { authTagLength: 16 });
  cipher.setAAD(aad, { plaintextLength: message.length });
  const ciphertext = Buffer.concat([cipher.update(message), cipher.final()]);
  const tag = cipher.getAuthTag();
  const decipher = createDecipheriv('chacha20-poly1305', key, nonce, { authTagLength: 16 });
  decipher.setAAD(aad, { plaintextLength: ciphertext.length });
  decipher.setAuthTag(tag);
  return Buffer.concat([decipher.update(ciphertext), decipher.final()]);
}

async function checkAgreement() {
  const key = randomBytes(32);
  const message = randomBytes(1000);
  const aad = randomBytes(13);
  const xnonce = randomBytes(24);
  const theirs = Buffer.allocUnsafe(message.length + 16);
  sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(theirs, message, aad, null, xnonce, key);
  assert(Buffer.from(primitives.aeadEncrypt('xchacha20-poly1305', key, xnonce, message, aad)).equals(theirs), 'XChaCha20-Poly1305 equals sodium-native');
  const nonce = randomBytes(12);
  const cipher = createCipheriv('chacha20-poly1305', key, nonce, { authTagLength: 16 });
  cipher.setAAD(aad, { plaintextLength: message.length });
  const openssl = Buffer.concat([cipher.update(message), cipher.final(), cipher.getAuthTag()]);
  assert(Buffer.from(primitives.aeadEncrypt('chacha20-poly1305', key, nonce, message, aad)).equals(openssl), 'ChaCha20-Poly1305 equals node:crypto');
  const sk = SecretKey.generate();
  assert(Buffer.from(open(sk, seal(sk, message, { aad }), { aad })).equals(message), 'keyward round trip');
  const params = { memory: 256, iterations: 1, parallelism: 1 };
  const ours = await hashPassword('pw', { params });
  assert(await nodeRsArgon2.verify(ours, 'pw'), '@node-rs/argon2 verifies a keyward hash');
  const foreign = await nodeRsArgon2.hash('pw', { memoryCost: 256, timeCost: 1, parallelism: 1, algorithm: 2 });
  assert(await verifyPassword(foreign, 'pw'), 'keyward verifies an @node-rs/argon2 hash');
}

async function aeadRows() {
  const key = randomBytes(32);
  const sk = SecretKey.from(key);
  const aad = randomBytes(16);
  const vsSodium: Row[] = [];
  const vsNode: Row[] = [];
  for (const [label, size] of sizes) {
    const message = randomBytes(size);
    const batch = Math.max(1, Math.floor(4_000_000 / (size * 40 + 4000)));
    const ours = () => open(sk, seal(sk, message, { aad }), { aad });
    const [keyward, sodiumTime] = await paired(ours, () => sodiumSealOpen(key, message, aad), 41, batch);
    vsSodium.push({ name: `seal+open ${label}`, keyward, anchor: sodiumTime, unit: 'µs', target: '≥ 1.0×' });
    if (size >= 64 * 1024) {
      const [keyward2, nodeTime] = await paired(ours, () => nodeSealOpen(key, message, aad), 41, batch);
      vsNode.push({ name: `seal+open ${label}`, keyward: keyward2, anchor: nodeTime, unit: 'µs', target: '≥ 0.8×' });
    }
  }
  return { vsSodium, vsNode };
}

/** MiB/s of sealing 256 MiB: one `seal()` call against a Node pipeline through `createSealTransform`. */
async function streamRow(): Promise<Row> {
  const total = 256 * 1024 * 1024;
  const piece = 1024 * 1024;
  const data = randomBytes(total);
  const key = SecretKey.generate();
  const oneShot = await median(() => seal(key, data), 5);
  const streamed = await median(async () => {
    let offset = 0;
    const source = new Readable({
      read() {
        this.push(offset < total ? data.subarray(offset, (offset += piece)) : null);
      },
    });
    await pipeline(source, createSealTransform(key), new Writable({ write: (_c, _e, done) => done() }));
  }, 5);
  const mibs = (us: number) => total / 1048576 / (us / 1e6);
  // Throughputs: the ratio column is keyward-stream / one-shot.
  return { name: 'seal 256 MiB, MiB/s', keyward: mibs(oneShot), anchor: mibs(streamed), unit: 'MiB/s', target: '≥ 0.8×' };
}

async function passwordRows(): Promise<Row[]> {
  const presets = [
    ['owasp', { memoryCost: 19456, timeCost: 2, parallelism: 1 }],
    ['rfc9106-low-memory', { memoryCost: 65536, timeCost: 3, parallelism: 4 }],
  ] as const;
  const rows: Row[] = [];
  for (const [preset, theirs] of presets) {
    const [keyward, anchor] = await paired(
      () => hashPassword('correct horse battery staple', { preset }),
      () => nodeRsArgon2.hash('correct horse battery staple', { ...theirs, algorithm: 2 }),
      21,
    );
    rows.push({ name: `hashPassword, ${preset}`, keyward, anchor, unit: 'µs', target: '≥ 1.0×' });
  }
  return rows;
}

async function eventLoopDelay(preset: 'owasp' | 'rfc9106-low-memory'): Promise<number> {
  const histogram = monitorEventLoopDelay({ resolution: 1 });
  histogram.enable();
  const ticker = setInterval(() => {}, 1);
  await Promise.all(Array.from({ length: 8 }, () => hashPassword('pw', { preset })));
  clearInterval(ticker);
  histogram.disable();
  return histogram.max / 1e6;
}

/** `npm run bench:seal -- aead` (or `stream`, `password`) runs one section. */
const only = process.argv[2];
const wanted = (section: string) => only === undefined || only === section;

async function main() {
  await checkAgreement();
  console.log('agreement: XChaCha20-Poly1305 = sodium-native, ChaCha20-Poly1305 = node:crypto, Argon2id hashes verify both ways with @node-rs/argon2\n');
  if (wanted('aead')) {
    const { vsSodium, vsNode } = await aeadRows();
    console.log(table('median per call', 'sodium-native 5 (XChaCha20-Poly1305)', vsSodium));
    console.log();
    console.log(table('median per call', 'node:crypto (ChaCha20-Poly1305, OpenSSL)', vsNode));
    console.log();
  }
  if (wanted('password')) {
    console.log(table('median per call', '@node-rs/argon2 2.2', await passwordRows()));
    for (const preset of ['owasp', 'rfc9106-low-memory'] as const) {
      console.log(`\nevent-loop delay, max, while 8 hashPassword (${preset}) run: ${(await eventLoopDelay(preset)).toFixed(1)} ms (target < 10 ms)`);
    }
    console.log();
  }
  // Last: its 256 MiB buffers would otherwise put GC pauses into the event-loop measurement.
  if (wanted('stream')) {
    const stream = await streamRow();
    console.log(
      table('throughput', 'keyward stream (Node pipeline, 64 KiB chunks)', [stream]).replace(
        '| throughput | keyward |',
        '| throughput | keyward one-shot seal |',
      ),
    );
    console.log();
  }
  console.log(`\n${new Date().toISOString().slice(0, 10)}, node ${process.version}, ${process.platform}-${process.arch}, \`npm run bench:seal\``);
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
