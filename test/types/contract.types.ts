/**
 * Type tests, checked by `tsc --noEmit` (never run). Lines marked @ts-expect-error MUST fail to
 * compile: if one compiles, tsc reports the unused directive and the typecheck fails.
 */
import { z } from 'zod';
import { connect, contract, serveCalls } from '../../src/index.ts';
import { createEndpoint } from '../../adapters/node/index.ts';
import type { Topic } from '../../src/topics.ts';
import type { TopicFamily } from '../../src/topic-family.ts';

const api = contract({
  calls: { '/math/add': { input: z.object({ a: z.number(), b: z.number() }), output: z.number() } },
  pushes: { '/chat/msg': z.object({ room: z.string(), text: z.string() }) },
  client: { '/ui/confirm': { input: z.string(), output: z.boolean() } },
  topics: {
    '/prices': z.object({ symbol: z.string(), price: z.number() }),
    // A family: every topic under /room/ carries a chat line.
    '/room/*': z.object({ text: z.string() }),
  },
});

export async function client() {
  const peer = connect('ws://127.0.0.1:1/rpc', { contract: api, serve: serveCalls });
  const sum: number = await peer.call('/math/add', { a: 1, b: 2 });
  // @ts-expect-error: the result is a number
  const wrong: string = await peer.call('/math/add', { a: 1, b: 2 });
  // @ts-expect-error: b must be a number
  await peer.call('/math/add', { a: 1, b: '2' });
  // @ts-expect-error: the body is required when typed
  await peer.call('/math/add');
  // @ts-expect-error: unknown method
  await peer.call('/math/sub', { a: 1, b: 2 });
  peer.onPush('/chat/msg', (msg) => {
    const room: string = msg.room;
    // @ts-expect-error: no such field
    void msg.user;
    void room;
  });
  // @ts-expect-error: unknown push
  peer.onPush('/chat/other', () => {});
  peer.route('/ui/confirm', async (question) => question.length > 0);
  // @ts-expect-error: must answer a boolean
  peer.route('/ui/confirm', (question) => question);
  peer.subscribe('/prices', (p, info) => {
    const price: number = p.price;
    const offset: number = info.offset;
    // @ts-expect-error: no such field
    void p.volume;
    void price;
    void offset;
  });
  // @ts-expect-error: unknown topic
  peer.subscribe('/volumes', () => {});
  peer.subscribe(`/room/${String(42)}`, (line) => {
    const text: string = line.text;
    // @ts-expect-error: a chat line is not a price
    void line.price;
    void text;
  });
  void sum;
  void wrong;
}

export async function untypedClient() {
  const peer = connect('ws://127.0.0.1:1/rpc', { serve: serveCalls });
  const anything: unknown = await peer.call('/whatever', { x: 1 });
  await peer.call('/no-body');
  peer.onPush('/any', (body: unknown) => void body);
  peer.route('/any', (body) => body);
  peer.subscribe('/any/topic', (m: unknown) => void m);
  void anything;
}

export async function endpoint() {
  const ep = createEndpoint({ contract: api });
  ep.route('/math/add', ({ a, b }) => a + b);
  // @ts-expect-error: must return a number
  ep.route('/math/add', ({ a }) => String(a));
  // @ts-expect-error: unknown route
  ep.route('/math/mul', () => 1);
  await ep.push('some-session', '/chat/msg', { room: 'r', text: 't' });
  // @ts-expect-error: text is missing
  await ep.push('some-session', '/chat/msg', { room: 'r' });
  const ok: boolean = await ep.call('some-session', '/ui/confirm', 'Sure?');
  // @ts-expect-error: input is a string
  await ep.call('some-session', '/ui/confirm', 42);
  ep.topic('/prices', { history: { count: 10 } });
  ep.publish('/prices', { symbol: 'X', price: 1 });
  // @ts-expect-error: price must be a number
  ep.publish('/prices', { symbol: 'X', price: '1' });
  // @ts-expect-error: unknown topic
  ep.publish('/volumes', 1);
  const family: TopicFamily<number> = ep.topic('/room/*', { maxTopics: 100, authorize: () => true });
  const room: Topic = ep.topic('/room/42');
  ep.publish('/room/42', { text: 'hi' });
  // @ts-expect-error: a chat line needs its text
  ep.publish('/room/42', { price: 1 });
  void family;
  void room;
  void ok;
}
