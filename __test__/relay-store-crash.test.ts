/**
 * SqliteRelayStore killed with SIGKILL while enqueueing: a real child process
 * (__test__/support/relay-enqueue-child.ts) prints each message id after its
 * commit and is killed after a random number of them. Reopening the same
 * file, with nothing deleted by hand, finds every printed id (SENT means
 * durable: docs/relay.md), and the mailbox's sequence goes on without a gap.
 */

import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import test from 'ava';
import { SqliteRelayStore } from '../src/relay/sqlite-store';

const root = join(__dirname, '..');
const tsx = pathToFileURL(join(root, 'node_modules/tsx/dist/loader.mjs')).href;
const child = join(__dirname, 'support/relay-enqueue-child.ts');
const LIMITS = { quotaMessages: 1_000_000, quotaBytes: 1 << 30, ttlMs: 86_400_000, maxOneTimeStored: 100, maxDevices: 4 };

/**
 * Runs the child until it has printed `killAfter` ids, then kills it with
 * SIGKILL without waiting for anything else; resolves with every id it
 * printed (the kill can land after a few more).
 */
function enqueueUntilKilled(path: string, recipient: Uint8Array, killAfter: number): Promise<number[]> {
  const proc: ChildProcess = spawn(process.execPath, ['--import', tsx, child, path, Buffer.from(recipient).toString('hex')], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new Promise((resolve, reject) => {
    const printed: number[] = [];
    let out = '';
    let err = '';
    let killed = false;
    proc.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const lines = out.split('\n');
      out = lines.pop() ?? '';
      for (const line of lines) if (/^\d+$/.test(line)) printed.push(Number(line));
      if (!killed && printed.length >= killAfter) {
        killed = true;
        proc.kill('SIGKILL');
      }
    });
    proc.stderr?.on('data', (chunk: Buffer) => (err += chunk.toString()));
    // 'close', not 'exit': every line the child wrote before it died has been read by then.
    proc.on('close', (code, signal) => {
      if (signal !== 'SIGKILL') return reject(new Error(`the child exited with ${code}: ${err.trim()}`));
      // A line cut by the kill was never complete, so it does not count as printed.
      resolve(printed);
    });
  });
}

test('killed with SIGKILL mid-enqueue, the store reopens on the same file and holds every id it printed', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'keyward-relay-crash-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'relay.db');
  const recipient = new Uint8Array(randomBytes(32));
  const mailbox = { identity: recipient, device: 1 };
  const everPrinted: number[] = [];
  for (let cycle = 0; cycle < 3; cycle++) {
    const printed = await enqueueUntilKilled(path, recipient, randomInt(20, 300));
    t.true(printed.length >= 20, `cycle ${cycle}`);
    everPrinted.push(...printed);
    // Opened as a crashed process left it: no lock or journal removed by hand.
    const store = new SqliteRelayStore(path, { limits: LIMITS });
    const stored = new Set((await store.pending(mailbox, { limit: 1_000_000, now: 1 })).map((m) => m.messageId));
    const missing = everPrinted.filter((id) => !stored.has(id));
    t.deepEqual(missing, [], `cycle ${cycle}: every printed id is stored`);
    // The sequence has no gap: ids are 1..n, with at most one committed after the last printed line.
    const ids = [...stored].sort((a, b) => a - b);
    t.deepEqual(
      ids,
      Array.from({ length: ids.length }, (_, i) => i + 1),
      `cycle ${cycle}`,
    );
    t.true(ids.length - everPrinted.length <= cycle + 1, `cycle ${cycle}: at most one unprinted commit per kill`);
    await store.close();
  }
});
