// Packs the root package and the linux-x64-gnu platform package, installs the
// two tarballs into an empty directory with no compiler on PATH, and uses
// keyward there through `require`, `import`, the subpath exports, the CLI and
// the public typings.
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const platform = `${process.platform}-${process.arch}${process.platform === 'linux' ? '-gnu' : ''}`;
const work = mkdtempSync(join(tmpdir(), 'keyward-pack-'));
const sh = (cmd, args, cwd, env = process.env) => execFileSync(cmd, args, { cwd, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });

try {
  copyFileSync(join(root, `native/keyward.${platform}.node`), join(root, `npm/${platform}/keyward.${platform}.node`));
  const pack = (dir) => join(work, JSON.parse(sh('npm', ['pack', '--json', '--pack-destination', work], dir))[0].filename);
  const tarballs = [pack(root), pack(join(root, 'npm', platform))];
  console.log(`[pack] ${tarballs.map((t) => t.slice(work.length + 1)).join(', ')}`);

  const app = join(work, 'app');
  sh('mkdir', ['-p', app], work);
  writeFileSync(join(app, 'package.json'), '{ "name": "app", "private": true }');
  // No compiler and no Rust toolchain: only node and npm on PATH.
  const env = { ...process.env, PATH: `${join(process.execPath, '..')}:/usr/bin:/bin`, CC: '/bin/false', CARGO: '/bin/false' };
  sh('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', ...tarballs], app, env);

  writeFileSync(
    join(app, 'use.cjs'),
    `const k = require('keyward');
const s = require('keyward/serenity');
const ks = { iterations: 1, memory: 64, parallelism: 1 };
const server = new k.OpaqueServer(k.ServerSetup.generate());
const client = new k.OpaqueClient({ keyStretching: ks });
const r = client.startRegistration('pw');
const done = client.finishRegistrationSync(r.state, 'pw', server.startRegistration(r.request, 'u'));
const rec = server.finishRegistration(done.upload);
const l = client.startLogin('pw');
const st = server.startLogin(rec, l.request, 'u');
const fin = client.finishLoginSync(l.state, 'pw', st.response);
if (!k.constantTimeEqual(fin.sessionKey, server.finishLogin(st.state, fin.finalization).sessionKey)) throw new Error('keys differ');
if (typeof s.server.createSetup() !== 'string') throw new Error('serenity subpath');
console.log('require ok');
`,
  );
  writeFileSync(
    join(app, 'use.mjs'),
    `import { createRequire } from 'node:module';
import { OpaqueClient, ServerSetup, InvalidLoginError } from 'keyward';
import cjs from 'keyward';
import { server } from 'keyward/serenity/p256';
import { createClient as importedClient } from 'keyward/client';
const require = createRequire(import.meta.url);
const setup = ServerSetup.generate('p384_sha384');
if (setup.suite !== 'p384_sha384') throw new Error('suite');
// One copy of each class whether imported or required: the ESM entries re-export the CommonJS build.
if (!(new cjs.InvalidLoginError() instanceof InvalidLoginError)) throw new Error('one copy of each class');
if (require('keyward').InvalidLoginError !== InvalidLoginError || !(require('keyward').ServerSetup.generate() instanceof ServerSetup)) throw new Error('require and import give different classes');
if (require('keyward/client').createClient !== importedClient) throw new Error('require and import give different subpath modules');
if (server.getPublicKey(server.createSetup()).length !== 44) throw new Error('p256 subpath');
new OpaqueClient();
const { createClient } = await import('keyward/client');
const { keywardAuth } = await import('keyward/fastify');
if (typeof createClient !== 'function' || typeof keywardAuth !== 'function') throw new Error('client/fastify subpaths');
const relay = await import('keyward/relay');
if (typeof relay.createRelayServer !== 'function' || typeof relay.Messenger?.open !== 'function') throw new Error('relay subpath');
if (relay.RelayKey.generate().publicKey.length !== 32 || require('keyward/relay').Messenger !== relay.Messenger) throw new Error('relay subpath: one copy');
const { SecretKey, seal, open } = await import('keyward');
const key = SecretKey.generate();
if (new TextDecoder().decode(open(key, seal(key, 'x'))) !== 'x') throw new Error('sealed data');
if (open(key, seal(key, new Uint8Array(65536))).length !== 65536) throw new Error('sealed data through AWS-LC');
const { IdentityKey, PreKeySet, Session } = await import('keyward');
const bob = IdentityKey.generate();
const prekeys = PreKeySet.generate(bob, { oneTimePreKeys: 1, kem: true });
const first = Session.fromBundle(IdentityKey.generate(), prekeys.bundle(), { expectedPeer: bob.publicKey }).encrypt('e2e');
if (new TextDecoder().decode(Session.accept(bob, prekeys, first).plaintext) !== 'e2e') throw new Error('sessions');
// The browser client loads in Node too (it needs only fetch and WebCrypto); @serenity-kit/opaque is loaded on first use.
const web = await import('keyward/web');
if (typeof web.createWebClient !== 'function' || typeof web.InvalidLoginError !== 'function') throw new Error('web subpath');
console.log('import ok');
`,
  );
  process.stdout.write(sh(process.execPath, ['use.cjs'], app, env));
  process.stdout.write(sh(process.execPath, ['use.mjs'], app, env));
  const bin = join(app, 'node_modules/.bin/keyward');
  const setup = sh(bin, ['create-server-setup'], app, env).trim();
  const key = sh(bin, ['get-server-public-key', setup], app, env).trim();
  if (!/^[A-Za-z0-9_-]{43}$/.test(key)) throw new Error(`CLI printed ${key}`);
  const version = sh(bin, ['--version'], app, env).trim();
  if (version !== JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version) throw new Error(`--version printed ${version}`);
  // Exit codes from the installed bin: 2 for a usage error; 1 for serve without the optional peer
  // fastify (not installed here), which names the package to install.
  const status = (args) => spawnSync(bin, args, { cwd: app, env, encoding: 'utf8' });
  const usage = status(['serve', '--raw']);
  if (usage.status !== 2 || !usage.stderr.includes('--raw is an option of create-server-setup'))
    throw new Error(`usage error: ${usage.status} ${usage.stderr}`);
  const noFastify = status(['serve', '--data', join(work, 'data'), '--port', '0']);
  if (noFastify.status !== 1 || !noFastify.stderr.includes('npm install fastify'))
    throw new Error(`serve without fastify: ${noFastify.status} ${noFastify.stderr}`);
  console.log('cli ok');

  // The public typings resolve from the installed package (tsc from this repo; nothing installed in the app).
  writeFileSync(
    join(app, 'typed.ts'),
    `import { ClientLoginState, OpaqueClient, ServerSetup, type Suite } from 'keyward';
import { client } from 'keyward/serenity';
const suite: Suite = ServerSetup.generate().suite;
const request: string = client.startRegistration({ password: 'x' }).registrationRequest;
new OpaqueClient({ suite, keyStretching: 'memory-constrained' });
const restore = (b: Uint8Array): ClientLoginState => ClientLoginState.deserialize(b);
export { request, restore };
`,
  );
  // The same program as an ES module (the .d.mts typings), and the subpaths under every resolution mode.
  writeFileSync(join(app, 'typed.mts'), readFileSync(join(app, 'typed.ts'), 'utf8'));
  writeFileSync(
    join(app, 'subpaths.ts'),
    `import { keywardAuth } from 'keyward/fastify';
import { createClient } from 'keyward/client';
import { server } from 'keyward/serenity/p256';
import { createRelayServer, Messenger } from 'keyward/relay';
import type { SecretKey } from 'keyward';
export const all = [keywardAuth, createClient, server.createSetup, createRelayServer, Messenger.open] as const;
export type Key = SecretKey;
`,
  );
  const tsc = join(root, 'node_modules/typescript/bin/tsc');
  const typecheck = (resolution, module, files) =>
    sh(
      process.execPath,
      [
        tsc,
        '--noEmit',
        '--strict',
        '--skipLibCheck',
        '--module',
        module,
        '--moduleResolution',
        resolution,
        '--types',
        'node',
        '--typeRoots',
        join(root, 'node_modules/@types'),
        ...files,
      ],
      app,
      env,
    );
  // keyward/web is an ES module only: typed from an ES module (.mts) and by bundlers.
  writeFileSync(
    join(app, 'web.mts'),
    "import { createWebClient, type WebClientOptions } from 'keyward/web';\nconst options: WebClientOptions = { baseUrl: 'https://api.example', persist: true };\nexport const client = createWebClient(options);\n",
  );
  typecheck('node16', 'node16', ['typed.ts', 'typed.mts', 'subpaths.ts', 'web.mts']);
  typecheck('node10', 'commonjs', ['typed.ts', 'subpaths.ts']);
  typecheck('bundler', 'esnext', ['typed.ts', 'subpaths.ts', 'web.mts']);
  console.log('types ok');
  console.log('pack check: 4 passed, 0 failed');
} finally {
  rmSync(work, { recursive: true, force: true });
  rmSync(join(root, `npm/${platform}/keyward.${platform}.node`), { force: true });
}
