/**
 * nginx as a reverse proxy in front of a test server, as users deploy the
 * relay: its own configuration in a scratch directory, on a free loopback
 * port, stopped at teardown. The binary comes from KEYWARD_TEST_NGINX
 * (scripts/services.mjs installs Debian's nginx and sets it), else `nginx`
 * on PATH, else /usr/sbin/nginx.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ExecutionContext } from 'ava';
import { freePort } from '../../scripts/free-port.mjs';

function nginxBinary(): string {
  const candidates = [process.env.KEYWARD_TEST_NGINX, 'nginx', '/usr/sbin/nginx'].filter((c): c is string => Boolean(c));
  for (const candidate of candidates) {
    try {
      execFileSync(candidate, ['-v'], { stdio: 'ignore' });
      return candidate;
    } catch {}
  }
  throw new Error('nginx is not installed: run the suite through `npm test` (scripts/services.mjs installs it) or apt-get install nginx');
}

const listening = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });

/** A self-signed certificate for 127.0.0.1 and localhost (openssl's CLI; P-256, valid a day), in PEM. */
export interface TestCertificate {
  cert: string;
  key: string;
}

export function selfSignedCertificate(): TestCertificate {
  const dir = mkdtempSync(join(tmpdir(), 'keyward-cert-'));
  try {
    const [cert, key] = [join(dir, 'cert.pem'), join(dir, 'key.pem')];
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:P-256',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=keyward test relay',
        '-addext',
        'subjectAltName=IP:127.0.0.1,DNS:localhost',
        '-keyout',
        key,
        '-out',
        cert,
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    return { cert: readFileSync(cert, 'utf8'), key: readFileSync(key, 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Starts nginx with `locations` (the body of its one `server` block) on a
 * free port, terminating TLS with `tls` when given; resolves with the port
 * once it accepts connections.
 */
export async function startNginx(t: ExecutionContext, locations: string, tls?: TestCertificate): Promise<number> {
  const bin = nginxBinary();
  const dir = mkdtempSync(join(tmpdir(), 'keyward-nginx-'));
  const port = await freePort();
  if (tls !== undefined) {
    writeFileSync(join(dir, 'cert.pem'), tls.cert);
    writeFileSync(join(dir, 'key.pem'), tls.key, { mode: 0o600 });
  }
  const ssl = tls === undefined ? '' : ` ssl;\n    ssl_certificate ${join(dir, 'cert.pem')};\n    ssl_certificate_key ${join(dir, 'key.pem')}`;
  const temp = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((kind) => {
    mkdirSync(join(dir, kind));
    return `${kind}_temp_path ${join(dir, kind)};`;
  });
  writeFileSync(
    join(dir, 'nginx.conf'),
    `daemon off;
worker_processes 1;
pid ${join(dir, 'nginx.pid')};
error_log ${join(dir, 'error.log')} info;
events { worker_connections 256; }
http {
  access_log off;
  ${temp.join('\n  ')}
  map $http_upgrade $connection_upgrade { default upgrade; '' close; }
  server {
    listen 127.0.0.1:${port}${ssl};
    ${locations}
  }
}
`,
  );
  const child: ChildProcess = spawn(bin, ['-p', dir, '-c', join(dir, 'nginx.conf'), '-e', join(dir, 'error.log')], { stdio: 'ignore' });
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  t.teardown(async () => {
    child.kill('SIGTERM');
    await exited;
    rmSync(dir, { recursive: true, force: true });
  });
  for (let i = 0; i < 200; i++) {
    if (child.exitCode !== null) break;
    if (await listening(port)) return port;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const log = existsSync(join(dir, 'error.log')) ? readFileSync(join(dir, 'error.log'), 'utf8') : '';
  throw new Error(`nginx did not start on port ${port}:\n${log}`);
}
