/**
 * Child processes for the kill tests: a port that is free now (a relay is
 * started on it again after each kill), and a process that can be SIGKILLed
 * and started again with the same arguments.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const root = join(__dirname, '../..');
const tsx = pathToFileURL(join(root, 'node_modules/tsx/dist/loader.mjs')).href;

export { freePort } from '../../scripts/free-port.mjs';

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** `keyward relay` (the CLI from the sources) on `port`, its state in `dir`. */
export function relayProcess(dir: string, port: number, store: { db: string } | { postgres: string }): Proc {
  const where = 'db' in store ? ['--db', store.db] : ['--postgres', store.postgres];
  return new Proc('relay', [join(root, 'src/cli.ts'), 'relay', '--port', String(port), ...where, '--key-file', join(dir, 'relay.key')]);
}

/** What `keyward relay` prints once it listens; group 1 is its public key (base64url). */
export const RELAY_LISTENING = /relay listening .*relay public key ([A-Za-z0-9_-]+)/;

/** A TypeScript program in a child process (under tsx), killed and started again at will. */
export class Proc {
  child: ChildProcess | undefined;
  exited: Promise<number | null> = Promise.resolve(null);
  stderr = '';
  constructor(
    readonly name: string,
    private readonly args: string[],
  ) {}

  /** Starts it; resolves with the first stdout line matching `ready` (at once without one). */
  start(ready?: RegExp): Promise<string> {
    const child = spawn(process.execPath, ['--import', tsx, ...this.args], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    child.stderr?.on('data', (d: Buffer) => {
      this.stderr = (this.stderr + d.toString()).slice(-4000);
    });
    this.exited = new Promise((resolve) => child.once('close', (code) => resolve(code)));
    if (ready === undefined) return Promise.resolve('');
    return new Promise((resolve, reject) => {
      let out = '';
      child.stdout?.on('data', (d: Buffer) => {
        out += d.toString();
        const line = out.split('\n').find((l) => ready.test(l));
        if (line !== undefined) resolve(line);
      });
      child.once('close', (code) => reject(new Error(`${this.name} exited (${code}) before it was ready: ${this.stderr}`)));
    });
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  async kill(): Promise<void> {
    this.child?.kill('SIGKILL');
    await this.exited;
  }
}
