// PostgreSQL and Redis for the tests: installed from Debian's packages when
// missing, started on loopback in scratch directories, stopped afterwards.
// Nothing touches the system's own database clusters or service units.
import { execFileSync, spawn } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

const log = (msg) => console.log(`[services] ${msg}`);
const isRoot = process.getuid?.() === 0;

function which(cmd) {
  try {
    return (
      execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: ['ignore', 'pipe', 'ignore'] })
        .toString()
        .trim() || undefined
    );
  } catch {
    return undefined;
  }
}

/** Debian keeps the server binaries per version; other systems (Alpine) put them on PATH. */
function pgBin() {
  const base = '/usr/lib/postgresql';
  const versions = existsSync(base)
    ? readdirSync(base)
        .filter((v) => existsSync(join(base, v, 'bin/postgres')))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  if (versions.length) return join(base, versions[0], 'bin');
  const initdb = which('initdb');
  return initdb === undefined ? undefined : dirname(initdb);
}

function hasRedis() {
  try {
    execFileSync('redis-server', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function ensureInstalled() {
  const missing = [];
  if (pgBin() === undefined) missing.push('postgresql');
  if (!hasRedis()) missing.push('redis-server');
  if (missing.length === 0) return;
  if (!isRoot) throw new Error(`missing ${missing.join(' and ')}: install them (apt-get install ${missing.join(' ')}) or run as root`);
  log(`installing ${missing.join(', ')} from Debian's packages`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
  execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing], { stdio: 'inherit', env });
}

function freePort() {
  // Ports above the ephemeral range's usual start, different per run.
  return 20000 + Math.floor(Math.random() * 20000);
}

async function waitFor(what, check, timeoutMs = 30000) {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (check()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${what} did not start within ${timeoutMs / 1000} s`);
}

/** PostgreSQL refuses to run as root: as root, it runs as the `postgres` user. */
function asPostgres(cmd, args) {
  if (!isRoot) return [cmd, args];
  if (which('runuser')) return ['runuser', ['-u', 'postgres', '--', cmd, ...args]];
  // Without util-linux (Alpine): su, with the command quoted for its shell.
  const quoted = [cmd, ...args].map((a) => `'${String(a).replace(/'/g, "'\\''")}'`).join(' ');
  return ['su', ['-s', '/bin/sh', 'postgres', '-c', quoted]];
}

async function startPostgres() {
  const bin = pgBin();
  const dir = mkdtempSync(join(tmpdir(), 'keyward-pg-'));
  if (isRoot) chownSync(dir, Number(execFileSync('id', ['-u', 'postgres']).toString()), Number(execFileSync('id', ['-g', 'postgres']).toString()));
  const data = join(dir, 'data');
  const [initCmd, initArgs] = asPostgres(join(bin, 'initdb'), ['-D', data, '-A', 'trust', '-U', 'keyward', '--no-sync']);
  execFileSync(initCmd, initArgs, { stdio: 'ignore' });
  const port = freePort();
  const [cmd, args] = asPostgres(join(bin, 'postgres'), ['-D', data, '-p', String(port), '-h', '127.0.0.1', '-k', dir, '-c', 'fsync=off']);
  const child = spawn(cmd, args, { stdio: 'ignore' });
  const ready = () => {
    try {
      execFileSync(join(bin, 'pg_isready'), ['-h', '127.0.0.1', '-p', String(port)], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  };
  await waitFor('PostgreSQL', ready);
  execFileSync(join(bin, 'createdb'), ['-h', '127.0.0.1', '-p', String(port), '-U', 'keyward', 'keyward'], { stdio: 'ignore' });
  log(`PostgreSQL on 127.0.0.1:${port}`);
  return {
    url: `postgres://keyward@127.0.0.1:${port}/keyward`,
    stop: () => {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      const [stopCmd, stopArgs] = asPostgres(join(bin, 'pg_ctl'), ['stop', '-D', data, '-m', 'fast', '-w']);
      try {
        execFileSync(stopCmd, stopArgs, { stdio: 'ignore' });
      } catch {
        child.kill('SIGKILL');
      }
      return exited.then(() => rmSync(dir, { recursive: true, force: true }));
    },
  };
}

async function startRedis() {
  const port = freePort();
  const dir = mkdtempSync(join(tmpdir(), 'keyward-redis-'));
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: 'ignore' });
  const ready = () => {
    try {
      return (
        execFileSync('redis-cli', ['-p', String(port), 'ping'], { stdio: ['ignore', 'pipe', 'ignore'] })
          .toString()
          .trim() === 'PONG'
      );
    } catch {
      return false;
    }
  };
  await waitFor('Redis', ready);
  log(`Redis on 127.0.0.1:${port}`);
  return {
    url: `redis://127.0.0.1:${port}`,
    stop: () => {
      child.kill('SIGTERM');
      return new Promise((resolve) => child.once('exit', resolve)).then(() => rmSync(dir, { recursive: true, force: true }));
    },
  };
}

/** Starts both; the returned env names them for the tests. */
export async function startServices() {
  ensureInstalled();
  const pg = await startPostgres();
  const redis = await startRedis().catch(async (error) => {
    await pg.stop();
    throw error;
  });
  return {
    env: { KEYWARD_TEST_PG: pg.url, KEYWARD_TEST_REDIS: redis.url },
    stop: () => Promise.all([pg.stop(), redis.stop()]),
  };
}
