// `node scripts/with-services.mjs CMD ARGS…`: runs CMD with PostgreSQL and
// Redis started on loopback (scripts/services.mjs) and named in its
// environment, then stops them. Used by the CI workflow's Linux test jobs.
import { spawnSync } from 'node:child_process';
import { startServices } from './services.mjs';

const [cmd, ...args] = process.argv.slice(2);
const services = await startServices();
let status = 1;
try {
  status = spawnSync(cmd, args, { stdio: 'inherit', env: { ...process.env, ...services.env }, shell: process.platform === 'win32' }).status ?? 1;
} finally {
  await services.stop();
}
process.exit(status);
