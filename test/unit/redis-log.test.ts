/**
 * The Redis topic log's ordering rules, with a scripted link in place of Redis (the real thing is in
 * test/integration/scale-out.test.ts): each message is handed to the topic once, in offset order,
 * whatever the interleaving of the channel and the stream reads.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RedisLog, type LogLink } from '../../adapters/redis/log.ts';
import { decodePayload, encodePayload } from '../../adapters/redis/payload.ts';

type Entry = [number, unknown];

/** A link whose reads answer from `stream` (epoch `epoch`) when `release()` is called. */
class ScriptedLink implements LogLink {
  readonly topic = '/t';
  readonly limits = { count: 100, maxAgeMs: 60_000 };
  epoch = 'e1';
  stream: Entry[] = [];
  reads: { after: number | undefined; answer: () => void }[] = [];
  reported: unknown[] = [];

  append(): Promise<[number, string]> {
    throw new Error('not used');
  }
  read(after: number | undefined): Promise<unknown> {
    return new Promise((resolve) => {
      this.reads.push({
        after,
        answer: () => {
          const last = this.stream.at(-1)?.[0] ?? 0;
          const kept = after === undefined ? [] : this.stream.filter(([o]) => o > after);
          const raw = kept.map(([o, p]) => [
            Buffer.from(`0-${o}`),
            [Buffer.from('a'), Buffer.from('0'), Buffer.from('p'), encodePayload(p)],
          ]);
          resolve([Buffer.from(this.epoch), last, this.stream[0]?.[0] ?? last + 1, raw]);
        },
      });
    });
  }
  subscribe(): Promise<unknown> {
    return Promise.resolve();
  }
  unsubscribe(): void {}
  report(err: unknown): void {
    this.reported.push(err);
  }
  /** Answers the oldest waiting read. */
  async release(): Promise<void> {
    await until(() => this.reads.length > 0);
    this.reads.shift()!.answer();
    await tick();
  }
  /** A message as the channel carries it, also kept in the stream. */
  publish(offset: number, payload: unknown, epoch = this.epoch): Buffer {
    this.stream.push([offset, payload]);
    return Buffer.concat([Buffer.from(`${offset}:${epoch}:`), encodePayload(payload)]);
  }
}

const tick = () => new Promise((r) => setImmediate(r));
async function until(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 100 && !cond(); i++) await tick();
  assert.ok(cond(), 'condition never held');
}

/** Lets the log start (its position read) and answers one read of nothing: it listens from here on. */
async function listening(link: ScriptedLink, log: RedisLog): Promise<void> {
  const reading = log.read();
  await link.release();
  await link.release();
  await reading;
}

/** Offsets 1–4 with payloads a–d, each once, in order. */
const ABCD = [
  [1, 'a'],
  [2, 'b'],
  [3, 'c'],
  [4, 'd'],
];
const offsetsAndPayloads = (handed: [number, string, unknown][]) => handed.map(([o, , p]) => [o, p]);

function setup() {
  const link = new ScriptedLink();
  const handed: [number, string, unknown][] = [];
  const log = new RedisLog(link, (offset, epoch, payload) => void handed.push([offset, epoch, payload]));
  return { link, log, handed };
}

describe('RedisLog: one topic in Redis, seen from one node', () => {
  it('messages published before this node listened are not handed out live; later ones are, in order', async () => {
    const { link, log, handed } = setup();
    link.publish(1, 'old');
    const reading = log.read(0);
    await link.release(); // the start: position 1
    await link.release(); // the read itself
    const state = await reading;
    assert.deepEqual([state.epoch, state.offset, state.entries.map((e) => e.payload)], ['e1', 1, ['old']]);
    log.live(link.publish(2, 'new'));
    assert.deepEqual(handed, [[2, 'e1', 'new']]);
  });

  it('channel messages that arrive while the start read runs wait, and the ones the read covered are not handed twice', async () => {
    const { link, log, handed } = setup();
    const reading = log.read();
    await until(() => link.reads.length === 1);
    const early = link.publish(1, 'a'); // published before the position read ran: covered by it
    log.live(early);
    await link.release();
    await link.release();
    await reading;
    log.live(link.publish(2, 'b'));
    assert.deepEqual(handed, [[2, 'e1', 'b']], 'offset 1 was before this node started: not live');
  });

  it('after a dropped subscription it reads back what it missed before live messages go on, each once', async () => {
    const { link, log, handed } = setup();
    await listening(link, log);
    log.live(link.publish(1, 'a'));
    link.publish(2, 'b'); // missed: the channel was down
    link.publish(3, 'c');
    log.catchUp();
    log.live(link.publish(4, 'd')); // arrives while the catch-up read runs
    const late = Buffer.concat([Buffer.from('3:e1:'), encodePayload('c')]);
    await link.release();
    log.live(late); // a stale duplicate from the channel
    assert.deepEqual(offsetsAndPayloads(handed), ABCD);
  });

  it('a live message that skips offsets (one the channel lost, no drop) makes it read the missing ones back first, each once', async () => {
    const { link, log, handed } = setup();
    await listening(link, log);
    log.live(link.publish(1, 'a'));
    link.publish(2, 'b'); // lost by the channel (a cluster slot moved)
    log.live(link.publish(3, 'c'));
    assert.deepEqual(handed.length, 1, 'offset 3 waits for the read-back of 2');
    log.live(link.publish(4, 'd')); // arrives while the read runs
    await link.release();
    assert.deepEqual(offsetsAndPayloads(handed), ABCD);
    assert.deepEqual(link.reads, [], 'one read back, not one per message');
  });

  it('a history reset while away (new epoch) hands out all of the new epoch', async () => {
    const { link, log, handed } = setup();
    await listening(link, log);
    log.live(link.publish(1, 'a'));
    link.epoch = 'e2';
    link.stream = [];
    link.publish(1, 'x');
    link.publish(2, 'y');
    log.catchUp();
    await link.release(); // read after 1: another epoch
    await link.release(); // read all of e2
    assert.deepEqual(handed, [
      [1, 'e1', 'a'],
      [1, 'e2', 'x'],
      [2, 'e2', 'y'],
    ]);
    assert.equal(log.epoch, 'e2');
  });

  it('a message that cannot be read is reported, not handed out, and delivery goes on', async () => {
    const { link, log, handed } = setup();
    await listening(link, log);
    log.live(Buffer.from('1:e1:\u0001{not json'));
    log.live(link.publish(2, 'ok'));
    assert.deepEqual(handed, [[2, 'e1', 'ok']]);
    assert.match(String(link.reported[0]), /topic "\/t": message 1 could not be read/);
  });
});

describe('payloads between nodes', () => {
  it('JSON values and bytes come back as they went', () => {
    for (const v of [null, 0, 'héllo ☃', { a: [1, { b: true }] }, [1, 2]]) assert.deepEqual(decodePayload(encodePayload(v)), v);
    assert.deepEqual(decodePayload(encodePayload(new Uint8Array([0, 255, 7]))), new Uint8Array([0, 255, 7]));
  });

  it('what JSON cannot carry fails when sent, naming the type', () => {
    assert.throws(() => encodePayload(undefined), /a payload of type undefined cannot be sent through the broker/);
    assert.throws(() => encodePayload(() => 1), /a payload of type function cannot be sent/);
    assert.throws(() => decodePayload(new Uint8Array([9, 1])), /unknown payload tag 9/);
  });
});
