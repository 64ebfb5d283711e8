/**
 * A Chromium for the browser tests: `KEYWARD_CHROMIUM` if set, else a system
 * Chromium or Chrome, else the one `playwright-core install chromium` put in
 * its cache (what the CI workflow does where no system browser is), else, on
 * a Debian machine as root, Debian's `chromium` installed now, as the test
 * command installs PostgreSQL and Redis. Nothing is downloaded from elsewhere.
 */

import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chromium } from 'playwright-core';

const candidates = [
  '/usr/lib/chromium/chromium', // Debian's binary (/usr/bin/chromium is a wrapper script)
  '/usr/bin/chromium',
  '/usr/bin/chromium-browser', // Alpine
  '/usr/bin/google-chrome',
  '/Applications/Google Chrome.app/Contents/MacOS/Google Chrome',
  'C:\\Program Files\\Google\\Chrome\\Application\\chrome.exe',
];

function found(): string | undefined {
  const fromEnv = process.env.KEYWARD_CHROMIUM;
  if (fromEnv) return fromEnv;
  const system = candidates.find((path) => existsSync(path));
  if (system !== undefined) return system;
  const bundled = chromium.executablePath();
  return existsSync(bundled) ? bundled : undefined;
}

export function chromiumPath(): string {
  const path = found();
  if (path !== undefined) return path;
  if (process.platform === 'linux' && process.getuid?.() === 0 && existsSync('/usr/bin/apt-get')) {
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
    execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', 'chromium'], { stdio: 'inherit', env });
    const installed = found();
    if (installed !== undefined) return installed;
  }
  throw new Error("no Chromium: install Debian's chromium (apt-get install chromium), run `npx playwright-core install chromium`, or set KEYWARD_CHROMIUM");
}

/** The flags every browser test runs Chromium with: no sandbox (root in CI), no GPU, no network of its own. */
export const chromiumArgs = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
