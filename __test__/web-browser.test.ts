/**
 * `keyward/web` in a real browser: headless Chromium (playwright-core) loads
 * a page served on one loopback port that imports the built ES module and
 * `@serenity-kit/opaque`, and talks to `keyward serve` (a real process) on
 * another port, so every call is cross-origin and passes through CORS.
 */

import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import test from 'ava';
import { type Browser, chromium, type Page } from 'playwright-core';
import { chromiumArgs, chromiumPath } from './support/chromium';

const root = join(__dirname, '..');
const scratch = mkdtempSync(join(tmpdir(), 'keyward-web-'));
let browser: Browser;
let pageServer: Server;
let pageOrigin: string;
let serve: ChildProcess;
let api: string;
let strayServe: ChildProcess | undefined;

/** `keyward serve` as a user runs it, from the sources; resolves with its URL. */
function startServe(dir: string, extra: string[]): Promise<{ child: ChildProcess; url: string }> {
  const tsx = pathToFileURL(join(root, 'node_modules/tsx/dist/loader.mjs')).href;
  const env: NodeJS.ProcessEnv = { ...process.env, KEYWARD_SERVER_SETUP: '', KEYWARD_SEAL_KEY: '' };
  delete env.KEYWARD_POSTGRES_URL;
  delete env.KEYWARD_REDIS_URL;
  const child = spawn(process.execPath, ['--import', tsx, join(root, 'src/cli.ts'), 'serve', '--data', dir, '--port', '0', ...extra], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stderr?.on('data', (chunk: Buffer) => (err += chunk.toString()));
  return new Promise((resolve, reject) => {
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const match = /listening on (\S+)/.exec(out);
      if (match) resolve({ child, url: match[1] });
    });
    child.on('exit', (code) => reject(new Error(`keyward serve exited with ${code}: ${err}`)));
  });
}

test.before(async () => {
  // The module as `npm run build:ts` writes it into dist/web, built from the sources into scratch.
  const { buildWeb } = (await import(pathToFileURL(join(root, 'scripts/build-web.mjs')).href)) as { buildWeb: (o: { outDir: string }) => Promise<void> };
  await buildWeb({ outDir: join(scratch, 'web') });
  const files: Record<string, [string, string]> = {
    '/': [join(__dirname, 'support/web/index.html'), 'text/html'],
    '/keyward-web.mjs': [join(scratch, 'web/index.mjs'), 'text/javascript'],
    '/serenity.mjs': [join(root, 'node_modules/@serenity-kit/opaque/esm/index.js'), 'text/javascript'],
    // The paths the guide's page (docs/web.md) names in its import map.
    '/node_modules/keyward/dist/web/index.mjs': [join(scratch, 'web/index.mjs'), 'text/javascript'],
    '/node_modules/@serenity-kit/opaque/esm/index.js': [join(root, 'node_modules/@serenity-kit/opaque/esm/index.js'), 'text/javascript'],
  };
  pageServer = createServer((req, res) => {
    if (req.url === '/guide') {
      // The guide's login page as written, told where the API is.
      const guide = /```html\n([\s\S]*?)```/.exec(readFileSync(join(root, 'docs/web.md'), 'utf8'))![1];
      res
        .writeHead(200, { 'content-type': 'text/html' })
        .end(guide.replace('<meta charset="utf-8">', `<meta charset="utf-8">\n<meta name="api" content="${api}">`));
      return;
    }
    const file = files[req.url ?? ''];
    if (file === undefined) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': file[1] }).end(readFileSync(file[0]));
  });
  await new Promise<void>((resolve) => pageServer.listen(0, '127.0.0.1', resolve));
  pageOrigin = `http://127.0.0.1:${(pageServer.address() as { port: number }).port}`;
  ({ child: serve, url: api } = await startServe(join(scratch, 'data'), ['--cors-origin', pageOrigin]));
  browser = await chromium.launch({ executablePath: chromiumPath(), headless: true, args: chromiumArgs });
});

test.after.always(async () => {
  await browser?.close();
  serve?.kill('SIGTERM');
  strayServe?.kill('SIGTERM');
  await new Promise<void>((resolve) => (pageServer ? pageServer.close(() => resolve()) : resolve()));
  rmSync(scratch, { recursive: true, force: true });
});

