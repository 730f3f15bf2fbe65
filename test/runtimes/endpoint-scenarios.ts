/**
 * Starts the Node endpoint (adapters/node: createEndpoint + listen on 127.0.0.1) with the scenario
 * routes in whatever runtime loads this file, prints `{ runtime, url, msgpack }` as one JSON line, and
 * serves until its standard input closes; then it closes the endpoint, prints `{ closed: true, errors }`
 * and ends. Startup failures print `{ fatal }` and exit 1.
 *
 *   node_modules/.bin/deno run --allow-net=127.0.0.1 --allow-read --allow-env test/runtimes/endpoint-scenarios.ts
 *   node_modules/.bin/bun test/runtimes/endpoint-scenarios.ts
 */
import process from 'node:process';
import { runtimeName } from './contract.ts';
import { serveScenarios } from './serve.ts';

const line = (v: unknown) => console.log(JSON.stringify(v));
const fail = (what: string) => (err: unknown) => line({ [what]: String((err as Error)?.stack ?? err) });
process.on('uncaughtException', fail('uncaught'));
process.on('unhandledRejection', fail('unhandled'));

try {
  const served = await serveScenarios();
  line({ runtime: runtimeName(), url: served.url, msgpack: served.msgpack });
  process.stdin.resume();
  process.stdin.on('end', async () => {
    await served.ep.close({ drain: 0 });
    line({ closed: true, errors: served.errors });
    process.exit(0);
  });
} catch (err) {
  fail('fatal')(err);
  process.exit(1);
}
