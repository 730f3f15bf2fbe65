import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Session, type SessionOptions } from '../../src/session.ts';
import { broadcast } from '../../src/broadcast.ts';
import { memoryPair, type MemoryTransport } from '../../src/transport/memory.ts';
import { jsonProto } from '../../src/proto/json.ts';
import { autoProto } from '../../src/proto/auto.ts';
import { createCodecs } from '../../src/codec/codec.ts';
import { msgpack } from '../../src/codec/msgpack.ts';
import type { Plugin } from '../../src/hooks.ts';
import { tick } from '../helpers.ts';
import { serveCalls } from '../../src/serve.ts';

function peer(server: SessionOptions = {}, client: SessionOptions = {}) {
  const [a, b] = memoryPair();
  const got: unknown[] = [];
  const c = new Session(a, { serve: serveCalls, onError: () => {}, ...client });
  c.router.routePush('/news', (body, ctx) => void got.push([body, ctx.meta['k']]));
  return { server: new Session(b, { serve: serveCalls, onError: () => {}, ...server }), serverEnd: b as MemoryTransport, got };
}

describe('broadcast', () => {
  it('reaches every open session with one encoded body and one packed frame per encoding', async () => {
    const peers = [peer(), peer(), peer({ proto: autoProto({ initial: 'json' }) }, { proto: jsonProto() })];
    const r = broadcast(
      peers.map((p) => p.server),
      '/news',
      { n: 1 },
      { meta: { k: 'v' } },
    );
    assert.deepEqual([r.sent, r.failed], [3, 0]);
    await tick();
    for (const p of peers) assert.deepEqual(p.got, [[{ n: 1 }, 'v']]);
    // the two RAW sessions were sent the very same frame object; the JSON one its own text
    assert.equal(peers[0]!.serverEnd.sent[0]!.length, peers[1]!.serverEnd.sent[0]!.length);
    assert.equal(typeof peers[2]!.serverEnd.sent[0], 'string');
  });

  it('encodes per codec: a msgpack session gets msgpack, a json one json', async () => {
    const codecs = createCodecs(msgpack);
    const j = peer();
    const m = peer({ codecs, codec: 'msgpack' }, { codecs });
    broadcast([j.server, m.server], '/news', { n: 2 });
    await tick();
    assert.deepEqual(j.got, [[{ n: 2 }, undefined]]);
    assert.deepEqual(m.got, [[{ n: 2 }, undefined]]);
  });

  it('counts closed sessions as failed with 102 and never throws', async () => {
    const a = peer();
    const b = peer();
    b.serverEnd.close();
    await b.server.closed;
    const r = broadcast([a.server, b.server], '/news', 1);
    assert.deepEqual([r.sent, r.failed], [1, 1]);
    assert.equal(r.errors[0]!.code, 102);
  });

  it('sessions with plugins get an ordinary push so their write hooks run', async () => {
    const seen: string[] = [];
    const plugin: Plugin = { name: 'log', beforeWritePush: (ctx) => void seen.push(ctx.message.serviceMethod) };
    const p = peer({ plugins: [plugin] });
    broadcast([p.server], '/news', 3);
    await tick();
    assert.deepEqual(seen, ['/news']);
    assert.deepEqual(p.got, [[3, undefined]]);
  });
});