/** A fresh browser context (its own IndexedDB) with the test page loaded. */
async function openPage(t: import('ava').ExecutionContext, init?: string): Promise<Page> {
  const context = await browser.newContext();
  t.teardown(() => context.close());
  const page = await context.newPage();
  if (init !== undefined) await page.addInitScript(init);
  await loadPage(page);
  return page;
}

async function loadPage(page: Page, reload = false): Promise<void> {
  if (reload) await page.reload();
  else await page.goto(`${pageOrigin}/`);
  await page.waitForFunction("document.title === 'ready'");
}

/**
 * Runs `body` in the page with a client for the test server in `client`
 * (options merged in), every request it sends recorded in `sent`; a throw
 * comes back as `{ thrown: { name, code } }`.
 */
async function inPage<T>(page: Page, body: string, options: Record<string, unknown> = {}): Promise<T | { thrown: { name: string; code?: string } }> {
  // Source text, not a function: tsx's transform would add helpers the page does not have.
  const run = `(async () => {
    window.sent ??= [];
    const sent = window.sent;
    const recording = (url, init) => {
      sent.push({ url: String(url), init: init ?? {} });
      return fetch(url, init);
    };
    const api = ${JSON.stringify(api)};
    try {
      const client = window.keywardWeb.createWebClient({ baseUrl: api, fetch: recording, ...${JSON.stringify(options)} });
      ${body}
    } catch (e) {
      return { thrown: { name: e.name, code: e.code } };
    }
  })()`;
  return page.evaluate(run);
}

const sha256 = (bytes: Uint8Array | string) => createHash('sha256').update(bytes).digest('hex');

test('register, log in, and signed requests: a GET with a query, POSTs with JSON, text and binary bodies, logout', async (t) => {
  const page = await openPage(t);
  const result = await inPage<Record<string, unknown>>(
    page,
    `
    await client.register('web-alice', 'correct horse battery');
    const login = await client.login('web-alice', 'correct horse battery');
    const out = { expiresAtFuture: login.expiresAt > Date.now(), loggedIn: client.loggedIn };
    const get = await client.fetch('/api/whoami?b=2&a=1&a=0');
    out.get = [get.status, await get.json()];
    const json = await client.fetch('/api/echo', { method: 'POST', body: JSON.stringify({ to: 'bob', amount: 5 }) });
    out.json = [json.status, await json.json()];
    const text = await client.fetch('/api/echo', { method: 'POST', body: 'plain text, ü', headers: { 'content-type': 'text/plain; charset=utf-8' } });
    out.text = [text.status, await text.json()];
    const bytes = new Uint8Array(256).map((_, i) => i);
    const binary = await client.fetch('/api/echo', { method: 'POST', body: bytes });
    out.binary = [binary.status, await binary.json()];
    await client.logout();
    out.afterLogout = client.loggedIn;
    try { await client.fetch('/api/whoami'); } catch (e) { out.fetchAfterLogout = e.code; }
    return out;
    `,
  );
  t.deepEqual(result, {
    expiresAtFuture: true,
    loggedIn: true,
    get: [200, { user: 'web-alice', query: { b: '2', a: ['1', '0'] } }],
    json: [200, { user: 'web-alice', contentType: 'application/json', length: 23, sha256: sha256('{"to":"bob","amount":5}') }],
    text: [200, { user: 'web-alice', contentType: 'text/plain; charset=utf-8', length: 14, sha256: sha256('plain text, ü') }],
    binary: [200, { user: 'web-alice', contentType: 'application/octet-stream', length: 256, sha256: sha256(new Uint8Array(256).map((_, i) => i)) }],
    afterLogout: false,
    fetchAfterLogout: 'ERR_POP_NO_SESSION',
  });
});

test('with persist, a reload keeps the session (a non-extractable key in IndexedDB); logout removes it', async (t) => {
  const page = await openPage(t);
  const persist = { persist: { database: 'keyward-test' } };
  await inPage(page, `await client.register('web-bob', 'pw for bob, long'); await client.login('web-bob', 'pw for bob, long');`, persist);
  const stored = await page.evaluate(`new Promise((resolve, reject) => {
    const open = indexedDB.open('keyward-test');
    open.onerror = () => reject(open.error);
    open.onsuccess = () => {
      const all = open.result.transaction('sessions').objectStore('sessions').getAll();
      all.onsuccess = () => {
        const record = all.result[0];
        resolve({ extractable: record.key.extractable, type: record.key.type, keys: Object.keys(record).sort() });
        open.result.close();
      };
    };
  })`);
  t.deepEqual(stored, { extractable: false, type: 'secret', keys: ['bearer', 'expiresAt', 'key', 'username'] });

  await loadPage(page, true);
  const after = await inPage<Record<string, unknown>>(
    page,
    `
    const restored = await client.restore();
    const me = await client.fetch('/api/whoami');
    const out = { restored: restored?.username, status: me.status, user: (await me.json()).user };
    await client.logout();
    return out;
    `,
    persist,
  );
  t.deepEqual(after, { restored: 'web-bob', status: 200, user: 'web-bob' });

  await loadPage(page, true);
  t.deepEqual(await inPage(page, `return { restored: await client.restore() ?? null, loggedIn: client.loggedIn };`, persist), {
    restored: null,
    loggedIn: false,
  });
});

