/**
 * `npm run bench:opaque`: keyward against `@serenity-kit/opaque` (WASM) in one
 * process. It first checks that the two interoperate and agree on keys, then
 * prints medians and ratios as a Markdown table. Not a test: numbers vary
 * with the machine; quote ratios from one run.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import * as serenityR255 from '@serenity-kit/opaque';
import * as serenityP256 from '@serenity-kit/opaque-p256';
import { decodeBase64Url, type KeyStretching, OpaqueClient, OpaqueServer, ServerRegistration, ServerSetup, type Suite } from '../src/index';
import * as keywardR255 from '../src/serenity/index';
import { median, type Row, table } from './harness';

type SerenityApi = typeof serenityR255;
const minimal = { iterations: 1, memory: 8, parallelism: 1 };

function assert(ok: boolean, what: string): void {
  if (!ok) throw new Error(`bench precondition failed: ${what}`);
}

/** keyward server + serenity client and the reverse must agree before anything is timed. */
async function checkAgreement() {
  for (const [register, loginWith] of [
    [serenityR255, keywardR255],
    [keywardR255, serenityR255],
  ] as const) {
    const serverSetup = register.server.createSetup();
    const r1 = register.client.startRegistration({ password: 'pw' });
    const { registrationResponse } = register.server.createRegistrationResponse({
      serverSetup,
      userIdentifier: 'u',
      registrationRequest: r1.registrationRequest,
    });
    const r2 = register.client.finishRegistration({ clientRegistrationState: r1.clientRegistrationState, registrationResponse, password: 'pw' });
    const l1 = loginWith.client.startLogin({ password: 'pw' });
    const s1 = loginWith.server.startLogin({
      serverSetup,
      userIdentifier: 'u',
      registrationRecord: r2.registrationRecord,
      startLoginRequest: l1.startLoginRequest,
    });
    const l2 = loginWith.client.finishLogin({ clientLoginState: l1.clientLoginState, loginResponse: s1.loginResponse, password: 'pw' });
    assert(l2 !== undefined, 'login across implementations');
    const s2 = loginWith.server.finishLogin({ serverLoginState: s1.serverLoginState, finishLoginRequest: l2!.finishLoginRequest });
    assert(s2.sessionKey === l2!.sessionKey && l2!.exportKey === r2.exportKey, 'equal session and export keys');
  }
}

/** A registered user on both implementations, for the server-side timings. */
function fixtures(suite: Suite, serenity: SerenityApi) {
  const serenitySetup = serenity.server.createSetup();
  const r1 = serenity.client.startRegistration({ password: 'pw' });
  const { registrationResponse } = serenity.server.createRegistrationResponse({
    serverSetup: serenitySetup,
    userIdentifier: 'u',
    registrationRequest: r1.registrationRequest,
  });
  const record = serenity.client.finishRegistration({
    clientRegistrationState: r1.clientRegistrationState,
    registrationResponse,
    password: 'pw',
    keyStretching: { 'argon2id-custom': minimal },
  }).registrationRecord;
  const startLoginRequest = serenity.client.startLogin({ password: 'pw' }).startLoginRequest;
  // keyward serves the very same setup and record bytes.
  const server = new OpaqueServer(ServerSetup.fromRaw(suite, decodeBase64Url(serenitySetup)));
  const recordBytes = ServerRegistration.fromRaw(suite, decodeBase64Url(record)).serialize();
  return { serenitySetup, record, startLoginRequest, server, recordBytes, request: decodeBase64Url(startLoginRequest) };
}

async function serverStartLogin(suite: Suite, serenity: SerenityApi, label: string): Promise<Row> {
  const f = fixtures(suite, serenity);
  // keyward's timing includes reading the stored record and copying the state out.
  const keyward = await median(
    () => {
      const { response, state } = f.server.startLogin(ServerRegistration.deserialize(f.recordBytes), f.request, 'u');
      state.serialize();
      return response;
    },
    31,
    40,
  );
  const anchor = await median(
    () =>
      serenity.server.startLogin({ serverSetup: f.serenitySetup, userIdentifier: 'u', registrationRecord: f.record, startLoginRequest: f.startLoginRequest }),
    31,
    10,
  );
  return { name: `server startLogin, ${label}`, keyward, anchor, unit: 'µs', target: '≥ 5×' };
}

/** Sync twins, as serenity's calls are synchronous; the async forms add a thread-pool hop each. */
function fullFlowKeyward(ks: KeyStretching) {
  const setup = ServerSetup.generate();
  const server = new OpaqueServer(setup);
  const client = new OpaqueClient({ keyStretching: ks });
  return () => {
    const reg = client.startRegistration('pw');
    const done = client.finishRegistrationSync(reg.state, 'pw', server.startRegistration(reg.request, 'u'));
    const record = server.finishRegistration(done.upload);
    const start = client.startLogin('pw');
    const s = server.startLogin(record, start.request, 'u');
    const fin = client.finishLoginSync(start.state, 'pw', s.response);
    server.finishLogin(s.state, fin.finalization);
  };
}

