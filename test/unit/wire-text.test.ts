import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  clip,
  decodeMeta,
  decodeMetaQuery,
  decodeStatus,
  decodeStatusQuery,
  encodeMeta,
  encodeMetaQuery,
  encodeStatus,
  encodeStatusQuery,
  goJSONString,
  goQuote,
  metaFromValue,
} from '../../src/wire-text.ts';
import { DrpcError } from '../../src/status.ts';

const bad400 = (re: RegExp) => (e: unknown) => e instanceof DrpcError && e.code === 400 && re.test(e.message);

/** Strings without lone surrogates (they cannot travel as UTF-8, so no Go peer could send them). */
const wellFormed = (maxLength = 20) => fc.string({ unit: 'binary', maxLength });

/** Go's HTML-safe escapes on top of what JSON.stringify already writes (identical for well-formed strings). */
const goJSONOracle = (s: string) =>
  JSON.stringify(s).replace(/[<>&\u2028\u2029]/g, (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0'));

const utf8Order = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));

describe('encodeStatus (drpc Status.MarshalJSON)', () => {
  it('writes the OK status as the 30-byte golden text', () => {
    const ok = encodeStatus({ code: 0, msg: '', cause: '' });
    assert.equal(ok, '{"code":0,"msg":"","cause":""}');
    assert.equal(Buffer.byteLength(ok), 30);
  });

  it('keeps Go key order code, msg, cause and writes an empty cause as ""', () => {
    assert.equal(encodeStatus({ code: 404, msg: 'Not Found', cause: '' }), '{"code":404,"msg":"Not Found","cause":""}');
    assert.equal(encodeStatus({ code: -1, msg: '', cause: 'x' }), '{"code":-1,"msg":"","cause":"x"}');
  });

  it('quotes like strconv.Quote: quotes and backslashes escaped, printable Unicode and <>& raw', () => {
    assert.equal(
      encodeStatus({ code: 400, msg: 'say "hi" \\ <b>&amp;', cause: 'é 中 😀' }),
      '{"code":400,"msg":"say \\"hi\\" \\\\ <b>&amp;","cause":"é 中 😀"}',
    );
  });

  it('writes control characters as JSON escapes where Go writes \\a \\v \\x01 (so the text stays valid JSON)', () => {
    const s = { code: 500, msg: 'a\x01b\x07c\x0bd\x7fe', cause: '\b\f\n\r\t' };
    const text = encodeStatus(s);
    assert.equal(text, '{"code":500,"msg":"a\\u0001b\\u0007c\\u000bd\\u007fe","cause":"\\b\\f\\n\\r\\t"}');
    assert.deepEqual(JSON.parse(text), s);
  });

  it('escapes non-printable Unicode as strconv.Quote does (lowercase hex), astral ones as a surrogate pair', () => {
    const s = { code: 1, msg: '\u00a0\u2028\u2029\u200b', cause: '\u{e0001}' };
    const text = encodeStatus(s);
    assert.equal(text, '{"code":1,"msg":"\\u00a0\\u2028\\u2029\\u200b","cause":"\\udb40\\udc01"}');
    assert.deepEqual(JSON.parse(text), s);
  });

  it('always writes valid JSON that decodes back to the same status (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: -0x80000000, max: 0x7fffffff }), wellFormed(), wellFormed(), (code, msg, cause) => {
        const s = { code, msg, cause };
        const text = encodeStatus(s);
        assert.deepEqual(JSON.parse(text), s);
        assert.deepEqual(decodeStatus(text), s);
      }),
      { numRuns: 300 },
    );
  });
});

describe('goQuote', () => {
  it('leaves printable text alone apart from the quotes', () => {
    assert.equal(goQuote('/p/divide'), '"/p/divide"');
    assert.equal(goQuote('ünï 中 😀 <&>'), '"ünï 中 😀 <&>"');
  });

  it('replaces a lone surrogate with U+FFFD, as Go does for invalid UTF-8', () => {
    assert.equal(JSON.parse(goQuote('a\ud800b')), 'a\ufffdb');
  });
});

