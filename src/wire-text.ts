/**
 * The text encodings drpc puts inside frames, reproduced byte for byte:
 * - meta: Go `encoding/json` of a map (sorted keys, HTML-safe escapes);
 * - status: `{"code":…,"msg":…,"cause":…}` with strings written by Go's `strconv.Quote`;
 * - the erpc dialect's urlencoded variants (goutil's query escaping).
 * Where Go would write invalid JSON (`\x01` from strconv.Quote) we write the JSON-valid
 * `\u0001` instead, and the decoders accept Go's form too.
 */
import { badMessage, OK_STATUS, type Status } from './status.ts';

export type Meta = Record<string, string>;

/** A UTF-16 unit as `\uXXXX` (lowercase hex, as Go and JSON.stringify write it). */
const u4 = (c: number) => '\\u' + c.toString(16).padStart(4, '0');

// Characters Go's encoding/json writes verbatim: printable ASCII except " \ < > &.
const jsonPlain = /^[\x20\x21\x23-\x25\x27-\x3b\x3d\x3f-\x5b\x5d-\x7e]*$/;

// What Go escapes beyond JSON.stringify, found in JSON.stringify's output. Each also matches an escaped
// backslash (so that what follows it is not read as an escape) and `\udXXX`, which JSON.stringify
// writes only for a lone surrogate; see goFix.
const jsonFix = /\\\\|\\ud\w{3}|[<>&\u2028\u2029]/g;
const jsonFixNeeded = /\\ud|[<>&\u2028\u2029]/;
// Go's unicode.IsPrint: letters, marks, numbers, punctuation, symbols and the ASCII space.
const quoteSpecial = /["\\]|[^\p{L}\p{M}\p{N}\p{P}\p{S} ]/u;
const quoteFix = /\\\\|\\ud\w{3}|[^\p{L}\p{M}\p{N}\p{P}\p{S} ]/gu;

/** One jsonFix/quoteFix match as Go writes it: lone surrogate → U+FFFD, else `\uXXXX` per UTF-16 unit. */
function goFix(m: string): string {
  if (m === '\\\\') return m;
  if (m.length === 6) return '\ufffd';
  return u4(m.charCodeAt(0)) + (m.length > 1 ? u4(m.charCodeAt(1)) : '');
}

/** A string as Go's `encoding/json` writes it (HTML escaping on, lone surrogates → U+FFFD). */
export function goJSONString(s: string): string {
  if (jsonPlain.test(s)) return '"' + s + '"';
  const j = JSON.stringify(s);
  return jsonFixNeeded.test(j) ? j.replace(jsonFix, goFix) : j;
}

/**
 * A string as Go's `strconv.Quote` writes it, kept valid JSON: JSON.stringify already writes `"`, `\`
 * and the controls as Go does (`\u00XX` where Go writes `\xXX`, `\a` or `\v`); goFix does the rest.
 */
export function goQuote(s: string): string {
  return quoteSpecial.test(s) ? JSON.stringify(s).replace(quoteFix, goFix) : '"' + s + '"';
}

/**
 * Rewrites what Go writes but JSON forbids: strconv.Quote's escapes (`\x`, `\a`, `\v`, `\U`) and raw
 * control characters inside strings (drpc's JSON sub-protocol copies body bytes with only `"` escaped).
 * Matches run left to right, so `inString` follows the quotes that are not escaped.
 */
function goEscapesToJSON(text: string): string {
  let inString = false;
  // eslint-disable-next-line no-control-regex -- raw control characters are what this rewrites
  return text.replace(/\\(?:x.{0,2}|U.{0,8}|.?)|"|[\0-\x1f]/gs, (m) => {
    if (m === '"') inString = !inString;
    else if (m[0] !== '\\') return inString ? u4(m.charCodeAt(0)) : m;
    else if (m[1] === 'x') return '\\u00' + m.slice(2);
    else if (m[1] === 'a') return '\\u0007';
    else if (m[1] === 'v') return '\\u000b';
    else if (m[1] === 'U') {
      const cp = parseInt(m.slice(2), 16);
      return cp >= 0 && cp <= 0x10ffff ? JSON.stringify(String.fromCodePoint(cp)).slice(1, -1) : '\ufffd';
    }
    return m;
  });
}

/** JSON.parse, retried on Go's non-JSON output (see goEscapesToJSON); throws the parse error otherwise. */
export function parseLenient(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (first) {
    const fixed = goEscapesToJSON(text);
    if (fixed === text) throw first;
    return JSON.parse(fixed);
  }
}

const OK_TEXT = '{"code":0,"msg":"","cause":""}';

/** Status as drpc's `Status.MarshalJSON` writes it (fixed key order). */
export function encodeStatus(s: Status): string {
  if (s.code === 0 && s.msg === '' && s.cause === '') return OK_TEXT;
  return `{"code":${s.code | 0},"msg":${goQuote(s.msg)},"cause":${goQuote(s.cause)}}`;
}

/** Parses a status text; empty text or `null` is OK. Throws 400 naming the problem. */
export function decodeStatus(text: string): Status {
  if (text === '' || text === OK_TEXT) return OK_STATUS;
  const bad = (what: string) => badMessage(`status ${what}: ${clip(text)}`);
  let v: unknown;
  try {
    v = parseLenient(text);
  } catch {
    throw bad('is not valid JSON');
  }
  if (v === null) return OK_STATUS;
  if (typeof v !== 'object' || Array.isArray(v)) throw bad('is not a JSON object');
  const o = v as Record<string, unknown>;
  const code = o['code'] ?? 0;
  // `code | 0` differs from any non-integer and from any number outside int32.
  if (typeof code !== 'number' || code !== (code | 0)) throw bad('code is not an int32');
  return { code, msg: textField(o['msg']), cause: textField(o['cause']) };
}

