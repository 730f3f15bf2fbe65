/**
 * Frames keep their order through filters that pack and unpack asynchronously (the web-streams gzip
 * used where zlib is missing): FrameWriter queues writes behind a pending pack, FrameReader queues
 * reads behind a pending unpack.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Session } from '../../src/session.ts';
import { memoryPair } from '../../src/transport/memory.ts';
import { rawProto } from '../../src/proto/raw.ts';
import { gzipFilter } from '../../src/filter/gzip.ts';
import { FilterRegistry } from '../../src/filter/filter.ts';
import { serveCalls } from '../../src/serve.ts';

describe('frame order with asynchronous filters', () => {
  it('pushes mixing an async gzip pipe and no pipe arrive in send order', async () => {
    const slowGzip = gzipFilter({ webStreams: true });
    const filters = new FilterRegistry([slowGzip]);
    const [a, b] = memoryPair();
    const sender = new Session(a, { serve: serveCalls, proto: rawProto({ filters }), onError: () => {} });
    const receiver = new Session(b, { serve: serveCalls, proto: rawProto({ filters }), onError: () => {} });
    const got: number[] = [];
    let done!: () => void;
    const all = new Promise<void>((r) => (done = r));
    receiver.router.routePush('/n', (n) => {
      got.push(n as number);
      if (got.length === 40) done();
    });
    const sends: Promise<void>[] = [];
    for (let i = 0; i < 40; i++) sends.push(sender.push('/n', i, { pipe: i % 3 === 0 ? [slowGzip.id] : [] }));
    await Promise.all(sends);
    await all;
    assert.deepEqual(
      got,
      Array.from({ length: 40 }, (_, i) => i),
    );
  });
});
