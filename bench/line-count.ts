/**
 * The baseline of `oep process`: a plain line-by-line read of a file (node:readline over a read stream,
 * counting lines), in a process of its own, as `oep process` runs in one. Prints the count. What a user would
 * write, left so: it reads through the thread pool (a handoff per 64 KB), which makes its wall time follow the
 * machine's load far more than `oep process`'s synchronous reads do (process-bench.ts says how it is measured).
 * Usage: node line-count.js <file>
 */
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';

const file = process.argv[2];
if (file === undefined) throw new Error('usage: line-count.js <file>');
const rl = createInterface({ input: createReadStream(file, { encoding: 'latin1' }), crlfDelay: Infinity });
let n = 0;
for await (const _line of rl) n++;
process.stdout.write(`${n}\n`);
