import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as real from '../../adapters/node/index.ts';
import * as stub from '../../adapters/node/browser-stub.ts';
import * as realRedis from '../../adapters/redis/index.ts';
import * as redisStub from '../../adapters/redis/browser-stub.ts';
import { DrpcError } from '../../src/status.ts';

// Where `drpc/node` (or another entry) resolves with the given extra export conditions (a self-reference by package name).
function resolveNodeEntry(conditions: string[], entry = 'drpc/node'): string {
  const args = [...conditions.map((c) => `--conditions=${c}`), '--input-type=module', '-e', `console.log(import.meta.resolve('${entry}'))`];
  return execFileSync(process.execPath, args, { encoding: 'utf8' }).trim();
}

describe('drpc/node in a browser', () => {
  it('the stub has every runtime export of the Node entry, and each throws a clear Node-only error', () => {
    assert.deepEqual(Object.keys(stub).sort(), Object.keys(real).sort());
    for (const [name, value] of Object.entries(stub)) {
      const use = () => (/^[A-Z]/.test(name) ? new (value as new () => unknown)() : (value as () => unknown)());
      assert.throws(use, (err: unknown) => err instanceof DrpcError && err.message.startsWith('drpc/node is Node only: '), name);
    }
  });

  it('package.json exports send the browser condition to the stub and Node to the endpoint', () => {
    assert.match(resolveNodeEntry(['browser']), /\/adapters\/node\/browser-stub\.ts$/);
    assert.match(resolveNodeEntry([]), /\/adapters\/node\/index\.ts$/);
  });
});

describe('drpc/redis in a browser', () => {
  it('the stub has every runtime export of the Redis entry, and each throws a clear Node-only error', () => {
    assert.deepEqual(Object.keys(redisStub).sort(), Object.keys(realRedis).sort());
    for (const [name, value] of Object.entries(redisStub)) {
      const use = () => (/^[A-Z]/.test(name) ? new (value as new () => unknown)() : (value as () => unknown)());
      assert.throws(use, (err: unknown) => err instanceof DrpcError && err.message.startsWith('drpc/redis is Node only: '), name);
    }
  });

  it('package.json exports send the browser condition to the stub and Node to the broker', () => {
    assert.match(resolveNodeEntry(['browser'], 'drpc/redis'), /\/adapters\/redis\/browser-stub\.ts$/);
    assert.match(resolveNodeEntry([], 'drpc/redis'), /\/adapters\/redis\/index\.ts$/);
  });
});