describe('decodeStatus', () => {
  it('reads empty text and null as OK', () => {
    assert.deepEqual(decodeStatus(''), { code: 0, msg: '', cause: '' });
    assert.deepEqual(decodeStatus('null'), { code: 0, msg: '', cause: '' });
    assert.deepEqual(decodeStatus('{"code":0,"msg":"","cause":""}'), { code: 0, msg: '', cause: '' });
  });

  it('reads a missing code as 0 and missing texts as empty', () => {
    assert.deepEqual(decodeStatus('{}'), { code: 0, msg: '', cause: '' });
    assert.deepEqual(decodeStatus('{"code":404}'), { code: 404, msg: '', cause: '' });
  });

  it("accepts Go strconv.Quote's escapes: \\x01, \\a, \\v and \\U0001F600", () => {
    assert.deepEqual(decodeStatus('{"code":500,"msg":"a\\x01b\\x7f","cause":"\\a\\v"}'), {
      code: 500,
      msg: 'a\x01b\x7f',
      cause: '\x07\x0b',
    });
    assert.deepEqual(decodeStatus('{"code":1,"msg":"\\U0001F600 \\U000e0001","cause":""}'), {
      code: 1,
      msg: '😀 \u{e0001}',
      cause: '',
    });
  });

  it('does not mistake an escaped backslash followed by x for a Go escape', () => {
    // JSON text: "\\x41 \x01" → a literal backslash, "x41 ", then the Go escape for U+0001.
    assert.deepEqual(decodeStatus('{"code":2,"msg":"\\\\x41 \\x01","cause":""}'), { code: 2, msg: '\\x41 \x01', cause: '' });
  });

  it('turns non-string msg and cause into their JSON text', () => {
    assert.deepEqual(decodeStatus('{"code":3,"msg":12,"cause":{"a":[1]}}'), { code: 3, msg: '12', cause: '{"a":[1]}' });
  });

  it('rejects text that is not JSON with a 400 saying so', () => {
    for (const t of ['{', 'code=0', '{"code":1,"msg":"\\q"}']) assert.throws(() => decodeStatus(t), bad400(/^status is not valid JSON/), t);
  });

  it('rejects JSON that is not an object with a 400 saying so', () => {
    for (const t of ['[]', '[1,2]', '"text"', '5', 'true']) assert.throws(() => decodeStatus(t), bad400(/^status is not a JSON object/), t);
  });

  it('rejects a code that is not an int32 with a 400 naming the code', () => {
    for (const t of ['{"code":1.5}', '{"code":"400"}', '{"code":2147483648}', '{"code":-2147483649}', '{"code":true}', '{"code":[1]}'])
      assert.throws(() => decodeStatus(t), bad400(/^status code is not an int32/), t);
    assert.equal(decodeStatus('{"code":2147483647}').code, 2147483647);
    assert.equal(decodeStatus('{"code":-2147483648}').code, -2147483648);
  });

  it('clips long bad input in the error message', () => {
    const long = '[' + '1,'.repeat(200) + '1]';
    assert.throws(
      () => decodeStatus(long),
      (e: DrpcError) => e.message.length < 200 && e.message.endsWith('…'),
    );
  });
});

describe('goJSONString (Go encoding/json string encoding)', () => {
  it('escapes <, >, & as \\u003c \\u003e \\u0026 (HTML-safe)', () => {
    assert.equal(goJSONString('<a href="x">&</a>'), '"\\u003ca href=\\"x\\"\\u003e\\u0026\\u003c/a\\u003e"');
  });

  it('escapes U+2028 and U+2029', () => {
    assert.equal(goJSONString('a\u2028b\u2029c'), '"a\\u2028b\\u2029c"');
  });

  it('uses the short escapes \\b \\f \\n \\r \\t and \\u00XX in lowercase hex for other controls', () => {
    assert.equal(goJSONString('\b\f\n\r\t'), '"\\b\\f\\n\\r\\t"');
    assert.equal(goJSONString('\x00\x01\x0b\x1b\x1f'), '"\\u0000\\u0001\\u000b\\u001b\\u001f"');
  });

  it('writes DEL, non-ASCII and astral characters raw', () => {
    assert.equal(goJSONString('\x7f é 中 😀 \u00a0'), '"\x7f é 中 😀 \u00a0"');
  });

  it('replaces a lone surrogate with U+FFFD', () => {
    assert.equal(JSON.parse(goJSONString('x\udc00y\ud800')), 'x\ufffdy\ufffd');
  });

  it('matches JSON.stringify plus the HTML-safe escapes on any well-formed string (property)', () => {
    fc.assert(
      fc.property(wellFormed(30), (s) => assert.equal(goJSONString(s), goJSONOracle(s))),
      { numRuns: 500 },
    );
  });
});

