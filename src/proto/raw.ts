/**
 * drpc RAW proto (id 6): the default on TCP and, inside binary WebSocket messages, the only WS
 * encoding that carries status. All integers big-endian.
 *
 *   u32 total length (including itself) | u8 version = 1 | u8 pipe length | pipe ids
 *   ---- payload, run through the filter pipe as one blob ----
 *   u8 seq length | seq as base-36 text | u8 mtype | u8 method length | method
 *   u16 status length | status | u16 meta length | meta | u8 body codec | body
 *
 * The erpc dialect has no version byte and writes status and meta urlencoded.
 */
import { formatSeq, parseSeq, NONE, type Message } from '../message.ts';
import type { FilterPipes } from '../filter/filter.ts';
import { badMessage, OK_STATUS, type Status } from '../status.ts';
import { asciiDecode, isAscii, utf8Decode, utf8Encode, EMPTY_BYTES } from '../utf8.ts';
import { allocBytes } from '../alloc.ts';
import * as text from '../wire-text.ts';
import { guarded, resolveProtoOptions, tooLarge, type Proto, type ProtoOptions } from './proto.ts';

interface Dialect {
  /** Header bytes after the length: version (drpc only) and pipe length. */
  prefix: 1 | 2;
  encodeStatus(s: Status): string;
  decodeStatus(t: string): Status;
  encodeMeta(m: text.Meta): string;
  decodeMeta(t: string): text.Meta;
}

const drpcDialect: Dialect = {
  prefix: 2,
  encodeStatus: text.encodeStatus,
  decodeStatus: text.decodeStatus,
  encodeMeta: text.encodeMeta,
  decodeMeta: text.decodeMeta,
};

const erpcDialect: Dialect = {
  prefix: 1,
  encodeStatus: text.encodeStatusQuery,
  decodeStatus: text.decodeStatusQuery,
  encodeMeta: text.encodeMetaQuery,
  decodeMeta: text.decodeMetaQuery,
};

const RAW_VERSION = 1;

/** drpc's RAW proto (DMicro dialect). */
export function rawProto(options: ProtoOptions = {}): Proto {
  return makeRaw('raw', drpcDialect, options);
}

/** erpc v6's RAW proto: no version byte, urlencoded status and meta. */
export function erpcRawProto(options: ProtoOptions = {}): Proto {
  return makeRaw('raw-erpc', erpcDialect, options);
}

function makeRaw(name: string, dialect: Dialect, options: ProtoOptions): Proto {
  const { filters, maxFrameSize } = resolveProtoOptions(options);
  const prefix = dialect.prefix;
  return {
    id: 6,
    name,
    binary: true,
    pack(m) {
      if (!m.pipe.length) {
        // The common case: one allocation, header and payload written in place.
        const out = encodePayload(m, dialect, 4 + prefix);
        writeHead(m, out, prefix);
        return out;
      }
      const out = filters.pack(m.pipe, encodePayload(m, dialect, 0));
      return out instanceof Promise ? out.then((p) => frame(m, p, prefix)) : frame(m, out, prefix);
    },
    unpack: guarded('raw frame', (input) => {
      if (typeof input === 'string') throw badMessage('raw frame must be binary, got text');
      return unpackFrame(input, dialect, filters, maxFrameSize);
    }),
  };
}

function frame(m: Message, payload: Uint8Array, prefix: number): Uint8Array {
  const size = 4 + prefix + m.pipe.length + payload.length;
  if (size > 0xffffffff) throw badMessage(`frame of ${size} bytes exceeds the u32 length field`);
  const out = allocBytes(size);
  out.set(payload, writeHead(m, out, prefix));
  return out;
}

/** Writes length, version (drpc) and the pipe ids at the start of `out` (the whole frame); returns where the payload starts. */
function writeHead(m: Message, out: Uint8Array, prefix: number): number {
  const size = out.length;
  // Uint8Array stores keep the low 8 bits, so no masking is needed.
  out[0] = size >>> 24;
  out[1] = size >>> 16;
  out[2] = size >>> 8;
  out[3] = size;
  let at = 4;
  if (prefix === 2) out[at++] = RAW_VERSION;
  out[at++] = m.pipe.length;
  for (const id of m.pipe) out[at++] = id;
  m.size = size;
  return at;
}

const OK_STATUS_BYTES = utf8Encode(text.encodeStatus(OK_STATUS));
const EMPTY_META_BYTES = utf8Encode('{}');

// Service methods repeat: keep their UTF-8 bytes (bounded, so hostile names cannot grow it).
const methodCache = new Map<string, Uint8Array>();

function methodBytes(name: string): Uint8Array {
  let b = methodCache.get(name);
  if (b) return b;
  b = utf8Encode(name);
  if (methodCache.size >= 1024) methodCache.clear();
  methodCache.set(name, b);
  return b;
}

/** The bytes of a u16-length field, refused with a 400 when they do not fit. */
function u16Field(b: Uint8Array, what: string): Uint8Array {
  if (b.length > 0xffff) throw badMessage(`${what} of ${b.length} bytes exceeds 65535`);
  return b;
}

