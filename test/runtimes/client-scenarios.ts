/**
 * Runs the client scenarios (./scenarios.ts) in whatever runtime loads this file, against the endpoint
 * URL given as the first argument or in DRPC_URL, and prints one JSON line per scenario:
 * `{ name, ok, error?, ms }` (first a `{ runtime }` line). Exit code 0 when every scenario passed.
 *
 *   node_modules/.bin/deno run --allow-net=127.0.0.1 --allow-read --allow-env test/runtimes/client-scenarios.ts ws://127.0.0.1:PORT/rpc
 *   node_modules/.bin/bun test/runtimes/client-scenarios.ts ws://127.0.0.1:PORT/rpc
 *
 * Nothing here forces an exit: the process ends when the clients are closed, so a runtime that keeps
 * a timer or a socket alive after close() shows up as a timeout in runtimes.test.ts.
 */
import process from 'node:process';
import { runtimeName } from './contract.ts';
import { runScenarios } from './scenarios.ts';

const url = process.argv[2] ?? process.env.DRPC_URL;
const line = (v: unknown) => console.log(JSON.stringify(v));

if (!url) {
  line({ fatal: 'usage: client-scenarios.ts <ws://host:port/path> (or DRPC_URL)' });
  process.exitCode = 2;
} else {
  line({ runtime: runtimeName() });
  try {
    const results = await runScenarios(url, line);
    process.exitCode = results.every((r) => r.ok) ? 0 : 1;
  } catch (err) {
    line({ fatal: String((err as Error)?.stack ?? err) });
    process.exitCode = 1;
  }
}