describe('encodeMeta (Go json.Marshal of the meta map)', () => {
  it('writes {} for an empty map', () => {
    assert.equal(encodeMeta({}), '{}');
  });

  it('sorts keys bytewise as UTF-8, so astral keys sort after U+E000-U+FFFF (unlike UTF-16 order)', () => {
    const meta = { '😀': '6', '\ufffd': '5', '\ue000': '4', é: '3', a: '2', Z: '1', ab: '2b', '10': 'ten', '9': 'nine' };
    assert.equal(encodeMeta(meta), '{"10":"ten","9":"nine","Z":"1","a":"2","ab":"2b","é":"3","\ue000":"4","\ufffd":"5","😀":"6"}');
    // UTF-16 order would put the emoji (D83D) before U+E000.
    assert.ok(['😀', '\ue000'].sort()[0] === '😀');
  });

  it('escapes keys and values as Go does', () => {
    assert.equal(
      encodeMeta({ 'x<y>': 'a&b', nl: 'line\nbreak', ctl: '\x01', ls: '\u2028' }),
      '{"ctl":"\\u0001","ls":"\\u2028","nl":"line\\nbreak","x\\u003cy\\u003e":"a\\u0026b"}',
    );
  });

  it('equals Go output for random maps: UTF-8-sorted keys, Go-escaped strings (property)', () => {
    fc.assert(
      fc.property(fc.dictionary(wellFormed(6), wellFormed(8), { maxKeys: 8, noNullPrototype: true }), (meta) => {
        const keys = Object.keys(meta).sort(utf8Order);
        const expected = keys.length ? '{' + keys.map((k) => goJSONOracle(k) + ':' + goJSONOracle(meta[k]!)).join(',') + '}' : '{}';
        const text = encodeMeta(meta);
        assert.equal(text, expected);
        assert.deepEqual(decodeMeta(text), meta);
      }),
      { numRuns: 300 },
    );
  });
});

describe('decodeMeta', () => {
  it('reads empty text, {} and null as an empty map', () => {
    assert.deepEqual(decodeMeta(''), {});
    assert.deepEqual(decodeMeta('{}'), {});
    assert.deepEqual(decodeMeta('null'), {});
  });

  it('reads string values as they are', () => {
    assert.deepEqual(decodeMeta('{"a":"1","X-Real-IP":"10.0.0.1","u":"\\u003c😀"}'), { a: '1', 'X-Real-IP': '10.0.0.1', u: '<😀' });
  });

  it('turns non-string values into their JSON text', () => {
    assert.deepEqual(decodeMeta('{"n":1,"f":1.5,"b":true,"o":{"x":"y"},"a":[1,"2"]}'), {
      n: '1',
      f: '1.5',
      b: 'true',
      o: '{"x":"y"}',
      a: '[1,"2"]',
    });
  });

  it('keeps keys that name Object.prototype members (__proto__, constructor, toString)', () => {
    const meta = decodeMeta('{"__proto__":"p","constructor":"c","toString":"t","hasOwnProperty":"h"}');
    assert.deepEqual(Object.entries(meta), [
      ['__proto__', 'p'],
      ['constructor', 'c'],
      ['toString', 't'],
      ['hasOwnProperty', 'h'],
    ]);
    assert.equal(Object.getPrototypeOf(meta), Object.prototype);
  });

  it('rejects bad JSON with a 400 saying so', () => {
    for (const t of ['{', '{"a":}', "{'a':'b'}", 'a=1']) assert.throws(() => decodeMeta(t), bad400(/^meta is not valid JSON/), t);
  });

  it('rejects JSON that is not an object with a 400 saying so', () => {
    for (const t of ['[]', '["a"]', '"s"', '1', 'false']) assert.throws(() => decodeMeta(t), bad400(/^meta is not a JSON object/), t);
  });

  it('metaFromValue accepts an already parsed object (drpc gconv.Map of a meta object)', () => {
    assert.deepEqual(metaFromValue({ a: 'x', n: 2 }), { a: 'x', n: '2' });
    assert.deepEqual(metaFromValue(null), {});
    assert.throws(() => metaFromValue([1]), bad400(/^meta is not a JSON object/));
  });
});

