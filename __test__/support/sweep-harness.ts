/**
 * The parent side of the API sweep: runs each group in child processes
 * (two at a time), and when a child dies by a signal, exits without
 * finishing, or goes quiet past the timeout, records the case it was in as
 * a crash or a hang and starts a new child after that case.
 */
import { spawn } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync, statfsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { CaseResult } from './sweep-child';

const CHILD = join(__dirname, 'sweep-child.ts');
const TSX = pathToFileURL(require.resolve('tsx/package.json').replace(/package\.json$/, 'dist/loader.mjs')).href;
/** A child that prints nothing for this long is hung (a case's own async timeout is 30 s, sweep-child.ts). */
const QUIET_MS = 60_000;

/**
 * Where the children's files go (vaults, SQLite stores): a memory file
 * system where there is one. The sweep is about arguments, not durability
 * (the kill tests cover that on the real disk), and its thousands of small
 * stores and vault commits each sync; on a machine whose disk is busy with the
 * other test files' syncs, those syncs alone once took a case past its timeout.
 */
function scratchRoot(): string {
  try {
    // A container's /dev/shm may be 64 MiB (Docker's default): too small for the stores of two groups at once.
    const { bavail, bsize } = statfsSync('/dev/shm');
    if (process.platform === 'linux' && bavail * bsize >= 1 << 30) {
      accessSync('/dev/shm', constants.W_OK);
      return '/dev/shm';
    }
  } catch {
    // no /dev/shm (macOS, Windows): the system's temp directory
  }
  return tmpdir();
}

function runFrom(group: string, first: number, cwd: string): Promise<{ results: CaseResult[]; total?: number; stopped?: CaseResult; fatal?: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', TSX, CHILD, group, String(first)], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    const results: CaseResult[] = [];
    let total: number | undefined;
    let started: number | undefined;
    let startedWhat = { id: '?', case: '?' };
    let fatal: string | undefined;
    let done = false;
    let buffer = '';
    let stderr = '';
    let timer: NodeJS.Timeout;
    let hung = false;
    const arm = () => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        hung = true;
        child.kill('SIGKILL');
      }, QUIET_MS);
    };
    arm();
    child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)));
    child.stdout.on('data', (d: Buffer) => {
      arm();
      buffer += d.toString();
      let nl: number;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        if (line.startsWith('N ')) total = Number(line.slice(2));
        else if (line.startsWith('S ')) {
          const space = line.indexOf(' ', 2);
          started = Number(line.slice(2, space));
          startedWhat = JSON.parse(line.slice(space + 1));
        } else if (line.startsWith('R ')) {
          results.push(JSON.parse(line.slice(2)));
          started = undefined;
        } else if (line === 'D') done = true;
        else if (line.startsWith('F ')) fatal = JSON.parse(line.slice(2));
      }
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      // Every case reported: done, even if the last line was lost with the exit.
      if (total !== undefined && first + results.length >= total) done = true;
      if (done || fatal !== undefined || started === undefined) {
        if (!done && fatal === undefined) fatal = `child exited (${code ?? signal}) outside any case: ${stderr}`;
        resolve({ results, total, fatal });
        return;
      }
      const stopped: CaseResult = {
        i: started,
        id: startedWhat.id,
        case: startedWhat.case,
        trap: false,
        baseline: false,
        outcome: hung ? 'hang' : 'crash',
        message: hung ? `no output for ${QUIET_MS} ms` : `exit ${code ?? ''} signal ${signal ?? ''}: ${stderr.slice(-600)}`,
      };
      resolve({ results, total, stopped });
    });
  });
}

/** All results of one group, restarting after any case that killed its child. */
export async function runGroup(group: string): Promise<{ results: CaseResult[]; fatal?: string }> {
  const cwd = mkdtempSync(join(scratchRoot(), 'kw-sweep-'));
  const results: CaseResult[] = [];
  try {
    let first = 0;
    for (;;) {
      const run = await runFrom(group, first, cwd);
      results.push(...run.results);
      if (run.fatal !== undefined) return { results, fatal: run.fatal };
      if (run.stopped === undefined) return { results };
      results.push(run.stopped);
      first = run.stopped.i + 1;
      if (run.total !== undefined && first >= run.total) return { results };
    }
  } finally {
    rmSync(cwd, { recursive: true, force: true });
  }
}

/** Runs `groups` with at most `parallel` children at once. */
export async function runGroups(
  groups: string[],
  parallel = 2,
  onGroup?: (group: string, result: { results: CaseResult[]; fatal?: string }, ms: number) => void,
): Promise<Map<string, { results: CaseResult[]; fatal?: string }>> {
  const out = new Map<string, { results: CaseResult[]; fatal?: string }>();
  const queue = [...groups];
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      for (let g = queue.shift(); g !== undefined; g = queue.shift()) {
        const t0 = Date.now();
        const r = await runGroup(g);
        out.set(g, r);
        onGroup?.(g, r, Date.now() - t0);
      }
    }),
  );
  return out;
}
