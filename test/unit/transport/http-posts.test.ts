/** The HTTP transport's up half: numbered POSTs, a few at once, and never too far past one being retried. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { PostQueue, type PostTarget } from '../../../src/transport/http-posts.ts';
import type { FetchResponse } from '../../../src/transport/node-fetch.ts';

const OK: FetchResponse = { ok: true, status: 204, body: null, text: async () => '' };
const tick = () => new Promise((r) => setImmediate(r));

/** A target whose POSTs answer at once, except the ones `hold` keeps until released. */
function target(hold: (first: number) => boolean) {
  const posts: { first: number; frames: number }[] = [];
  const held: (() => void)[] = [];
  const t: PostTarget = {
    closed: () => false,
    ready: () => true,
    post: (first, body) => {
      posts.push({ first, frames: (body as Uint8Array).length });
      if (!hold(first)) return Promise.resolve(OK);
      return new Promise((resolve) => held.push(() => resolve(OK)));
    },
    failed: (reason) => assert.fail(`the queue gave up: ${reason}`),
    pause: () => Promise.resolve(),
    now: () => 0,
    retryFor: 10_000,
  };
  return { t, posts, release: () => held.splice(0).forEach((r) => r()) };
}

describe('PostQueue', () => {
  it('while one POST is unanswered (retried, slow), at most 15 more bodies follow it: the endpoint keeps 16 ahead', async () => {
    const { t, posts, release } = target((first) => first === 1);
    const q = new PostQueue(t);
    for (let i = 0; i < 40 * 64; i++) q.send(new Uint8Array([i & 255])); // 40 full batches of one-byte frames
    for (let i = 0; i < 20; i++) await tick();
    assert.equal(posts.length, 16, 'the held POST and the 15 after it');
    assert.ok(
      posts.every((p, i) => p.first === i * 64 + 1),
      'in number order',
    );
    release();
    for (let i = 0; i < 20; i++) await tick();
    assert.equal(posts.length, 40, 'the rest once it is answered');
    assert.equal(q.bufferedAmount, 0);
  });

  it('empty POSTs (acknowledgements) are not held back by the window', async () => {
    const { t, posts } = target((first) => first === 1);
    const q = new PostQueue(t);
    for (let i = 0; i < 20 * 64; i++) q.send(new Uint8Array([1]));
    for (let i = 0; i < 20; i++) await tick();
    const before = posts.length;
    q.sendEmpty();
    assert.equal(posts.length, before + 1);
  });
});
