// PostgreSQL and Redis for the tests: installed from Debian's packages when
// missing, started on loopback in scratch directories, stopped afterwards.
// Nothing touches the system's own database clusters or service units.
// nginx is installed too (never started here): the reverse-proxy test runs
// its own (__test__/support/nginx.ts), found through KEYWARD_TEST_NGINX.
import { execFileSync, spawn } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { freePort } from './free-port.mjs';

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

/** nginx on PATH, or where Debian and Alpine put it (/usr/sbin, not on every user's PATH). */
function nginxBin() {
  return which('nginx') ?? (existsSync('/usr/sbin/nginx') ? '/usr/sbin/nginx' : undefined);
}

/**
 * Installs what is missing. PostgreSQL and Redis are needed by many tests, so
 * failing to get them fails here; nginx and openssl (its TLS test's
 * certificate) are needed by one test file, so failing to get them is said
 * here and left to that test to report.
 */
function ensureInstalled() {
  const missing = [];
  if (pgBin() === undefined) missing.push('postgresql');
  if (!hasRedis()) missing.push('redis-server');
  const needed = [...missing];
  if (nginxBin() === undefined) missing.push('nginx');
  if (which('openssl') === undefined) missing.push('openssl');
  if (missing.length === 0) return;
  if (!isRoot) {
    if (needed.length > 0) throw new Error(`missing ${missing.join(' and ')}: install them (apt-get install ${missing.join(' ')}) or run as root`);
    log(`${missing.join(' and ')} missing (apt-get install ${missing.join(' ')}): the reverse-proxy tests will fail`);
    return;
  }
  log(`installing ${missing.join(', ')} from Debian's packages`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const install = (packages) => execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...packages], { stdio: 'inherit', env });
  execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
  try {
    install(missing);
  } catch (error) {
    if (needed.length === missing.length) throw error;
    log(`${missing.slice(needed.length).join(' and ')} could not be installed: the reverse-proxy tests will fail`);
    if (needed.length > 0) install(needed);
  }
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
  const port = await freePort();
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
  const port = await freePort();
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
    env: { KEYWARD_TEST_PG: pg.url, KEYWARD_TEST_REDIS: redis.url, KEYWARD_TEST_NGINX: nginxBin() ?? 'nginx' },
    stop: () => Promise.all([pg.stop(), redis.stop()]),
  };
}