test('a wrong password and an unknown user are InvalidLoginError; a taken name is ERR_AUTH_USER_EXISTS; bad arguments are InvalidArgumentError', async (t) => {
  const page = await openPage(t);
  await inPage(page, `await client.register('web-carol', 'carol password ok');`);
  t.deepEqual(await inPage(page, `await client.login('web-carol', 'not her password');`), {
    thrown: { name: 'InvalidLoginError', code: 'ERR_OPAQUE_INVALID_LOGIN' },
  });
  t.deepEqual(await inPage(page, `await client.login('web-nobody', 'any password');`), {
    thrown: { name: 'InvalidLoginError', code: 'ERR_OPAQUE_INVALID_LOGIN' },
  });
  t.deepEqual(await inPage(page, `await client.register('web-carol', 'another password');`), { thrown: { name: 'AuthError', code: 'ERR_AUTH_USER_EXISTS' } });
  t.deepEqual(await inPage(page, `await client.login(42, 'x');`), { thrown: { name: 'InvalidArgumentError', code: 'ERR_INVALID_ARG_VALUE' } });
  t.deepEqual(
    await inPage(page, `await client.login('web-carol', 'carol password ok'); await client.fetch('/api/echo', { method: 'POST', body: { not: 'bytes' } });`),
    {
      thrown: { name: 'InvalidArgumentError', code: 'ERR_INVALID_ARG_VALUE' },
    },
  );
  t.deepEqual(await inPage(page, `return 'no throw';`, { baseUrl: 'ftp://example.com' }), {
    thrown: { name: 'InvalidArgumentError', code: 'ERR_INVALID_ARG_VALUE' },
  });
  // A client pinned to another server key refuses this server.
  t.deepEqual(await inPage(page, `await client.login('web-carol', 'carol password ok');`, { serverPublicKey: 'A'.repeat(43) }), {
    thrown: { name: 'InvalidLoginError', code: 'ERR_OPAQUE_INVALID_LOGIN' },
  });
});

test('a replayed request and a stolen bearer token are refused', async (t) => {
  const page = await openPage(t);
  const result = await inPage<Record<string, unknown>>(
    page,
    `
    await client.register('web-dave', 'dave password ok');
    await client.login('web-dave', 'dave password ok');
    const first = await client.fetch('/api/echo', { method: 'POST', body: 'pay once' });
    const last = sent[sent.length - 1];
    const replay = await fetch(last.url, last.init);
    const stolen = await fetch(api + '/api/whoami', { headers: { authorization: 'Bearer ' + client.bearerToken } });
    return { first: first.status, replay: [replay.status, (await replay.json()).error.code], stolen: [stolen.status, (await stolen.json()).error.code.startsWith('ERR_POP_')] };
    `,
  );
  t.deepEqual(result, { first: 200, replay: [401, 'ERR_POP_REPLAY'], stolen: [401, true] });
});

test('a clock ten minutes slow: the first signed request is refused as stale, the client retries once with the server time, later ones need no retry', async (t) => {
  const page = await openPage(t, 'const realNow = Date.now; Date.now = () => realNow() - 10 * 60 * 1000;');
  const result = await inPage<Record<string, unknown>>(
    page,
    `
    await client.register('web-erin', 'erin password ok');
    await client.login('web-erin', 'erin password ok');
    const before = sent.length;
    const first = await client.fetch('/api/whoami');
    const afterFirst = sent.length - before;
    const second = await client.fetch('/api/whoami');
    return { first: first.status, requestsForFirst: afterFirst, second: second.status, requestsForSecond: sent.length - before - afterFirst };
    `,
  );
  t.deepEqual(result, { first: 200, requestsForFirst: 2, second: 200, requestsForSecond: 1 });
});