/** The payload in a new buffer, after `headRoom` bytes left for the header. */
function encodePayload(m: Message, dialect: Dialect, headRoom: number): Uint8Array {
  const seq = formatSeq(m.seq);
  const method = methodBytes(m.serviceMethod);
  if (method.length > 255) throw badMessage(`service method of ${method.length} bytes is longer than 255 (raw proto limit)`);
  const s = m.status;
  const status = u16Field(
    dialect === drpcDialect && s.code === 0 && !s.msg && !s.cause ? OK_STATUS_BYTES : utf8Encode(dialect.encodeStatus(s)),
    'status',
  );
  const metaText = dialect.encodeMeta(m.meta);
  const meta = u16Field(metaText === '{}' ? EMPTY_META_BYTES : utf8Encode(metaText), 'meta');
  if (m.mtype < 0 || m.mtype > 255) throw badMessage(`mtype ${m.mtype} is not a byte`);
  const out = allocBytes(headRoom + 1 + seq.length + 2 + method.length + 2 + status.length + 2 + meta.length + 1 + m.body.length);
  let at = headRoom;
  out[at++] = seq.length;
  for (let i = 0; i < seq.length; i++) out[at++] = seq.charCodeAt(i);
  out[at++] = m.mtype;
  at = putField(out, at, method, 1);
  at = putField(out, at, status, 2);
  at = putField(out, at, meta, 2);
  out[at++] = m.bodyCodec;
  if (m.body.length) out.set(m.body, at);
  return out;
}

/** Writes `b` after its big-endian length in `width` (1 or 2) bytes; returns the offset after it. */
function putField(out: Uint8Array, at: number, b: Uint8Array, width: number): number {
  if (width === 2) out[at++] = b.length >> 8;
  out[at++] = b.length; // the low byte (Uint8Array stores truncate)
  out.set(b, at);
  return at + b.length;
}

function unpackFrame(input: Uint8Array, dialect: Dialect, filters: FilterPipes, max: number): Message | Promise<Message> {
  const head = 4 + dialect.prefix;
  if (input.length < head) throw badMessage(`raw frame truncated: ${input.length} bytes, header needs ${head}`);
  const size = ((input[0]! << 24) | (input[1]! << 16) | (input[2]! << 8) | input[3]!) >>> 0;
  if (size > max) throw tooLarge(size, max);
  if (size !== input.length) throw badMessage(`raw frame length field says ${size} bytes but the frame has ${input.length}`);
  const pipeLen = input[head - 1]!;
  const start = head + pipeLen;
  if (start > size) throw badMessage(`raw frame truncated inside the filter pipe (${pipeLen} ids)`);
  if (pipeLen === 0) return decodePayload(input, start, NONE, size, dialect);
  const pipe = Array.from(input.subarray(head, start));
  const out = filters.unpack(pipe, input.subarray(start), { maxSize: max });
  return out instanceof Promise ? out.then((p) => decodePayload(p, 0, pipe, size, dialect)) : decodePayload(out, 0, pipe, size, dialect);
}

/** The message of the payload that starts at `at` in `p` (to its end). */
function decodePayload(p: Uint8Array, at: number, pipe: readonly number[], size: number, dialect: Dialect): Message {
  return reader.message(p, at, pipe, size, dialect);
}

/**
 * Bounds-checked cursor over a payload: every read names the field it was reading when the payload
 * ran out. One for all frames (reading is synchronous), and no copy of the payload nor of the seq:
 * a fan-out client reads thousands of frames a second, and each object less is less GC.
 */
class PayloadReader {
  #p: Uint8Array = EMPTY_BYTES;
  #at = 0;
  /** The last service method read, as bytes and text: pushes mostly repeat one. */
  #method: Uint8Array = EMPTY_BYTES;
  #methodText = '';

  message(p: Uint8Array, at: number, pipe: readonly number[], size: number, dialect: Dialect): Message {
    this.#p = p;
    this.#at = at;
    const seqAt = this.#take(this.#u8('seq length'), 'seq');
    const seq = parseSeq(p, seqAt, this.#at);
    const mtype = this.#u8('mtype');
    const serviceMethod = this.#serviceMethod(this.#u8('service method length'));
    const statusLen = this.#u16('status length');
    const status = this.#matches(OK_STATUS_BYTES, statusLen) ? OK_STATUS : dialect.decodeStatus(this.#utf8(statusLen, 'status'));
    const metaLen = this.#u16('meta length');
    const meta = this.#matches(EMPTY_META_BYTES, metaLen) ? {} : dialect.decodeMeta(this.#utf8(metaLen, 'meta'));
    const bodyCodec = this.#u8('body codec');
    const body = p.subarray(this.#at);
    this.#p = EMPTY_BYTES; // not kept alive by the reader
    // Every field in one literal, size too: one object shape, no property added afterwards.
    return { seq, mtype, serviceMethod, status, meta, bodyCodec, body, pipe, size };
  }

  #take(n: number, what: string): number {
    const start = this.#at;
    if (start + n > this.#p.length) throw badMessage(`raw frame truncated in ${what}`);
    this.#at += n;
    return start;
  }

  #u8(what: string): number {
    return this.#p[this.#take(1, what)]!;
  }

  #u16(what: string): number {
    return (this.#u8(what) << 8) | this.#u8(what);
  }

  /** Consumes `n` bytes if they equal `expected` (fast paths for the OK status, `{}` meta, a repeated method). */
  #matches(expected: Uint8Array, n: number): boolean {
    const at = this.#at;
    if (n !== expected.length || at + n > this.#p.length) return false;
    for (let i = 0; i < n; i++) if (this.#p[at + i] !== expected[i]) return false;
    this.#at += n;
    return true;
  }

  #serviceMethod(n: number): string {
    if (this.#matches(this.#method, n)) return this.#methodText;
    const at = this.#at;
    const text = this.#utf8(n, 'service method');
    this.#method = this.#p.slice(at, at + n);
    return (this.#methodText = text);
  }

  #utf8(n: number, what: string): string {
    const i = this.#take(n, what);
    const p = this.#p;
    return isAscii(p, i, i + n) && n < 64 ? asciiDecode(p, i, i + n) : utf8Decode(p.subarray(i, i + n), what);
  }
}

const reader = new PayloadReader();
