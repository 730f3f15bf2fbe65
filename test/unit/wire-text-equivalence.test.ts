/**
 * The wire-text encoders were rewritten around JSON.stringify and regex fix-ups to shrink the bundle.
 * These properties pin the rewrite to the char-by-char originals (kept below verbatim) on random input
 * rich in the characters that matter: quotes, backslashes, controls, HTML characters, lone surrogates,
 * non-printable and astral code points, and Go's strconv.Quote escapes.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { decodeStatus, encodeMeta, goJSONString, goQuote, metaFromValue, parseLenient } from '../../src/wire-text.ts';

const hex = '0123456789abcdef';
const u4 = (c: number) => '\\u' + hex[(c >> 12) & 15] + hex[(c >> 8) & 15] + hex[(c >> 4) & 15] + hex[c & 15];

function oldGoJSONString(s: string): string {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x22) out += '\\"';
    else if (c === 0x5c) out += '\\\\';
    else if (c === 0x0a) out += '\\n';
    else if (c === 0x0d) out += '\\r';
    else if (c === 0x09) out += '\\t';
    else if (c === 0x08) out += '\\b';
    else if (c === 0x0c) out += '\\f';
    else if (c < 0x20 || c === 0x3c || c === 0x3e || c === 0x26 || c === 0x2028 || c === 0x2029) out += u4(c);
    else if (c >= 0xd800 && c <= 0xdfff) {
      const next = s.charCodeAt(i + 1);
      if (c <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
        out += s[i]! + s[i + 1]!;
        i++;
      } else out += '\ufffd';
    } else out += s[i];
  }
  return out + '"';
}

const notPrint = /[^\p{L}\p{M}\p{N}\p{P}\p{S} ]/u;

function oldGoQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (ch === '"') out += '\\"';
    else if (ch === '\\') out += '\\\\';
    else if (c === 0x0a) out += '\\n';
    else if (c === 0x0d) out += '\\r';
    else if (c === 0x09) out += '\\t';
    else if (c === 0x08) out += '\\b';
    else if (c === 0x0c) out += '\\f';
    else if (c >= 0xd800 && c <= 0xdfff) out += '\ufffd';
    else if (!notPrint.test(ch)) out += ch;
    else if (c > 0xffff) out += u4(0xd800 + ((c - 0x10000) >> 10)) + u4(0xdc00 + ((c - 0x10000) & 0x3ff));
    else out += u4(c);
  }
  return out + '"';
}

function oldGoEscapesToJSON(text: string): string {
  let out = '';
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    const c = ch.charCodeAt(0);
    if (ch === '"') inString = !inString;
    else if (c < 0x20 && inString) {
      out += u4(c);
      continue;
    }
    if (ch !== '\\') {
      out += ch;
      continue;
    }
    const n = text[i + 1];
    if (n === 'x') {
      out += '\\u00' + text.slice(i + 2, i + 4);
      i += 3;
    } else if (n === 'a' || n === 'v') {
      out += n === 'a' ? '\\u0007' : '\\u000b';
      i += 1;
    } else if (n === 'U') {
      const cp = parseInt(text.slice(i + 2, i + 10), 16);
      out += !(cp >= 0 && cp <= 0x10ffff) ? '\ufffd' : JSON.stringify(String.fromCodePoint(cp)).slice(1, -1);
      i += 9;
    } else {
      out += ch + (n ?? '');
      i += 1;
    }
  }
  return out;
}

function oldParseLenient(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (first) {
    const fixed = oldGoEscapesToJSON(text);
    if (fixed === text) throw first;
    return JSON.parse(fixed);
  }
}

function oldCompareUTF8(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    const xs = x >= 0xd800 && x <= 0xdfff;
    const ys = y >= 0xd800 && y <= 0xdfff;
    if (xs !== ys && (x >= 0xe000 || y >= 0xe000)) return xs ? 1 : -1;
    return x - y;
  }
  return a.length - b.length;
}

function oldEncodeMeta(meta: Record<string, string>): string {
  const keys = Object.keys(meta).sort(oldCompareUTF8);
  return '{' + keys.map((k) => oldGoJSONString(k) + ':' + oldGoJSONString(String(meta[k]))).join(',') + '}';
}

// Code units that exercise every branch, plus any UTF-16 unit and any code point.
const special = fc.constantFrom(
  ...'"\\<>&\u2028\u2029\x00\x01\x07\x08\x09\x0a\x0b\x0c\x0d\x1f\x7f\x80\x9f\u00a0\u00ad\ud800\udbff\udc00\udfff\ue000\uffff\u{e0001}\u{10ffff}😀 aéxXuUv{}:,0123456789abcdef',
);
const unit = fc.oneof(
  special,
  fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)),
  fc.integer({ min: 0, max: 0x10ffff }).map((c) => String.fromCodePoint(c)),
);
const text = (maxLength: number) => fc.string({ unit, maxLength });

// Go-flavoured JSON: quoted strings containing strconv.Quote escapes and raw controls, in and out of strings.
const goEscape = fc.oneof(
  fc.constantFrom('\\a', '\\v', '\\x', '\\U', '\\', '\\\\', '\\"', '"', '\\n', '\\u00e9', '\x01', '\t'),
  fc
    .tuple(fc.constantFrom('\\x', '\\U', '\\U000', '\\U0001', '\\U0x'), fc.stringMatching(/^[0-9a-fA-Fxz+\- ]{0,9}$/))
    .map(([a, b]) => a + b),
);
const goJSONish = fc
  .array(fc.oneof(goEscape, text(4), fc.constantFrom('{"msg":"', '"}', '"code":1,', '[', ']', 'null')), { maxLength: 12 })
  .map((parts) => parts.join(''));

function outcome(f: () => unknown): unknown {
  try {
    return { ok: f() };
  } catch (err) {
    return { threw: err instanceof Error ? err.name + ': ' + err.message : String(err) };
  }
}

describe('wire-text rewrite equals the char-by-char originals (property)', () => {
  it('goJSONString', () => {
    fc.assert(
      fc.property(text(24), (s) => assert.equal(goJSONString(s), oldGoJSONString(s))),
      { numRuns: 3000 },
    );
  });

  it('goQuote', () => {
    fc.assert(
      fc.property(text(24), (s) => assert.equal(goQuote(s), oldGoQuote(s))),
      { numRuns: 3000 },
    );
  });

  it('parseLenient and decodeStatus on Go-flavoured JSON', () => {
    fc.assert(
      fc.property(goJSONish, (s) => {
        assert.deepEqual(
          outcome(() => parseLenient(s)),
          outcome(() => oldParseLenient(s)),
        );
        const wrapped = '{"msg":"' + s + '"}';
        assert.deepEqual(
          outcome(() => parseLenient(wrapped)),
          outcome(() => oldParseLenient(wrapped)),
        );
        const status = outcome(() => decodeStatus(wrapped)) as { ok?: { msg: string } };
        const old = outcome(() => oldParseLenient(wrapped)) as { ok?: { msg?: unknown } };
        if (status.ok && old.ok && typeof old.ok.msg === 'string') assert.equal(status.ok.msg, old.ok.msg);
      }),
      { numRuns: 5000 },
    );
  });

  it('encodeMeta (UTF-8 key order)', () => {
    fc.assert(
      fc.property(fc.dictionary(text(5), text(6), { maxKeys: 10, noNullPrototype: true }), (meta) =>
        assert.equal(encodeMeta(meta), oldEncodeMeta(meta)),
      ),
      { numRuns: 2000 },
    );
  });

  it('metaFromValue on objects with non-string values and prototype-named keys', () => {
    const value = fc.oneof(
      fc.string(),
      fc.integer(),
      fc.boolean(),
      fc.constant(null),
      fc.constant(undefined),
      fc.array(fc.integer(), { maxLength: 2 }),
    );
    const key = fc.oneof(fc.string({ maxLength: 4 }), fc.constantFrom('__proto__', 'constructor', 'toString', '1', '0'));
    fc.assert(
      fc.property(fc.array(fc.tuple(key, value), { maxLength: 8 }), (pairs) => {
        const obj: Record<string, unknown> = {};
        for (const [k, v] of pairs) Object.defineProperty(obj, k, { value: v, enumerable: true, writable: true, configurable: true });
        const expected: Record<string, string> = {};
        for (const [k, v] of Object.entries(obj)) {
          if (v === undefined || v === null) continue;
          Object.defineProperty(expected, k, {
            value: typeof v === 'string' ? v : JSON.stringify(v),
            enumerable: true,
            writable: true,
            configurable: true,
          });
        }
        const got = metaFromValue(obj);
        assert.deepEqual(Object.entries(got), Object.entries(expected));
        assert.equal(Object.getPrototypeOf(got), Object.prototype);
      }),
      { numRuns: 1000 },
    );
  });
});