function textField(v: unknown): string {
  return v === undefined || v === null ? '' : typeof v === 'string' ? v : JSON.stringify(v);
}

/** Byte-order comparison of two strings as UTF-8 (Go sorts map keys this way). */
function compareUTF8(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return utf8Rank(x) - utf8Rank(y);
  }
  return a.length - b.length;
}

// Surrogates (astral code points) sort above U+E000-U+FFFF in UTF-8 but below in UTF-16: move them up.
const utf8Rank = (c: number) => (c < 0xd800 ? c : c < 0xe000 ? c + 0x2000 : c - 0x800);

/** Meta as Go's `json.Marshal(map[string]…)`: `{}` when empty, keys sorted bytewise. */
export function encodeMeta(meta: Meta): string {
  if (isEmpty(meta)) return '{}';
  // Only inherited keys (no own ones) fall through to an empty loop, so that too writes {}.
  const keys = Object.keys(meta).sort(compareUTF8);
  let out = '{';
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i]!;
    out += (i ? ',' : '') + goJSONString(k) + ':' + goJSONString(String(meta[k]));
  }
  return out + '}';
}

function isEmpty(o: object): boolean {
  for (const _ in o) return false;
  return true;
}

/** Parses a meta text (a JSON object, `null` or empty); non-string values become their JSON text. */
export function decodeMeta(text: string): Meta {
  if (text === '' || text === '{}' || text === 'null') return {};
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw badMessage(`meta is not valid JSON: ${clip(text)}`);
  }
  return metaFromValue(v, text);
}

/** A parsed meta value (object or null) as a string map. */
export function metaFromValue(v: unknown, text = ''): Meta {
  if (v === null || v === undefined) return {};
  if (typeof v !== 'object' || Array.isArray(v)) throw badMessage(`meta is not a JSON object: ${clip(text || String(v))}`);
  // Usual case: every value already a string; JSON.parse made a fresh plain object, so keep it.
  let allStrings = true;
  for (const k in v) if (typeof (v as Record<string, unknown>)[k] !== 'string') allStrings = false;
  if (allStrings && Object.getPrototypeOf(v) === Object.prototype) return v as Meta;
  // fromEntries defines own properties, so a `__proto__` key stays a key.
  return Object.fromEntries(
    Object.entries(v as Record<string, unknown>)
      .filter(([, val]) => val !== undefined && val !== null)
      .map(([k, val]) => [k, typeof val === 'string' ? val : JSON.stringify(val)]),
  ) as Meta;
}

/** Sets a meta key as an own property, even `__proto__` (plain assignment would hit the prototype setter). */
function setMeta(meta: Meta, key: string, value: string): void {
  if (key === '__proto__') Object.defineProperty(meta, key, { value, enumerable: true, writable: true, configurable: true });
  else meta[key] = value;
}

// ---- erpc dialect: urlencoded status and meta -------------------------------------------------

/** goutil's query escaping: keeps [A-Za-z0-9*-._], everything else %XX (uppercase). */
function queryEscape(s: string): string {
  return uriEscape(s).replace(/[!'()~]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());
}

/** encodeURIComponent, with lone surrogates written as U+FFFD (as TextEncoder does) instead of a URIError. */
function uriEscape(s: string): string {
  try {
    return encodeURIComponent(s);
  } catch {
    return encodeURIComponent(s.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd'));
  }
}

function queryUnescape(s: string, what: string): string {
  try {
    return decodeURIComponent(s.replace(/\+/g, ' '));
  } catch {
    throw badMessage(`${what} has a bad %-escape: ${clip(s)}`);
  }
}

function parseQuery(text: string, what: string): [string, string][] {
  if (text === '') return [];
  return text.split('&').map((pair) => {
    const eq = pair.indexOf('=');
    return eq < 0 ? [queryUnescape(pair, what), ''] : [queryUnescape(pair.slice(0, eq), what), queryUnescape(pair.slice(eq + 1), what)];
  });
}

/** erpc status: `code=N[&msg=…][&cause=…]`. */
export function encodeStatusQuery(s: Status): string {
  let out = 'code=' + (s.code | 0);
  if (s.msg) out += '&msg=' + queryEscape(s.msg);
  if (s.cause) out += '&cause=' + queryEscape(s.cause);
  return out;
}

export function decodeStatusQuery(text: string): Status {
  const s = { code: 0, msg: '', cause: '' };
  const seen = new Set<string>();
  for (const [k, v] of parseQuery(text, 'status')) {
    if (seen.has(k)) continue; // erpc takes the first occurrence
    seen.add(k);
    if (k === 'code') {
      const n = Number(v);
      if (!/^-?\d+$/.test(v) || n !== (n | 0)) throw badMessage(`status code is not an int32: ${clip(v)}`);
      s.code = n;
    } else if (k === 'msg') s.msg = v;
    else if (k === 'cause') s.cause = v;
  }
  return s;
}

/** erpc meta: `k=v&k2=v2` in insertion order; empty meta is empty text. */
export function encodeMetaQuery(meta: Meta): string {
  return Object.keys(meta)
    .map((k) => queryEscape(k) + '=' + queryEscape(meta[k]!))
    .join('&');
}

export function decodeMetaQuery(text: string): Meta {
  const meta: Meta = {};
  for (const [k, v] of parseQuery(text, 'meta')) if (!Object.hasOwn(meta, k)) setMeta(meta, k, v);
  return meta;
}

/** First 80 characters of a text for error messages. */
export function clip(text: string): string {
  return JSON.stringify(text.slice(0, 80)) + (text.length > 80 ? '…' : '');
}
