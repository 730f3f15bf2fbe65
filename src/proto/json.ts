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
import { Code, DrpcError, OK_STATUS } from '../status.ts';
import { utf8Decode, utf8Encode } from '../utf8.ts';
import { clip, decodeMeta, decodeStatus, encodeMeta, encodeStatus, goQuote, metaFromValue, parseLenient } from '../wire-text.ts';
import { guard, resolveProtoOptions, tooLarge, type Proto, type ProtoOptions } from './proto.ts';

export interface JsonProtoOptions extends ProtoOptions {
  /** Add the `status` key on non-OK messages (ignored by Go, read by our peers). Default true. */
  statusExtension?: boolean;
}

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
    unpack(frame) {
      return guard('json frame', () => {
        const size = typeof frame === 'string' ? frame.length : frame.length;
        if (size > maxFrameSize) throw tooLarge(size, maxFrameSize);
        const text = typeof frame === 'string' ? frame : utf8Decode(frame, 'json frame');
        const { m, body } = parse(text);
        m.size = size;
        if (!m.pipe.length) return withBody(m, body);
        const out = filters.unpack(m.pipe, body, { maxSize: maxFrameSize });
        return out instanceof Promise ? out.then((b) => withBody(m, b)) : withBody(m, out);
      });
    },
  };
}

function build(m: Message, body: Uint8Array, statusExt: boolean): string {
  let bodyText: string;
  try {
    bodyText = utf8Decode(body, 'body');
  } catch {
    throw new DrpcError(Code.BadMessage, 'json sub-protocol carries text bodies only: the body (after filters) is not valid UTF-8');
  }
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

function parse(text: string): { m: Message; body: Uint8Array } {
  let v: unknown;
  try {
    v = parseLenient(text); // Go frames: raw control characters in bodies, strconv.Quote escapes in method and meta
  } catch (err) {
    throw new DrpcError(Code.BadMessage, `json frame is not valid JSON (${(err as Error).message})`);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    throw new DrpcError(Code.BadMessage, `json frame is not an object: ${clip(text)}`);
  const o = v as Record<string, unknown>;
  const seq = int(o['seq'], 'seq', isInt32);
  const mtype = int(o['mtype'], 'mtype', isByte);
  const bodyCodec = int(o['bodyCodec'], 'bodyCodec', isByte);
  const serviceMethod = str(o['serviceMethod'], 'serviceMethod');
  const body = str(o['body'], 'body');
  const metaField = o['meta'];
  const meta = typeof metaField === 'string' ? decodeMeta(metaField) : metaFromValue(metaField);
  const statusField = o['status'];
  const status =
    statusField === undefined || statusField === null
      ? OK_STATUS
      : decodeStatus(typeof statusField === 'string' ? statusField : JSON.stringify(statusField));
  const ptf = o['ptf'] ?? [];
  if (!Array.isArray(ptf) || !ptf.every(isByte))
    throw new DrpcError(Code.BadMessage, `json frame "ptf" is not an array of filter ids: ${clip(JSON.stringify(ptf))}`);
  return { m: createMessage({ seq, mtype, serviceMethod, status, meta, bodyCodec, pipe: ptf as number[] }), body: utf8Encode(body) };
}

function isByte(n: unknown): n is number {
  return typeof n === 'number' && Number.isInteger(n) && n >= 0 && n <= 255;
}

/** Numbers may also come as numeric strings (Go's gjson converts them). Missing is 0. */
function int(v: unknown, key: string, ok: (n: unknown) => n is number): number {
  if (v === undefined || v === null) return 0;
  const n = typeof v === 'string' && /^-?\d+$/.test(v) ? Number(v) : v;
  if (!ok(n)) throw new DrpcError(Code.BadMessage, `json frame "${key}" is out of range: ${clip(JSON.stringify(v))}`);
  return n;
}

function str(v: unknown, key: string): string {
  if (v === undefined || v === null) return '';
  if (typeof v !== 'string') throw new DrpcError(Code.BadMessage, `json frame "${key}" is not a string`);
  return v;
}
