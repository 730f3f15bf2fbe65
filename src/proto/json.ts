/**
 * drpc's WebSocket JSON sub-protocol (id 'j'): one text frame per message, no length prefix.
 *
 *   {"seq":1,"mtype":1,"serviceMethod":"/p/divide","meta":"{}","bodyCodec":106,"body":"…","ptf":[]}
 *
 * `meta` is the meta JSON as a string; the filter pipe applies to the body only; `body` is a JSON
 * string, so only bodies that are valid UTF-8 after filtering can travel. drpc's format has no
 * status: an error REPLY from a Go server arrives as an empty OK body. We add a `status` key (the
 * status JSON as a string) on non-OK messages; Go ignores unknown keys, our peers read it.
 * Go escapes only `"` in bodies; we escape fully (Go's decoder unescapes properly).
 */
import { createMessage, isInt32, type Message } from '../message.ts';
import { badMessage, OK_STATUS, type DrpcError } from '../status.ts';
import { utf8Decode, utf8Encode } from '../utf8.ts';
import { clip, decodeMeta, decodeStatus, encodeMeta, encodeStatus, goQuote, metaFromValue, parseLenient } from '../wire-text.ts';
import { guarded, resolveProtoOptions, tooLarge, type Proto, type ProtoOptions } from './proto.ts';

export interface JsonProtoOptions extends ProtoOptions {
  /** Add the `status` key on non-OK messages (ignored by Go, read by our peers). Default true. */
  statusExtension?: boolean;
}

const FRAME = 'json frame';

export function jsonProto(options: JsonProtoOptions = {}): Proto {
  const { filters, maxFrameSize } = resolveProtoOptions(options);
  const statusExt = options.statusExtension ?? true;
  return {
    id: 0x6a,
    name: 'json',
    binary: false,
    pack(m) {
      if (!m.pipe.length) return build(m, m.body, statusExt);
      const body = filters.pack(m.pipe, m.body);
      return body instanceof Promise ? body.then((b) => build(m, b, statusExt)) : build(m, body, statusExt);
    },
    unpack: guarded(FRAME, (frame) => {
      const size = frame.length; // characters of a text frame, bytes of a binary one
      if (size > maxFrameSize) throw tooLarge(size, maxFrameSize);
      const m = parse(typeof frame === 'string' ? frame : utf8Decode(frame, FRAME));
      m.size = size;
      if (!m.pipe.length) return m;
      const out = filters.unpack(m.pipe, m.body, { maxSize: maxFrameSize });
      return out instanceof Promise ? out.then((b) => withBody(m, b)) : withBody(m, out);
    }),
  };
}

function build(m: Message, body: Uint8Array, statusExt: boolean): string {
  // utf8Decode's 400 reads "<what> is not valid UTF-8".
  const bodyText = utf8Decode(body, 'json sub-protocol carries text bodies only: the body (after filters)');
  const s = m.status;
  const status = statusExt && s.code !== 0 ? `,"status":${goQuote(encodeStatus(s))}` : '';
  const out =
    `{"seq":${m.seq | 0},"mtype":${m.mtype}${status},"serviceMethod":${goQuote(m.serviceMethod)},` +
    `"meta":${goQuote(encodeMeta(m.meta))},"bodyCodec":${m.bodyCodec},"body":${JSON.stringify(bodyText)},` +
    `"ptf":[${m.pipe.join(',')}]}`;
  m.size = out.length;
  return out;
}

function withBody(m: Message, body: Uint8Array): Message {
  m.body = body;
  return m;
}

/** A 400 naming what is wrong with the frame. */
function bad(what: string): DrpcError {
  return badMessage(`${FRAME} ${what}`);
}

/** The message a frame carries, its body still as sent (before the filter pipe). */
function parse(text: string): Message {
  let v: unknown;
  try {
    v = parseLenient(text); // Go frames: raw control characters in bodies, strconv.Quote escapes in method and meta
  } catch (err) {
    throw bad(`is not valid JSON (${(err as Error).message})`);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw bad(`is not an object: ${clip(text)}`);
  const o = v as Fields;
  const seq = int(o, 'seq', isInt32);
  const mtype = int(o, 'mtype', isByte);
  const bodyCodec = int(o, 'bodyCodec', isByte);
  const serviceMethod = str(o, 'serviceMethod');
  const body = utf8Encode(str(o, 'body'));
  const metaField = o['meta'];
  const meta = typeof metaField === 'string' ? decodeMeta(metaField) : metaFromValue(metaField);
  const statusField = o['status'];
  const status =
    statusField == null ? OK_STATUS : decodeStatus(typeof statusField === 'string' ? statusField : JSON.stringify(statusField));
  const ptf = o['ptf'] ?? [];
  if (!Array.isArray(ptf) || !ptf.every(isByte)) throw bad(`"ptf" is not an array of filter ids: ${clip(JSON.stringify(ptf))}`);
  return createMessage({ seq, mtype, serviceMethod, status, meta, bodyCodec, body, pipe: ptf as number[] });
}

function isByte(n: unknown): n is number {
  return isInt32(n) && n >= 0 && n <= 255;
}

type Fields = Record<string, unknown>;

/** Numbers may also come as numeric strings (Go's gjson converts them). Missing is 0. */
function int(o: Fields, key: string, ok: (n: unknown) => n is number): number {
  const v = o[key];
  if (v == null) return 0;
  const n = typeof v === 'string' && /^-?\d+$/.test(v) ? Number(v) : v;
  if (!ok(n)) throw bad(`"${key}" is out of range: ${clip(JSON.stringify(v))}`);
  return n;
}

function str(o: Fields, key: string): string {
  const v = o[key];
  if (v == null) return '';
  if (typeof v !== 'string') throw bad(`"${key}" is not a string`);
  return v;
}
