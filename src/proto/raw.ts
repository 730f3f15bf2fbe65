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
import { createMessage, formatSeq, parseSeq, type Message } from '../message.ts';
import type { FilterPipes } from '../filter/filter.ts';
import { Code, DrpcError, OK_STATUS, type Status } from '../status.ts';
import { asciiDecode, isAscii, utf8Decode, utf8Encode } from '../utf8.ts';
import { allocBytes } from '../alloc.ts';
import * as text from '../wire-text.ts';
import { guard, resolveProtoOptions, tooLarge, type Proto, type ProtoOptions } from './proto.ts';

interface Dialect {
  version: boolean;
  encodeStatus(s: Status): string;
  decodeStatus(t: string): Status;
  encodeMeta(m: text.Meta): string;
  decodeMeta(t: string): text.Meta;
}

const drpcDialect: Dialect = {
  version: true,
  encodeStatus: text.encodeStatus,
  decodeStatus: text.decodeStatus,
  encodeMeta: text.encodeMeta,
  decodeMeta: text.decodeMeta,
};

const erpcDialect: Dialect = {
  version: false,
  encodeStatus: text.encodeStatusQuery,
  decodeStatus: text.decodeStatusQuery,
  encodeMeta: text.encodeMetaQuery,
  decodeMeta: text.decodeMetaQuery,
};

export const RAW_VERSION = 1;
const NO_PIPE: readonly number[] = Object.freeze([]);

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
  const prefix = dialect.version ? 2 : 1;
  return {
    id: 6,
    name,
    binary: true,
    pack(m) {
      const parts = encodeParts(m, dialect);
      if (!m.pipe.length) {
        // The common case: one allocation, header and payload written in place.
        const size = 4 + prefix + parts.size;
        const out = allocBytes(size);
        writeHead(out, size, prefix, m.pipe);
        writePayload(out, 4 + prefix, parts, m);
        m.size = size;
        return out;
      }
      const payload = allocBytes(parts.size);
      writePayload(payload, 0, parts, m);
      const out = filters.pack(m.pipe, payload);
      return out instanceof Promise ? out.then((p) => frame(m, p, prefix)) : frame(m, out, prefix);
    },
    unpack(input) {
      return guard('raw frame', () => {
        if (typeof input === 'string') throw new DrpcError(Code.BadMessage, 'raw frame must be binary, got text');
        return unpackFrame(input, dialect, prefix, filters, maxFrameSize);
      });
    },
  };
}

function frame(m: Message, payload: Uint8Array, prefix: number): Uint8Array {
  const size = 4 + prefix + m.pipe.length + payload.length;
  if (size > 0xffffffff) throw new DrpcError(Code.BadMessage, `frame of ${size} bytes exceeds the u32 length field`);
  const out = allocBytes(size);
  const at = writeHead(out, size, prefix, m.pipe);
  out.set(payload, at);
  m.size = size;
  return out;
}

/** Writes length, version (drpc) and the pipe ids; returns where the payload starts. */
function writeHead(out: Uint8Array, size: number, prefix: number, pipe: readonly number[]): number {
  out[0] = size >>> 24;
  out[1] = (size >>> 16) & 0xff;
  out[2] = (size >>> 8) & 0xff;
  out[3] = size & 0xff;
  let at = 4;
  if (prefix === 2) out[at++] = RAW_VERSION;
  out[at++] = pipe.length;
  for (const id of pipe) out[at++] = id;
  return at;
}

const OK_STATUS_BYTES = utf8Encode(text.encodeStatus({ code: 0, msg: '', cause: '' }));
const EMPTY_META_BYTES = utf8Encode('{}');

interface Parts {
  seq: string;
  method: Uint8Array;
  status: Uint8Array;
  meta: Uint8Array;
  size: number;
}

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

function encodeParts(m: Message, dialect: Dialect): Parts {
  const seq = formatSeq(m.seq);
  const method = methodBytes(m.serviceMethod);
  if (method.length > 255)
    throw new DrpcError(Code.BadMessage, `service method of ${method.length} bytes is longer than 255 (raw proto limit)`);
  const s = m.status;
  const status = dialect === drpcDialect && s.code === 0 && !s.msg && !s.cause ? OK_STATUS_BYTES : utf8Encode(dialect.encodeStatus(s));
  const metaText = dialect.encodeMeta(m.meta);
  const meta = metaText === '{}' ? EMPTY_META_BYTES : utf8Encode(metaText);
  if (status.length > 0xffff) throw new DrpcError(Code.BadMessage, `status of ${status.length} bytes exceeds 65535`);
  if (meta.length > 0xffff) throw new DrpcError(Code.BadMessage, `meta of ${meta.length} bytes exceeds 65535`);
  if (m.mtype < 0 || m.mtype > 255) throw new DrpcError(Code.BadMessage, `mtype ${m.mtype} is not a byte`);
  const size = 1 + seq.length + 2 + method.length + 2 + status.length + 2 + meta.length + 1 + m.body.length;
  return { seq, method, status, meta, size };
}

