import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as realNode from '../../adapters/node/index.ts';
import * as nodeStub from '../../adapters/node/browser-stub.ts';
import * as realRedis from '../../adapters/redis/index.ts';
import * as redisStub from '../../adapters/redis/browser-stub.ts';
import { DrpcError } from '../../src/status.ts';

// Where `drpc/node` (or another entry) resolves with the given extra export conditions (a self-reference by package name).
function resolveNodeEntry(conditions: string[], entry = 'drpc/node'): string {
  const args = [...conditions.map((c) => `--conditions=${c}`), '--input-type=module', '-e', `console.log(import.meta.resolve('${entry}'))`];
  return execFileSync(process.execPath, args, { encoding: 'utf8' }).trim();
}

for (const [entry, real, stub, folder, what] of [
  ['drpc/node', realNode, nodeStub, 'node', 'the endpoint'],
  ['drpc/redis', realRedis, redisStub, 'redis', 'the broker'],
] as const)
  describe(`${entry} in a browser`, () => {
    it(`the stub has every runtime export of the Node entry, and each throws a clear Node-only error`, () => {
      assert.deepEqual(Object.keys(stub).sort(), Object.keys(real).sort());
      for (const [name, value] of Object.entries(stub)) {
        const use = () => (/^[A-Z]/.test(name) ? new (value as new () => unknown)() : (value as () => unknown)());
        assert.throws(use, (err: unknown) => err instanceof DrpcError && err.message.startsWith(`${entry} is Node only: `), name);
      }
    });

    it(`package.json exports send the browser condition to the stub's build and Node and Deno to ${what}'s`, () => {
      // dist/browser/<folder>.js is built from adapters/<folder>/browser-stub.ts (rollup.config.mjs).
      assert.match(resolveNodeEntry(['browser'], entry), new RegExp(`/dist/browser/${folder}\\.js$`));
      assert.match(resolveNodeEntry([], entry), new RegExp(`/dist/esm/${folder}\\.js$`));
      assert.match(resolveNodeEntry(['deno'], entry), new RegExp(`/dist/esm/${folder}\\.js$`));
    });
  });
