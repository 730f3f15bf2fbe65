/**
 * The text encodings drpc puts inside frames, reproduced byte for byte:
 * - meta: Go `encoding/json` of a map (sorted keys, HTML-safe escapes);
 * - status: `{"code":…,"msg":…,"cause":…}` with strings written by Go's `strconv.Quote`;
 * - the erpc dialect's urlencoded variants (goutil's query escaping).
 * Where Go would write invalid JSON (`\x01` from strconv.Quote) we write the JSON-valid
 * `\u0001` instead, and the decoders accept Go's form too.
 */
import { Code, DrpcError, OK_STATUS, type Status } from './status.ts';

export type Meta = Record<string, string>;

const hex = '0123456789abcdef';
const u4 = (c: number) => '\\u' + hex[(c >> 12) & 15] + hex[(c >> 8) & 15] + hex[(c >> 4) & 15] + hex[c & 15];

// Characters Go's encoding/json writes verbatim: printable ASCII except " \ < > &.
const jsonPlain = /^[\x20\x21\x23-\x25\x27-\x3b\x3d\x3f-\x5b\x5d-\x7e]*$/;

/** A string as Go's `encoding/json` writes it (HTML escaping on, lone surrogates → U+FFFD). */
export function goJSONString(s: string): string {
  if (jsonPlain.test(s)) return '"' + s + '"';
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

// Go's unicode.IsPrint: letters, marks, numbers, punctuation, symbols and the ASCII space.
const notPrint = /[^\p{L}\p{M}\p{N}\p{P}\p{S} ]/u;

/** A string as Go's `strconv.Quote` writes it, kept valid JSON (`\u00XX` where Go writes `\xXX`). */
export function goQuote(s: string): string {
  if (!notPrint.test(s) && !/["\\]/.test(s)) return '"' + s + '"';
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

/**
 * Rewrites what Go writes but JSON forbids: strconv.Quote's escapes (`\x`, `\a`, `\v`, `\U`) and raw
 * control characters inside strings (drpc's JSON sub-protocol copies body bytes with only `"` escaped).
 */
function goEscapesToJSON(text: string): string {
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
  let v: unknown;
  try {
    v = parseLenient(text);
  } catch {
    throw new DrpcError(Code.BadMessage, `status is not valid JSON: ${clip(text)}`);
  }
  if (v === null) return OK_STATUS;
  if (typeof v !== 'object' || Array.isArray(v)) throw new DrpcError(Code.BadMessage, `status is not a JSON object: ${clip(text)}`);
  const o = v as Record<string, unknown>;
  const code = o['code'] ?? 0;
  if (typeof code !== 'number' || !Number.isInteger(code) || code !== (code | 0))
    throw new DrpcError(Code.BadMessage, `status code is not an int32: ${clip(text)}`);
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
    if (x === y) continue;
    // Surrogates (astral code points) sort above U+E000-U+FFFF in UTF-8 but below in UTF-16.
    const xs = x >= 0xd800 && x <= 0xdfff;
    const ys = y >= 0xd800 && y <= 0xdfff;
    if (xs !== ys && (x >= 0xe000 || y >= 0xe000)) return xs ? 1 : -1;
    return x - y;
  }
  return a.length - b.length;
}

/** Meta as Go's `json.Marshal(map[string]…)`: `{}` when empty, keys sorted bytewise. */
export function encodeMeta(meta: Meta): string {
  if (isEmpty(meta)) return '{}';
  const keys = Object.keys(meta);
  if (keys.length === 0) return '{}';
  if (keys.length > 1) keys.sort(compareUTF8);
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
    throw new DrpcError(Code.BadMessage, `meta is not valid JSON: ${clip(text)}`);
  }
  return metaFromValue(v, text);
}

/** A parsed meta value (object or null) as a string map. */
export function metaFromValue(v: unknown, text = ''): Meta {
  if (v === null || v === undefined) return {};
  if (typeof v !== 'object' || Array.isArray(v))
    throw new DrpcError(Code.BadMessage, `meta is not a JSON object: ${clip(text || String(v))}`);
  // Usual case: every value already a string; JSON.parse made a fresh plain object, so keep it.
  let allStrings = true;
  for (const k in v) if (typeof (v as Record<string, unknown>)[k] !== 'string') allStrings = false;
  if (allStrings && Object.getPrototypeOf(v) === Object.prototype) return v as Meta;
  const meta: Meta = {};
  for (const [k, val] of Object.entries(v as Record<string, unknown>)) {
    if (val === null || val === undefined) continue;
    setMeta(meta, k, typeof val === 'string' ? val : JSON.stringify(val));
  }
  return meta;
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
    throw new DrpcError(Code.BadMessage, `${what} has a bad %-escape: ${clip(s)}`);
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
      if (!/^-?\d+$/.test(v) || n !== (n | 0)) throw new DrpcError(Code.BadMessage, `status code is not an int32: ${clip(v)}`);
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
  return text.length > 80 ? JSON.stringify(text.slice(0, 80)) + '…' : JSON.stringify(text);
}
