import type { AddressInfo } from 'node:net';
import test from 'ava';
import express from 'express';
import { keywardErrorHandler, keywardRouter, requirePop } from '../src/express/index';
import { createAuthService, MemoryStore, SecretKey, ServerSetup } from '../src/index';
import { popOverHttp } from './support/http-attacks';

async function server() {
  const setup = ServerSetup.generate();
  const service = createAuthService({ serverSetup: setup, store: new MemoryStore(), sealKey: SecretKey.generate() });
  const app = express();
  app.use(keywardRouter({ service, bodyLimit: 4096 }));
  app.post('/api/transfer', requirePop(service), (req, res) => void res.json({ user: req.auth!.username, body: req.body }));
  app.use(keywardErrorHandler());
  const listener = await new Promise<ReturnType<typeof app.listen>>((resolve) => {
    const l = app.listen(0, '127.0.0.1', () => resolve(l));
  });
  const { port } = listener.address() as AddressInfo;
  return { setup, baseUrl: `http://127.0.0.1:${port}`, close: () => new Promise((r) => listener.close(r)) };
}

test('express: register, log in, signed request, every PoP failure over real HTTP, logout', async (t) => {
  const { setup, baseUrl, close } = await server();
  t.teardown(close);
  await popOverHttp(t, baseUrl, setup.publicKey);
});

test('express: bodies are validated and capped', async (t) => {
  const { baseUrl, close } = await server();
  t.teardown(close);
  const post = (body: string) => fetch(`${baseUrl}/login/start`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  t.is((await post(JSON.stringify({ username: 'a' }))).status, 400);
  t.is((await post('{not json')).status, 400);
  t.is((await post(JSON.stringify({ username: 'a', request: 'A'.repeat(5000) }))).status, 413);
  t.is((await post(JSON.stringify({ username: 'a', request: 'AAAA', extra: 1 }))).status, 400);
  t.is((await post(JSON.stringify({ username: 'a', request: 'AAAA' }))).status, 401);
});