function writePayload(out: Uint8Array, at: number, p: Parts, m: Message): void {
  const { seq, method, status, meta } = p;
  out[at++] = seq.length;
  for (let i = 0; i < seq.length; i++) out[at++] = seq.charCodeAt(i);
  out[at++] = m.mtype;
  out[at++] = method.length;
  out.set(method, at);
  at += method.length;
  out[at++] = status.length >> 8;
  out[at++] = status.length & 0xff;
  out.set(status, at);
  at += status.length;
  out[at++] = meta.length >> 8;
  out[at++] = meta.length & 0xff;
  if (meta.length) out.set(meta, at);
  at += meta.length;
  out[at++] = m.bodyCodec;
  if (m.body.length) out.set(m.body, at);
}

function unpackFrame(input: Uint8Array, dialect: Dialect, prefix: number, filters: FilterPipes, max: number): Message | Promise<Message> {
  if (input.length < 4 + prefix)
    throw new DrpcError(Code.BadMessage, `raw frame truncated: ${input.length} bytes, header needs ${4 + prefix}`);
  const size = ((input[0]! << 24) | (input[1]! << 16) | (input[2]! << 8) | input[3]!) >>> 0;
  if (size > max) throw tooLarge(size, max);
  if (size !== input.length)
    throw new DrpcError(Code.BadMessage, `raw frame length field says ${size} bytes but the frame has ${input.length}`);
  const pipeLen = input[3 + prefix]!;
  const start = 4 + prefix + pipeLen;
  if (start > size) throw new DrpcError(Code.BadMessage, `raw frame truncated inside the filter pipe (${pipeLen} ids)`);
  const pipe = pipeLen ? Array.from(input.subarray(4 + prefix, start)) : NO_PIPE;
  const payload = input.subarray(start);
  if (pipeLen === 0) return decodePayload(payload, pipe, size, dialect);
  const out = filters.unpack(pipe, payload, { maxSize: max });
  return out instanceof Promise ? out.then((p) => decodePayload(p, pipe, size, dialect)) : decodePayload(out, pipe, size, dialect);
}

function decodePayload(p: Uint8Array, pipe: readonly number[], size: number, dialect: Dialect): Message {
  const r = new Reader(p);
  const seqLen = r.u8('seq length');
  const seqText = r.ascii(seqLen, 'seq');
  const mtype = r.u8('mtype');
  const method = r.utf8(r.u8('service method length'), 'service method');
  const statusLen = r.u16('status length');
  const status = r.matches(OK_STATUS_BYTES, statusLen) ? OK_STATUS : dialect.decodeStatus(r.utf8(statusLen, 'status'));
  const metaLen = r.u16('meta length');
  const meta = r.matches(EMPTY_META_BYTES, metaLen) ? {} : dialect.decodeMeta(r.utf8(metaLen, 'meta'));
  const bodyCodec = r.u8('body codec');
  const m = createMessage({ seq: parseSeq(seqText), mtype, serviceMethod: method, status, meta, bodyCodec, body: p.subarray(r.at), pipe });
  m.size = size;
  return m;
}

/** Bounds-checked cursor: every read names the field it was reading when the payload ran out. */
class Reader {
  at = 0;
  constructor(readonly p: Uint8Array) {}
  take(n: number, what: string): number {
    const start = this.at;
    if (start + n > this.p.length) throw new DrpcError(Code.BadMessage, `raw frame truncated in ${what}`);
    this.at += n;
    return start;
  }
  u8(what: string): number {
    return this.p[this.take(1, what)]!;
  }
  u16(what: string): number {
    const i = this.take(2, what);
    return (this.p[i]! << 8) | this.p[i + 1]!;
  }
  /** Consumes `n` bytes if they equal `expected` (fast paths for the OK status and `{}` meta). */
  matches(expected: Uint8Array, n: number): boolean {
    if (n !== expected.length || this.at + n > this.p.length) return false;
    for (let i = 0; i < n; i++) if (this.p[this.at + i] !== expected[i]) return false;
    this.at += n;
    return true;
  }
  ascii(n: number, what: string): string {
    const i = this.take(n, what);
    if (!isAscii(this.p, i, i + n)) throw new DrpcError(Code.BadMessage, `${what} is not ASCII`);
    return asciiDecode(this.p, i, i + n);
  }
  utf8(n: number, what: string): string {
    const i = this.take(n, what);
    return isAscii(this.p, i, i + n) && n < 64 ? asciiDecode(this.p, i, i + n) : utf8Decode(this.p.subarray(i, i + n), what);
  }
}
