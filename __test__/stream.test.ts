import { createHash, randomBytes, randomFillSync } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import test from 'ava';
import { createOpenStream, createOpenTransform, createSealStream, createSealTransform, DecryptionError, InvalidArgumentError, SecretKey } from '../src/index';

async function throughWeb(stream: TransformStream<Uint8Array, Uint8Array>, pieces: Uint8Array[]): Promise<Buffer> {
  const out: Uint8Array[] = [];
  const source = new ReadableStream<Uint8Array>({
    start(controller) {
      pieces.forEach((p) => controller.enqueue(p));
      controller.close();
    },
  });
  await source.pipeThrough(stream).pipeTo(new WritableStream({ write: (c) => void out.push(c) }));
  return Buffer.concat(out);
}

function split(data: Uint8Array, size: number): Uint8Array[] {
  const pieces = [];
  for (let i = 0; i < data.byteLength; i += size) pieces.push(data.subarray(i, i + size));
  return pieces;
}

const CHUNK = 1024;
const HEADER = 24;
const SEALED_CHUNK = CHUNK + 16;

test('web streams: round trip at chunk boundaries, any input split', async (t) => {
  const key = SecretKey.generate();
  for (const len of [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 5 * CHUNK, 5 * CHUNK + 7]) {
    const data = randomBytes(len);
    const sealed = await throughWeb(createSealStream(key, { aad: 'file.bin', chunkSize: CHUNK }), split(data, 333));
    t.is(sealed.byteLength, HEADER + len + Math.max(1, Math.ceil(len / CHUNK)) * 16, `len ${len}`);
    const opened = await throughWeb(createOpenStream(key, { aad: 'file.bin' }), split(sealed, 500));
    t.deepEqual(opened, data, `len ${len}`);
  }
});

test('every kind of tampering is detected', async (t) => {
  const key = SecretKey.generate();
  const sealed = await throughWeb(createSealStream(key, { chunkSize: CHUNK }), [randomBytes(4 * CHUNK + 100)]);
  const header = sealed.subarray(0, HEADER);
  const chunk = (i: number) => sealed.subarray(HEADER + i * SEALED_CHUNK, HEADER + (i + 1) * SEALED_CHUNK);
  const flipped = Buffer.from(sealed);
  flipped[HEADER + 3 * SEALED_CHUNK + 9] ^= 1;
  const cases: Record<string, Uint8Array> = {
    reordered: Buffer.concat([header, chunk(1), chunk(0), chunk(2), chunk(3), chunk(4)]),
    dropped: Buffer.concat([header, chunk(0), chunk(2), chunk(3), chunk(4)]),
    duplicated: Buffer.concat([header, chunk(0), chunk(1), chunk(1), chunk(2), chunk(3), chunk(4)]),
    'truncated at a chunk boundary': Buffer.concat([header, chunk(0), chunk(1), chunk(2), chunk(3)]),
    'truncated mid-chunk': sealed.subarray(0, sealed.byteLength - 5),
    extended: Buffer.concat([sealed, chunk(0)]),
    'extended by one byte': Buffer.concat([sealed, Buffer.from([0])]),
    'flipped bit': flipped,
    'header only': header,
    'half a header': header.subarray(0, 10),
  };
  for (const [name, bad] of Object.entries(cases)) {
    await t.throwsAsync(throughWeb(createOpenStream(key), split(bad, 700)), { instanceOf: DecryptionError }, name);
  }
  await t.throwsAsync(throughWeb(createOpenStream(key, { aad: 'other' }), [sealed]), { instanceOf: DecryptionError });
  await t.throwsAsync(throughWeb(createOpenStream(SecretKey.generate()), [sealed]), { instanceOf: DecryptionError });
});

test('bad options and chunks', async (t) => {
  const key = SecretKey.generate();
  t.throws(() => createSealStream(key, { chunkSize: 10 }), { instanceOf: InvalidArgumentError });
  t.throws(() => createSealStream(key, { chunkSize: 1.5 }), { instanceOf: InvalidArgumentError });
  t.throws(() => createSealStream({} as SecretKey), { instanceOf: InvalidArgumentError });
  await t.throwsAsync(throughWeb(createSealStream(key), ['text' as unknown as Uint8Array]), { instanceOf: InvalidArgumentError });
});

test('1 GiB through Node seal → open with bounded memory', async (t) => {
  const key = SecretKey.generate();
  const total = 1024 * 1024 * 1024;
  const piece = 1024 * 1024;
  const inHash = createHash('sha256');
  const outHash = createHash('sha256');
  let produced = 0;
  let received = 0;
  let peak = 0;
  const baseline = process.memoryUsage().rss;
  const source = new Readable({
    read() {
      if (produced === total) return void this.push(null);
      const chunk = randomFillSync(Buffer.allocUnsafe(piece));
      inHash.update(chunk);
      produced += piece;
      this.push(chunk);
    },
  });
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      outHash.update(chunk);
      received += chunk.byteLength;
      if (received % (64 * piece) < chunk.byteLength) peak = Math.max(peak, process.memoryUsage().rss - baseline);
      done();
    },
  });
  await pipeline(source, createSealTransform(key, { aad: 'big' }), createOpenTransform(key, { aad: 'big' }), sink);
  t.is(received, total);
  t.is(outHash.digest('hex'), inHash.digest('hex'));
  t.true(peak < 256 * 1024 * 1024, `rss grew by ${(peak / 1048576).toFixed(0)} MiB`);
});
