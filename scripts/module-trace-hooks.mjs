// Module hooks for a traced child process (test/integration/cli.test.ts; here, not in test/, because it is plain JS run by that child): every module URL the process
// resolves is appended to the file named by OEP_TRACE_FILE. Registered with
// `node --import data:text/javascript,…register(<this file>)`; the hooks run only in that process, not in
// a child it spawns.
import { appendFileSync } from 'node:fs';

export async function resolve(specifier, context, next) {
  const r = await next(specifier, context);
  if (process.env.OEP_TRACE_FILE) appendFileSync(process.env.OEP_TRACE_FILE, r.url + '\n');
  return r;
}
