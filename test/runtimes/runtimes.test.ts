/**
 * The client under Deno and Bun (their npm packages, node_modules/.bin) against a Node endpoint, and
 * the Node endpoint (adapters/node) inside Deno and Bun against a Node client. Each scenario of
 * ./scenarios.ts is its own test per runtime; a runtime that does not start fails them all with its
 * stderr. Runtimes run one at a time (2-core machines) and every child is killed after a deadline.
 *
 *   node --import tsx --test test/runtimes/runtimes.test.ts
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, describe, test } from 'node:test';
import { SCENARIOS, type ScenarioResult } from './contract.ts';
import { runScenarios } from './scenarios.ts';
import { serveScenarios, type Served } from './serve.ts';
import { BIN, Child } from './child.ts';

const CLIENT = 'test/runtimes/client-scenarios.ts';
const ENDPOINT = 'test/runtimes/endpoint-scenarios.ts';
// Deadlines: the scenarios give themselves 10 s in all (they take well under 1 s), so a child reports
// every result before it is killed. Worst case for the whole file ≈ 2 × 13 s + 2 × (6 + 10 + 3) s.
const CHILD_DEADLINE = 13_000; // ms a runtime may take to run the client scenarios and exit
const START_DEADLINE = 6_000; // ms an endpoint child has to print its URL
const CLOSE_DEADLINE = 3_000; // ms an endpoint child has to close and exit once its stdin ends

/** Runs `fn` once, when a test first asks. Suites run one after another, so runtimes never overlap. */
function once<T>(fn: () => Promise<T>): () => Promise<T> {
  let p: Promise<T> | undefined;
  return () => (p ??= fn());
}

function results(lines: readonly object[]): Map<string, ScenarioResult> {
  return new Map(lines.filter((l): l is ScenarioResult => typeof (l as { name?: unknown }).name === 'string').map((l) => [l.name, l]));
}

for (const runtime of ['deno', 'bun'] as const) {
  describe(`${runtime}: the client (src/) against a Node endpoint`, { timeout: 30_000 }, () => {
    let served: Served | undefined;
    after(() => served?.ep.close({ drain: 0 }));
    const run = once(async () => {
      assert.ok(existsSync(`${BIN}${runtime}`), `${BIN}${runtime} is missing: npm install`);
      served = await serveScenarios();
      const child = new Child(runtime, CLIENT, [served.url]);
      const exit = await child.end(CHILD_DEADLINE);
      return {
        served,
        child,
        exit,
        byName: results(child.lines),
        version: child.lines.find((l) => typeof l.runtime === 'string')?.runtime,
      };
    });

    for (const name of SCENARIOS) {
      test(`${runtime} client: ${name}`, async () => {
        const { child, byName, version } = await run();
        const r = byName.get(name);
        assert.ok(r, `${runtime} printed no result for this scenario\n${child.describe()}`);
        assert.ok(r.ok, `${version}: ${r.error}`);
      });
    }

    test(`${runtime} client: the runtime exits by itself once its clients are closed; the endpoint keeps no session`, async () => {
      const { served, child, exit } = await run();
      assert.ok(!exit.killed, `${runtime} was still running after ${CHILD_DEADLINE} ms and was killed\n${child.describe()}`);
      assert.equal(exit.code, 0, child.describe());
      const deadline = Date.now() + 3000;
      while (served.ep.sessions.count > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      assert.equal(served.ep.sessions.count, 0, 'sessions left on the endpoint');
      assert.deepEqual(served.errors, [], 'errors the endpoint reported');
    });
  });
}

for (const runtime of ['deno', 'bun'] as const) {
  describe(`${runtime}: the Node endpoint (adapters/node) inside ${runtime}, a Node client`, { timeout: 30_000 }, () => {
    const run = once(async () => {
      assert.ok(existsSync(`${BIN}${runtime}`), `${BIN}${runtime} is missing: npm install`);
      const child = new Child(runtime, ENDPOINT);
      try {
        const ready = await child.line((l) => typeof l.url === 'string' || 'fatal' in l, START_DEADLINE);
        if (typeof ready?.url !== 'string') return { child, ready, byName: new Map<string, ScenarioResult>(), stop: await child.end(1000) };
        const byName = results(await runScenarios(ready.url, () => {}));
        child.proc.stdin!.end(); // the script closes its endpoint and exits
        const closed = await child.line((l) => 'closed' in l, CLOSE_DEADLINE);
        return { child, ready, byName, closed, stop: await child.end(CLOSE_DEADLINE) };
      } catch (err) {
        child.proc.kill('SIGKILL');
        throw err;
      }
    });

    test(`${runtime} endpoint: createEndpoint().listen() starts inside ${runtime}`, async () => {
      const { child, ready } = await run();
      assert.ok(typeof ready?.url === 'string', `no URL from the endpoint inside ${runtime}\n${child.describe()}`);
    });

    for (const name of SCENARIOS) {
      test(`${runtime} endpoint: ${name}`, async () => {
        const { child, ready, byName } = await run();
        const r = byName.get(name);
        assert.ok(r, `not run: the endpoint did not start\n${child.describe()}`);
        assert.ok(r.ok, `endpoint in ${ready?.runtime}: ${r.error}\n${child.describe()}`);
      });
    }

    test(`${runtime} endpoint: closes cleanly on request and reported no errors`, async () => {
      const { child, closed, stop } = await run();
      assert.ok(closed, `no { closed } line\n${child.describe()}`);
      assert.deepEqual(closed.errors, [], 'errors the endpoint reported');
      assert.ok(!stop.killed && stop.code === 0, child.describe());
    });
  });
}