function fullFlowSerenity(serenity: SerenityApi) {
  const serverSetup = serenity.server.createSetup();
  const keyStretching = { 'argon2id-custom': minimal } as const;
  return () => {
    const r1 = serenity.client.startRegistration({ password: 'pw' });
    const { registrationResponse } = serenity.server.createRegistrationResponse({
      serverSetup,
      userIdentifier: 'u',
      registrationRequest: r1.registrationRequest,
    });
    const r2 = serenity.client.finishRegistration({ clientRegistrationState: r1.clientRegistrationState, registrationResponse, password: 'pw', keyStretching });
    const l1 = serenity.client.startLogin({ password: 'pw' });
    const s1 = serenity.server.startLogin({
      serverSetup,
      userIdentifier: 'u',
      registrationRecord: r2.registrationRecord,
      startLoginRequest: l1.startLoginRequest,
    });
    const l2 = serenity.client.finishLogin({ clientLoginState: l1.clientLoginState, loginResponse: s1.loginResponse, password: 'pw', keyStretching });
    serenity.server.finishLogin({ serverLoginState: s1.serverLoginState, finishLoginRequest: l2!.finishLoginRequest });
  };
}

/** One client finishLogin with the default preset; a fresh login state each call. */
async function finishLoginMemoryConstrained(): Promise<Row> {
  const serverSetup = serenityR255.server.createSetup();
  const r1 = serenityR255.client.startRegistration({ password: 'pw' });
  const { registrationResponse } = serenityR255.server.createRegistrationResponse({
    serverSetup,
    userIdentifier: 'u',
    registrationRequest: r1.registrationRequest,
  });
  const { registrationRecord } = serenityR255.client.finishRegistration({
    clientRegistrationState: r1.clientRegistrationState,
    registrationResponse,
    password: 'pw',
  });
  const server = new OpaqueServer(ServerSetup.fromRaw('ristretto255_sha512', decodeBase64Url(serverSetup)));
  const record = ServerRegistration.fromRaw('ristretto255_sha512', decodeBase64Url(registrationRecord));
  const client = new OpaqueClient();

  const keyward = await median(async () => {
    const start = client.startLogin('pw');
    const { response } = server.startLogin(record, start.request, 'u');
    return client.finishLogin(start.state, 'pw', response);
  }, 15);
  const anchor = await median(() => {
    const l1 = serenityR255.client.startLogin({ password: 'pw' });
    const s1 = serenityR255.server.startLogin({ serverSetup, userIdentifier: 'u', registrationRecord, startLoginRequest: l1.startLoginRequest });
    return serenityR255.client.finishLogin({ clientLoginState: l1.clientLoginState, loginResponse: s1.loginResponse, password: 'pw' });
  }, 15);
  return { name: 'client finishLogin, memory-constrained (incl. startLogin both sides)', keyward, anchor, unit: 'µs', target: '≥ 3×' };
}

/** Max event-loop delay while 8 async finishLogin calls run; serenity has no async form. */
async function eventLoopDelay(): Promise<number> {
  const setup = ServerSetup.generate();
  const server = new OpaqueServer(setup);
  const client = new OpaqueClient();
  const reg = client.startRegistration('pw');
  const done = await client.finishRegistration(reg.state, 'pw', server.startRegistration(reg.request, 'u'));
  const record = server.finishRegistration(done.upload);
  const starts = Array.from({ length: 8 }, () => {
    const start = client.startLogin('pw');
    return { start, response: server.startLogin(record, start.request, 'u').response };
  });
  const histogram = monitorEventLoopDelay({ resolution: 1 });
  histogram.enable();
  const ticker = setInterval(() => {}, 1);
  await Promise.all(starts.map(({ start, response }) => client.finishLogin(start.state, 'pw', response)));
  clearInterval(ticker);
  histogram.disable();
  return histogram.max / 1e6;
}

async function main() {
  await Promise.all([serenityR255.ready, serenityP256.ready]);
  await checkAgreement();
  console.log('agreement: keyward and @serenity-kit/opaque interoperate both ways with equal keys\n');

  const rows: Row[] = [];
  rows.push(await serverStartLogin('ristretto255_sha512', serenityR255, 'ristretto255'));
  rows.push(await serverStartLogin('p256_sha256', serenityP256 as unknown as SerenityApi, 'P-256'));
  rows.push({
    name: 'registration + login, minimal Argon2id (t=1, m=8 KiB)',
    keyward: await median(fullFlowKeyward(minimal), 21, 5),
    anchor: await median(fullFlowSerenity(serenityR255), 21, 2),
    unit: 'µs',
    target: '≥ 5×',
  });
  rows.push(await finishLoginMemoryConstrained());
  console.log(table('operation (median per call)', '@serenity-kit/opaque 1.1', rows));
  const delay = await eventLoopDelay();
  console.log(`\nevent-loop delay, max, while 8 async finishLogin (memory-constrained) run: ${delay.toFixed(1)} ms (target < 10 ms)`);
  console.log(`\n${new Date().toISOString().slice(0, 10)}, node ${process.version}, ${process.platform}-${process.arch}, \`npm run bench:opaque\``);
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
