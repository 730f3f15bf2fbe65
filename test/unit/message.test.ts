import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { createMessage, formatSeq, INT32_MAX, INT32_MIN, isInt32, MType, mtypeName, nextSeq, parseSeq } from '../../src/message.ts';
import { DrpcError } from '../../src/status.ts';

const bad400 = (re: RegExp) => (e: unknown) => e instanceof DrpcError && e.code === 400 && re.test(e.message);

describe('MType', () => {
  it('has drpc values and TypeText names', () => {
    assert.deepEqual(MType, { Undefined: 0, Call: 1, Reply: 2, Push: 3, AuthCall: 4, AuthReply: 5 });
    assert.deepEqual([0, 1, 2, 3, 4, 5].map(mtypeName), ['Undefined', 'CALL', 'REPLY', 'PUSH', 'AUTH_CALL', 'AUTH_REPLY']);
    assert.equal(mtypeName(6), 'Unknown');
    assert.equal(mtypeName(255), 'Unknown');
  });
});

describe('createMessage', () => {
  it('fills drpc defaults: seq 0, empty method, OK status, empty meta, codec 0, empty body, no pipe', () => {
    const m = createMessage({ mtype: MType.Push });
    assert.equal(m.seq, 0);
    assert.equal(m.mtype, 3);
    assert.equal(m.serviceMethod, '');
    assert.deepEqual(m.status, { code: 0, msg: '', cause: '' });
    assert.deepEqual(m.meta, {});
    assert.equal(m.bodyCodec, 0);
    assert.equal(m.body.length, 0);
    assert.deepEqual(m.pipe, []);
  });

  it('gives every message its own meta object', () => {
    const a = createMessage({ mtype: 1 });
    const b = createMessage({ mtype: 1 });
    a.meta['k'] = 'v';
    assert.deepEqual(b.meta, {});
  });
});

describe('nextSeq', () => {
  it('counts up by one from drpc first seq 1', () => {
    assert.equal(nextSeq(0), 1);
    assert.equal(nextSeq(1), 2);
    assert.equal(nextSeq(-5), -4);
  });

  it('wraps 2147483647 to -2147483648 as Go int32 atomic.AddInt32 does', () => {
    assert.equal(nextSeq(2147483647), -2147483648);
    assert.equal(nextSeq(-2147483648), -2147483647);
    assert.equal(nextSeq(-1), 0);
  });

  it('always stays an int32 (property)', () => {
    fc.assert(fc.property(fc.integer({ min: INT32_MIN, max: INT32_MAX }), (s) => assert.ok(isInt32(nextSeq(s)))));
  });
});

describe('formatSeq (Go strconv.FormatInt(seq, 36))', () => {
  it('writes lowercase base 36 with a leading - when negative', () => {
    const cases: [number, string][] = [
      [0, '0'],
      [1, '1'],
      [35, 'z'],
      [36, '10'],
      [-1, '-1'],
      [-36, '-10'],
      [2147483647, 'zik0zj'],
      [-2147483648, '-zik0zk'],
    ];
    for (const [seq, text] of cases) assert.equal(formatSeq(seq), text, `seq ${seq}`);
  });
});

describe('parseSeq (Go strconv.ParseInt(text, 36, 32))', () => {
  it('reads what formatSeq writes for every int32 (property)', () => {
    fc.assert(fc.property(fc.integer({ min: INT32_MIN, max: INT32_MAX }), (s) => assert.equal(parseSeq(formatSeq(s)), s)));
  });

  it('reads the same seq from bytes (a slice of a frame) as from text (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: INT32_MIN, max: INT32_MAX }), fc.string({ maxLength: 3 }), (s, pad) => {
        const t = formatSeq(s);
        const frame = new TextEncoder().encode(pad + t + pad);
        const from = frame.length - new TextEncoder().encode(pad).length - t.length;
        assert.equal(parseSeq(frame, from, from + t.length), s);
      }),
    );
    assert.throws(() => parseSeq(new TextEncoder().encode('1é'), 0, 3), bad400(/^seq is not ASCII/));
  });

  it('accepts the int32 extremes', () => {
    assert.equal(parseSeq('zik0zj'), 2147483647);
    assert.equal(parseSeq('-zik0zk'), -2147483648);
  });

  it('accepts what ParseInt accepts: leading zeros, a + sign, uppercase digits', () => {
    assert.equal(parseSeq('0000001'), 1);
    assert.equal(parseSeq('+10'), 36);
    assert.equal(parseSeq('-0'), 0);
    assert.equal(parseSeq('Z'), 35);
    assert.equal(parseSeq('ZIK0ZJ'), 2147483647);
    assert.equal(parseSeq('-ZiK0zK'), -2147483648);
    assert.equal(parseSeq('0'.repeat(200) + '1'), 1);
  });

  it('rejects empty text and a bare sign with a 400 naming the seq', () => {
    assert.throws(() => parseSeq(''), bad400(/^seq "" is not base-36/));
    assert.throws(() => parseSeq('-'), bad400(/^seq "-" is not base-36/));
    assert.throws(() => parseSeq('+'), bad400(/^seq "\+" is not base-36/));
  });

  it('rejects non-base-36 characters with a 400 naming the seq', () => {
    for (const t of ['1.5', ' 1', '1 ', '1!', '--1', '+-1', '1_0', 'é', '١']) {
      assert.throws(() => parseSeq(t), bad400(new RegExp(`^seq ${escape(JSON.stringify(t))} is not base-36`)), t);
    }
  });

  it('rejects values outside int32 with a 400 naming the seq', () => {
    for (const t of ['zik0zk', '-zik0zl', 'zzzzzzz', '1' + '0'.repeat(30)]) {
      assert.throws(() => parseSeq(t), bad400(new RegExp(`^seq "${t}" is out of int32 range`)), t);
    }
  });
});

describe('isInt32', () => {
  it('accepts only integer numbers in int32 range', () => {
    for (const v of [0, -1, INT32_MIN, INT32_MAX]) assert.equal(isInt32(v), true, String(v));
    for (const v of [INT32_MAX + 1, INT32_MIN - 1, 1.5, NaN, Infinity, '1', null, undefined, 1n])
      assert.equal(isInt32(v), false, String(v));
  });
});

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