test('a server that does not list the page origin is out of reach: CORS is what lets the page in', async (t) => {
  const other = await startServe(join(scratch, 'data-no-cors'), []);
  strayServe = other.child;
  t.teardown(() => other.child.kill('SIGTERM'));
  const page = await openPage(t);
  const result = await inPage(page, `await client.register('web-frank', 'frank password ok'); return 'reached';`, { baseUrl: other.url });
  // The browser refuses to hand over the answer: fetch rejects with a TypeError.
  t.deepEqual(result, { thrown: { name: 'TypeError', code: undefined } });
});

test('the built module imports nothing but @serenity-kit/opaque: no native code, no Node built-ins', (t) => {
  const code = readFileSync(join(scratch, 'web/index.mjs'), 'utf8');
  const imports = [...code.matchAll(/\b(?:import|export)\b[^'"]*?\bfrom\s*['"]([^'"]+)['"]|\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)/g)].map((m) => m[1] ?? m[2]);
  t.deepEqual([...new Set(imports)], ['@serenity-kit/opaque']);
  t.false(/\brequire\s*\(|node:|process\.|Buffer\b/.test(code));
});

test("the guide's login page (docs/web.md) as written: create an account, stay signed in across a reload, sign out, a wrong password", async (t) => {
  const context = await browser.newContext();
  t.teardown(() => context.close());
  const page = await context.newPage();
  await page.goto(`${pageOrigin}/guide`);
  const status = page.locator('#status');
  await page.fill('input[name=username]', 'guide-user');
  await page.fill('input[name=password]', 'guide password, long');
  await page.click('button[value=register]');
  await t.notThrowsAsync(status.filter({ hasText: 'Signed in as guide-user' }).waitFor());
  await page.reload();
  await t.notThrowsAsync(status.filter({ hasText: 'Signed in as guide-user' }).waitFor());
  t.true(await page.locator('#login').isHidden());
  await page.click('#logout');
  await t.notThrowsAsync(status.filter({ hasText: 'Signed out' }).waitFor());
  await page.reload();
  await page.waitForSelector('#login:not([hidden])');
  t.is(await status.textContent(), '');
  await page.fill('input[name=username]', 'guide-user');
  await page.fill('input[name=password]', 'not the password');
  await page.click('button[value=login]');
  await t.notThrowsAsync(status.filter({ hasText: 'Wrong username or password' }).waitFor());
});

test('changePassword from the browser: the old password stops working, the new one works', async (t) => {
  const page = await openPage(t);
  const result = await inPage<Record<string, unknown>>(
    page,
    `
    await client.register('web-gail', 'gail old password');
    await client.login('web-gail', 'gail old password');
    const out = {};
    try { await client.changePassword('not it', 'gail new password'); } catch (e) { out.wrongCurrent = e.code; }
    await client.changePassword('gail old password', 'gail new password');
    await client.logout();
    try { await client.login('web-gail', 'gail old password'); } catch (e) { out.oldPassword = e.code; }
    await client.login('web-gail', 'gail new password');
    out.me = (await (await client.fetch('/api/whoami')).json()).user;
    return out;
    `,
  );
  t.deepEqual(result, { wrongCurrent: 'ERR_OPAQUE_INVALID_LOGIN', oldPassword: 'ERR_OPAQUE_INVALID_LOGIN', me: 'web-gail' });
});

test('account calls from the browser: list sessions (with the browser user agent), log out everywhere, delete the account', async (t) => {
  const page = await openPage(t);
  const result = await inPage<Record<string, unknown>>(
    page,
    `
    await client.register('web-hal', 'hal password ok');
    await client.login('web-hal', 'hal password ok');
    const sessions = await client.listSessions();
    const out = { count: sessions.length, current: sessions[0].current, agent: sessions[0].userAgent.includes('Chrome') };
    await client.logoutEverywhere();
    out.afterEverywhere = client.loggedIn;
    await client.login('web-hal', 'hal password ok');
    await client.deleteAccount('hal password ok');
    try { await client.login('web-hal', 'hal password ok'); } catch (e) { out.afterDelete = e.code; }
    return out;
    `,
  );
  t.deepEqual(result, { count: 1, current: true, agent: true, afterEverywhere: false, afterDelete: 'ERR_OPAQUE_INVALID_LOGIN' });
});
