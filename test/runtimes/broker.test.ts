/**
 * The Redis broker (drpc/redis, on ioredis) inside Deno and Bun: a node of a brokered cluster runs in
 * the runtime (broker-node.ts), a Node node beside it shares a real redis-server, and Node clients on
 * both check what crosses between them: topic messages and offsets both ways, a push and a server →
 * client call to a session id the other node holds, presence, and a clean close.
 *
 *   node --import tsx --test test/runtimes/broker.test.ts
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { createEndpoint } from '../../adapters/node/endpoint.ts';
import { redisBroker } from '../../adapters/redis/broker.ts';
import { connect, type Client } from '../../src/index.ts';
import { serveCalls } from '../../src/serve.ts';
import { RedisServer } from '../redis-server.ts';
import { BIN, Child, DENO_FLAGS } from './child.ts';

/** ioredis's `debug` dependency lists the whole environment while loading: Deno needs --allow-env without a list. */
const BROKER_DENO_FLAGS = [...DENO_FLAGS.filter((f) => !f.startsWith('--allow-env')), '--allow-env'];
const START_DEADLINE = 8_000;
const CLOSE_DEADLINE = 4_000;

let redis: RedisServer;
before(async () => {
  redis = await RedisServer.start();
});
after(() => redis.stop());

async function until(cond: () => boolean, what: string, ms = 5000): Promise<void> {
  for (const end = Date.now() + ms; !cond(); await new Promise((r) => setTimeout(r, 10)))
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
}

for (const runtime of ['deno', 'bun'] as const) {
  describe(`${runtime}: the Redis broker inside ${runtime}, beside a Node node`, { timeout: 30_000 }, () => {
    test(`${runtime} node and Node node share topics, pushes, calls and presence through Redis, and close cleanly`, async (t) => {
      assert.ok(existsSync(`${BIN}${runtime}`), `${BIN}${runtime} is missing: npm install`);
      const prefix = `rt-${runtime}:`;
      const broker = redisBroker({ redis: redis.url, prefix });
      const errors: string[] = [];
      const ep = createEndpoint({ broker, onError: (e) => void errors.push(e.detail) });
      const clients: Client[] = [];
      const child = new Child(runtime, 'test/runtimes/broker-node.ts', [redis.url, prefix], BROKER_DENO_FLAGS);
      t.after(async () => {
        await Promise.all(clients.map((c) => c.close()));
        child.proc.kill('SIGKILL');
        await ep.close({ drain: 0 });
        await broker.close();
      });
      ep.topic('/feed');
      const { url: nodeUrl } = await ep.listen({ path: '/rpc' });
      const ready = await child.line((l) => typeof l.url === 'string' || 'fatal' in l, START_DEADLINE);
      assert.ok(typeof ready?.url === 'string', `the ${runtime} node did not start\n${child.describe()}`);

      const inRuntime = connect(ready.url, { serve: serveCalls, heartbeat: false });
      const onNode = connect(nodeUrl, { heartbeat: false });
      clients.push(inRuntime, onNode);
      inRuntime.route('/ui/ok', (q) => `ok to ${String(q)} from a session on the ${runtime} node`);
      assert.equal(await inRuntime.call('/name', 'rt-user'), 'rt-user');
      const gotRuntime: [unknown, number][] = [];
      const gotNode: [unknown, number][] = [];
      await inRuntime.subscribe('/feed', (m, i) => void gotRuntime.push([m, i.offset])).ready;
      await onNode.subscribe('/feed', (m, i) => void gotNode.push([m, i.offset])).ready;

      assert.equal(await ep.publish('/feed', 'from node'), 1);
      assert.equal(await inRuntime.call('/publish', `from ${runtime}`), 2);
      const both = [
        ['from node', 1],
        [`from ${runtime}`, 2],
      ];
      await until(() => gotRuntime.length === 2 && gotNode.length === 2, 'both messages on both nodes');
      assert.deepEqual(gotRuntime, both);
      assert.deepEqual(gotNode, both);

      const notes: unknown[] = [];
      inRuntime.onPush('/note', (m) => void notes.push(m));
      await ep.push('rt-user', '/note' as never, { text: 'relayed' } as never);
      await until(() => notes.length === 1, 'the relayed push');
      assert.deepEqual(notes, [{ text: 'relayed' }]);
      assert.equal(await ep.call('rt-user', '/ui/ok' as never, 'ship' as never), `ok to ship from a session on the ${runtime} node`);

      const present = (await ep.presence()).sessions.map((s) => s.id);
      assert.ok(present.includes('rt-user'), `presence lists the ${runtime} node's session: ${present.join(', ')}`);
      assert.equal(present.length, 2);

      await inRuntime.close();
      child.proc.stdin!.end();
      const closed = await child.line((l) => 'closed' in l, CLOSE_DEADLINE);
      assert.ok(closed, `no { closed } line\n${child.describe()}`);
      assert.deepEqual(closed.errors, [], `errors the ${runtime} node reported`);
      const end = await child.end(CLOSE_DEADLINE);
      assert.ok(!end.killed && end.code === 0, child.describe());
      assert.deepEqual(errors, [], 'errors the Node node reported');
    });
  });
}
