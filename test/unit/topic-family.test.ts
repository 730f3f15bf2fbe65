/**
 * A family of topics keeps at most `maxTopics`: a new topic drops the least recently used ones that
 * nobody subscribes to and that keep nothing, and when the family is full, such topics even with history.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TopicFamily } from '../../src/topic-family.ts';
import type { Topic } from '../../src/topics.ts';
import { Code, type DrpcError } from '../../src/status.ts';

type Fake = { name: string; subscribed: boolean; held: boolean };

/** A family holding fake topics `specs` (oldest use first), and what its makeRoom() dropped. */
function familyOf(max: number, ...specs: [name: string, subscribed: boolean, held: boolean][]) {
  const f = new TopicFamily('/room/*', { maxTopics: max });
  for (const [name, subscribed, held] of specs) f.add({ name, subscribed, held } as Fake as unknown as Topic);
  const dropped: string[] = [];
  const makeRoom = () => f.makeRoom((t) => void dropped.push(t.name));
  return { f, dropped, makeRoom };
}

describe('TopicFamily', () => {
  it('names: "<prefix>*" with one * at the end; maxTopics a whole number ≥ 1', () => {
    assert.equal(new TopicFamily('/room/*').prefix, '/room/');
    assert.equal(new TopicFamily('room:*').maxTopics, 10_000);
    for (const bad of ['/room/', '/room/*/x', '/*/room/*', ''])
      assert.throws(
        () => new TopicFamily(bad),
        (e: DrpcError) => e.code === Code.BadMessage && /<prefix>\*/.test(e.message),
        bad,
      );
    assert.throws(
      () => new TopicFamily('/r/*', { maxTopics: 0 }),
      (e: DrpcError) => /maxTopics/.test(e.message),
    );
  });

  it('not full: drops idle topics (no subscriber, nothing kept) among the least recently used; keeps the others', () => {
    const { dropped, makeRoom, f } = familyOf(
      100,
      ['/room/a', false, false],
      ['/room/b', true, false],
      ['/room/c', false, true],
      ['/room/d', false, false],
    );
    makeRoom();
    assert.deepEqual(dropped, ['/room/a', '/room/d']);
    assert.deepEqual([...f.topics.keys()], ['/room/b', '/room/c']);
  });

  it('not full: checks only a few topics per new one (the rest wait for the next)', () => {
    const idle = Array.from({ length: 10 }, (_, i) => [`/room/${i}`, false, false] as [string, boolean, boolean]);
    const { dropped, makeRoom } = familyOf(100, ...idle);
    makeRoom();
    assert.equal(dropped.length, 4);
  });

  it('full: drops the least recently used topic nobody subscribes to, even with history', () => {
    const { dropped, makeRoom } = familyOf(3, ['/room/a', true, true], ['/room/b', false, true], ['/room/c', false, true]);
    makeRoom();
    assert.deepEqual(dropped, ['/room/b']);
  });

  it('full with a subscriber on every topic: 500 naming the family and its maxTopics', () => {
    const { dropped, makeRoom } = familyOf(2, ['/room/a', true, false], ['/room/b', true, true]);
    assert.throws(makeRoom, (e: DrpcError) => e.code === Code.InternalServerError && /"\/room\/\*" is full: 2 topics/.test(e.causeText));
    assert.deepEqual(dropped, []);
  });

  it('touch() moves a topic to the most recently used end', () => {
    const { f } = familyOf(10, ['/room/a', false, false], ['/room/b', false, false]);
    f.touch(f.topics.get('/room/a')!);
    assert.deepEqual([...f.topics.keys()], ['/room/b', '/room/a']);
  });
});
