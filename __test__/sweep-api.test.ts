/**
 * Hostile-input sweep of every entry point (issue 13). Every exported
 * function, constructor, static and instance method (found by enumeration,
 * __test__/support/sweep-targets.ts) is called with wrong types, odd
 * buffers, throwing proxies and getters, edge numbers and bad option bags,
 * and every reader with cut, extended and bit-flipped serializations, in
 * child processes (__test__/support/sweep-harness.ts), so that an abort, a
 * signal or a hang is a result rather than the end of the run.
 *
 * Asserted for every case: no crash, no hang, no secret argument echoed in a
 * message, and the valid call of each recipe succeeds. Asserted for every
 * target except the known findings below: each outcome is a return or a
 * `KeywardError` with a string `code` (or our own trap's error, which a
 * caller's throwing getter may propagate as it is).
 *
 * The relay's groups run a real relay; its PgRelayStore and RedisPresence
 * groups need PostgreSQL and Redis and run as a test of their own, titled
 * `postgres+redis: …` like the other tests that need them (CI runs those on
 * Linux, where it installs both): run this file through
 * `node scripts/with-services.mjs npx ava …` (npm test does).
 */
import test, { type ExecutionContext } from 'ava';
import type { CaseResult } from './support/sweep-child';
import { runGroups } from './support/sweep-harness';
import { factoryRecipes, instances, notInstantiated, recipes } from './support/sweep-recipes';
import { enumerate, isErrorClass } from './support/sweep-targets';

/**
 * Targets whose outcomes are not held to the typed-error rule, and why. Not
 * a to-do list that makes the test fail when fixed: each is a finding the
 * sweep reported (see the report of issue 13), kept out of the assertion set
 * until the file that owns it is changed.
 */
const knownFindings: Record<string, string> = {
  // Framework callback, called by body-parser and Express with their own objects.
  'express:keywardJson': 'deprecated; a bad limit is body-parser\'s TypeError "option limit … is invalid"',
};

/** TypeScript-private or `@internal` constructors: typed code cannot call them. */
const internal = new Set([
  'index:new SecretKey',
  'index:new PopKey',
  'index:PopKey.wrap',
  'index:new IdentityKey',
  'index:new ServerSetup',
  'index:new Session',
  'index:new PreKeySet',
  'index:fromNative',
  'relay:new RelayKey',
  'relay:new RelayConnection',
  'relay:new Messenger',
  'relay:new RedisPresence',
]);

/** Documented plain errors: `TypeError` for a non-service, as their TSDoc says. */
const documented: Record<string, string[]> = {
  'express:requirePop': ['TypeError'],
  'express:keywardRouter': ['TypeError'],
  'index:new SqliteStore': ['TypeError'],
  'fastify:keywardAuth': ['TypeError'],
  // Node's own listen error once the options are valid (EADDRINUSE; ENOTFOUND for a host name that does not resolve), as its TSDoc says.
  'relay:createRelayServer().listen': ['Error'],
};

const targets = enumerate();
const errorClasses = new Set(targets.filter(isErrorClass).map((t) => t.id));

function typedOutcome(r: CaseResult): boolean {
  if (r.outcome === 'return') return true;
  if (r.outcome !== 'throw') return false;
  if (r.keyward && typeof r.code === 'string') return true;
  if (r.trap && r.errName === 'HostileTrapError') return true;
  return (documented[r.id] ?? []).includes(r.errName ?? '');
}

test('every class of every entry point has a recipe for a valid instance', (t) => {
  const classes = new Set(targets.filter((x) => x.kind === 'method' || x.kind === 'getter').map((x) => x.className!));
  const missing = [...classes].filter((c) => !(c in instances) && !(c in notInstantiated));
  t.deepEqual(missing, [], 'add an instance recipe in __test__/support/sweep-recipes.ts');
  const stale = Object.keys({ ...recipes, ...factoryRecipes() }).filter((id) => !targets.some((x) => x.id === id) && !/\(\)\./.test(id));
  t.deepEqual(stale, [], 'recipes for targets that no longer exist');
});

/** The groups that need PostgreSQL and Redis (see the header). */
const SERVICE_GROUPS = new Set(['relay:PgRelayStore', 'relay:RedisPresence']);

async function sweep(t: ExecutionContext, groups: string[], minimum: number) {
  const runs = await runGroups(groups, 2);
  const all: CaseResult[] = [];
  const fatal: string[] = [];
  for (const [group, run] of runs) {
    if (run.fatal !== undefined) fatal.push(`${group}: ${run.fatal.slice(0, 400)}`);
    all.push(...run.results);
  }
  t.deepEqual(fatal, [], 'a child failed outside any case');
  t.true(all.length > minimum, `only ${all.length} cases ran`);
  // A crash keeps the end of the child's stderr (the abort's reason, a stack): room for it.
  const show = (r: CaseResult) =>
    `${r.id} [${r.case}] → ${r.outcome} ${r.errName ?? ''} ${r.code ?? ''} ${r.message ?? ''}`.slice(0, r.outcome === 'crash' ? 1200 : 300);

  t.deepEqual(all.filter((r) => r.outcome === 'crash' || r.outcome === 'hang').map(show), [], 'aborts, signals and hangs');
  t.deepEqual(all.filter((r) => r.leaked).map(show), [], 'messages that echo a secret argument');
  t.deepEqual(all.filter((r) => r.errName === 'RecipeError').map(show), [], 'recipes that could not build their arguments');
  t.deepEqual(
    all.filter((r) => r.baseline && !internal.has(r.id) && !(r.outcome === 'return' || (r.refused && r.keyward))).map(show),
    [],
    'the valid call of a recipe must succeed',
  );
  const held = all.filter((r) => !(r.id in knownFindings) && !internal.has(r.id) && !errorClasses.has(r.id));
  t.deepEqual(held.filter((r) => !typedOutcome(r)).map(show), [], 'outcomes that are not a return or a typed KeywardError');
}

const groups = [...new Set(targets.map((x) => x.group))];

test('hostile arguments: no crash, no hang, no leaked secret, typed errors', async (t) => {
  await sweep(
    t,
    groups.filter((g) => !SERVICE_GROUPS.has(g)),
    10_000,
  );
});

test('postgres+redis: hostile arguments to PgRelayStore and RedisPresence: no crash, no hang, no leaked secret, typed errors', async (t) => {
  t.deepEqual(
    [...SERVICE_GROUPS].filter((g) => !groups.includes(g)),
    [],
    'every service group is a group of the sweep',
  );
  await sweep(t, [...SERVICE_GROUPS], 500);
});
