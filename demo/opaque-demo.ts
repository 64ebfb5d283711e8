/**
 * `npm run demo`: an OPAQUE registration and login between a client and a
 * server over a small HTTP exchange on loopback, printing each step, then a
 * wrong password and an unknown user, both refused.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  InvalidLoginError,
  OpaqueClient,
  OpaqueServer,
  ServerSetup,
  decodeBase64Url as unb64,
  encodeBase64Url as b64,
  type ServerLoginState,
  type ServerRegistration,
} from '../src/index';

const say = (who: string, msg: string) => console.log(`${who.padEnd(7)} ${msg}`);
const short = (s: string) => (s.length > 24 ? `${s.slice(0, 24)}… (${Math.floor((s.length * 3) / 4)} bytes)` : s);

// ---- the server: keeps password files and pending login states in memory ----
const setup = ServerSetup.generate();
const opaque = new OpaqueServer(setup);
const passwordFiles = new Map<string, ServerRegistration>();
const pendingLogins = new Map<string, { user: string; state: ServerLoginState }>();

async function body(req: IncomingMessage): Promise<Record<string, string>> {
  let text = '';
  for await (const chunk of req) text += chunk;
  return JSON.parse(text);
}

function reply(res: ServerResponse, status: number, data: object) {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(data));
}

const routes: Record<string, (b: Record<string, string>) => [number, object]> = {
  '/register/start': (b) => {
    if (passwordFiles.has(b.user)) return [409, { error: 'user exists' }];
    return [200, { response: b64(opaque.startRegistration(unb64(b.request), b.user)) }];
  },
  '/register/finish': (b) => {
    passwordFiles.set(b.user, opaque.finishRegistration(unb64(b.upload)));
    say('server', `stored the password file for ${b.user} (the server never saw the password)`);
    return [201, {}];
  },
  '/login/start': (b) => {
    // Unknown users get a fake-record answer of the same shape: no enumeration.
    const { response, state } = opaque.startLogin(passwordFiles.get(b.user) ?? null, unb64(b.request), b.user);
    const loginId = randomUUID();
    pendingLogins.set(loginId, { user: b.user, state });
    return [200, { loginId, response: b64(response) }];
  },
  '/login/finish': (b) => {
    const pending = pendingLogins.get(b.loginId);
    pendingLogins.delete(b.loginId);
    if (!pending) return [401, { error: 'no such login' }];
    try {
      const { sessionKey } = opaque.finishLogin(pending.state, unb64(b.finalization));
      say('server', `${pending.user} proved the password; session key ${short(b64(sessionKey))}`);
      return [200, { ok: true }];
    } catch (error) {
      if (error instanceof InvalidLoginError) return [401, { error: error.code }];
      throw error;
    }
  },
};

const server = createServer(async (req, res) => {
  const route = routes[req.url ?? ''];
  if (req.method !== 'POST' || !route) return reply(res, 404, { error: 'not found' });
  try {
    const [status, data] = route(await body(req));
    reply(res, status, data);
  } catch (error) {
    reply(res, 400, { error: (error as { code?: string }).code ?? 'bad request' });
  }
});

// ---- the client ----
async function main() {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const post = async (path: string, data: object) => {
    const res = await fetch(base + path, { method: 'POST', body: JSON.stringify(data) });
    return { status: res.status, body: (await res.json()) as Record<string, string> };
  };
  // The client pins the server's public key, learned out of band.
  const client = new OpaqueClient({ serverPublicKey: setup.publicKey });
  say('setup', `server listening on ${base}, suite ${setup.suite}, public key ${short(b64(setup.publicKey))}`);

  const user = 'alice';
  const password = 'correct horse battery staple';
  console.log('\n-- registration --');
  const reg = client.startRegistration(password);
  say('client', `registration request ${short(b64(reg.request))}`);
  const r1 = await post('/register/start', { user, request: b64(reg.request) });
  say('client', `registration response ${short(r1.body.response)}; stretching the password with Argon2id…`);
  const done = await client.finishRegistration(reg.state, password, unb64(r1.body.response));
  await post('/register/finish', { user, upload: b64(done.upload) });
  say('client', `registered; export key ${short(b64(done.exportKey))} (only the client can derive it)`);

  async function attempt(who: string, pw: string) {
    const start = client.startLogin(pw);
    const s = await post('/login/start', { user: who, request: b64(start.request) });
    say('client', `login response for ${who}: ${short(s.body.response)}`);
    try {
      const fin = await client.finishLogin(start.state, pw, unb64(s.body.response));
      const f = await post('/login/finish', { loginId: s.body.loginId, finalization: b64(fin.finalization) });
      say('client', `logged in (HTTP ${f.status}); session key ${short(b64(fin.sessionKey))}`);
      return true;
    } catch (error) {
      if (!(error instanceof InvalidLoginError)) throw error;
      say('client', `login refused: ${error.name} (${error.code})`);
      return false;
    }
  }

  console.log('\n-- login with the right password --');
  const ok = await attempt(user, password);
  console.log('\n-- login with a wrong password --');
  const wrong = await attempt(user, 'Tr0ub4dor&3');
  console.log('\n-- login as an unknown user (same-shaped answer from a fake record) --');
  const unknown = await attempt('mallory', password);

  server.close();
  setup.dispose();
  const expected = ok && !wrong && !unknown;
  console.log(`\n${expected ? 'demo complete: right password accepted, wrong password and unknown user refused' : 'demo FAILED'}`);
  process.exitCode = expected ? 0 : 1;
}

main().catch((error) => {
  console.error(error);
  server.close();
  process.exitCode = 1;
});
