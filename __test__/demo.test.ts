/**
 * `npm run demo` as a user runs it (after the set-up that builds dist/): it
 * must finish with every step as expected. The demo starts `keyward serve`
 * and `keyward relay` from the build, so a broken build path fails here.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import test from 'ava';

const root = join(__dirname, '..');

test('the demo runs every step as expected', (t) => {
  t.timeout(180_000);
  const tsx = pathToFileURL(join(root, 'node_modules/tsx/dist/loader.mjs')).href;
  const run = spawnSync(process.execPath, ['--import', tsx, join(root, 'demo/auth-demo.ts')], { cwd: root, encoding: 'utf8', timeout: 170_000 });
  t.is(run.status, 0, `${run.stdout}\n${run.stderr}`);
  t.regex(run.stdout, /all steps turned out as expected/);
  t.notRegex(run.stdout, /✘/);
});