describe('erpc dialect: urlencoded status', () => {
  it('writes code=0 for OK and omits an empty msg and cause', () => {
    assert.equal(encodeStatusQuery({ code: 0, msg: '', cause: '' }), 'code=0');
    assert.equal(encodeStatusQuery({ code: 404, msg: 'Not Found', cause: '' }), 'code=404&msg=Not%20Found');
    assert.equal(encodeStatusQuery({ code: -1, msg: '', cause: 'c' }), 'code=-1&cause=c');
  });

  it("escapes everything but [A-Za-z0-9*-._] as %XX in uppercase (goutil's escaping)", () => {
    assert.equal(
      encodeStatusQuery({ code: 500, msg: "a&b=c ~!'()+/?#%", cause: '*-._é' }),
      'code=500&msg=a%26b%3Dc%20%7E%21%27%28%29%2B%2F%3F%23%25&cause=*-._%C3%A9',
    );
  });

  it('decodes what it encodes, and takes the first of repeated keys as erpc does', () => {
    const s = { code: 500, msg: "a&b=c ~!'()+/?#% é😀", cause: 'x\ny' };
    assert.deepEqual(decodeStatusQuery(encodeStatusQuery(s)), s);
    assert.deepEqual(decodeStatusQuery('code=1&msg=first&code=2&msg=second&other=x'), { code: 1, msg: 'first', cause: '' });
  });

  it('reads empty text as OK and + as a space', () => {
    assert.deepEqual(decodeStatusQuery(''), { code: 0, msg: '', cause: '' });
    assert.deepEqual(decodeStatusQuery('code=3&msg=a+b'), { code: 3, msg: 'a b', cause: '' });
  });

  it('rejects a bad %-escape or a non-int32 code with a 400 naming the problem', () => {
    assert.throws(() => decodeStatusQuery('code=1&msg=%zz'), bad400(/^status has a bad %-escape/));
    for (const t of ['code=x', 'code=1.5', 'code=2147483648', 'code='])
      assert.throws(() => decodeStatusQuery(t), bad400(/^status code is not an int32/), t);
  });
});

describe('erpc dialect: urlencoded meta', () => {
  it('writes pairs in insertion order, and empty text for an empty map', () => {
    assert.equal(encodeMetaQuery({}), '');
    assert.equal(encodeMetaQuery({ z: '1', a: 'b c', 'k&=': 'v/é' }), 'z=1&a=b%20c&k%26%3D=v%2F%C3%A9');
  });

  it('decodes pairs; first of a repeated key wins; a key without = has an empty value', () => {
    assert.deepEqual(decodeMetaQuery(''), {});
    assert.deepEqual(decodeMetaQuery('a=1&b&a=2&c=x+y'), { a: '1', b: '', c: 'x y' });
  });

  it('keeps keys that name Object.prototype members (constructor, toString, __proto__)', () => {
    assert.deepEqual(Object.entries(decodeMetaQuery('constructor=1&toString=2&__proto__=3&a=4')), [
      ['constructor', '1'],
      ['toString', '2'],
      ['__proto__', '3'],
      ['a', '4'],
    ]);
  });

  it('rejects a bad %-escape with a 400 naming meta', () => {
    assert.throws(() => decodeMetaQuery('a=%E0%A4%A'), bad400(/^meta has a bad %-escape/));
  });

  it('replaces a lone surrogate with U+FFFD instead of throwing a URIError', () => {
    assert.equal(encodeMetaQuery({ k: 'a\ud800' }), 'k=a%EF%BF%BD');
    assert.equal(encodeStatusQuery({ code: 1, msg: '\udc00', cause: '' }), 'code=1&msg=%EF%BF%BD');
  });

  it('round-trips any well-formed map (property)', () => {
    fc.assert(
      fc.property(fc.dictionary(wellFormed(6), wellFormed(8), { maxKeys: 6, noNullPrototype: true }), (meta) => {
        assert.deepEqual(decodeMetaQuery(encodeMetaQuery(meta)), meta);
      }),
      { numRuns: 300 },
    );
  });
});

describe('clip', () => {
  it('quotes short text and cuts long text at 80 characters', () => {
    assert.equal(clip('abc'), '"abc"');
    assert.equal(clip('x'.repeat(100)), JSON.stringify('x'.repeat(80)) + '…');
  });
});
