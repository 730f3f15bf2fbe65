/**
 * The drpc message: the unit every proto packs and every session routes.
 * Bodies here are bytes; codecs turn them into values in the session layer.
 */
import { badMessage, OK_STATUS, type Status } from './status.ts';
import type { Meta } from './wire-text.ts';
import { asciiDecode, isAscii, EMPTY_BYTES } from './utf8.ts';

/** drpc message types (`drpc/message/setting.go`). */
export const MType = {
  Undefined: 0,
  Call: 1,
  Reply: 2,
  Push: 3,
  AuthCall: 4,
  AuthReply: 5,
} as const;
export type MType = (typeof MType)[keyof typeof MType];

const mtypeText = ['Undefined', 'CALL', 'REPLY', 'PUSH', 'AUTH_CALL', 'AUTH_REPLY'];

/** drpc's `TypeText`. */
export function mtypeName(t: number): string {
  return mtypeText[t] ?? 'Unknown';
}

export interface Message {
  /** int32; a REPLY echoes its CALL's seq. */
  seq: number;
  /** A byte; see MType. Any byte decodes; the session decides what is allowed. */
  mtype: number;
  /** Route name, ≤ 255 bytes UTF-8; empty on REPLY. */
  serviceMethod: string;
  /** OK when absent on the wire. */
  status: Status;
  meta: Meta;
  /** Body codec id (a byte); 0 = none. */
  bodyCodec: number;
  /** Codec-encoded body bytes (after the filter pipe was undone). */
  body: Uint8Array;
  /** Transfer filter ids; ids[0] is the outermost layer. */
  pipe: readonly number[];
  /** Packed frame size, set by the proto on pack and unpack. */
  size?: number;
}

/** An empty list that nobody can add to (no pipe, no plugins): one for all. */
export const NONE: readonly never[] = Object.freeze([]);

/** A message with drpc's defaults for every field not given. */
export function createMessage(fields: Partial<Message> & Pick<Message, 'mtype'>): Message {
  return {
    seq: fields.seq ?? 0,
    mtype: fields.mtype,
    serviceMethod: fields.serviceMethod ?? '',
    status: fields.status ?? OK_STATUS,
    meta: fields.meta ?? {},
    bodyCodec: fields.bodyCodec ?? 0,
    body: fields.body ?? EMPTY_BYTES,
    pipe: fields.pipe ?? NONE,
  };
}

export const INT32_MIN = -0x80000000;
export const INT32_MAX = 0x7fffffff;

/** The seq after `seq`, wrapping as Go's int32 `atomic.AddInt32` does. */
export function nextSeq(seq: number): number {
  return (seq + 1) | 0;
}

/** Seq as RAW-wire text: base 36, lowercase, `-` when negative (Go `strconv.FormatInt(s, 36)`). */
export function formatSeq(seq: number): string {
  return seq.toString(36);
}

const seqText = /^[+-]?[0-9a-zA-Z]+$/;

/**
 * Parses base-36 seq text as Go's `strconv.ParseInt(s, 36, 32)`; 400 on anything else. The text may
 * be given as bytes (`from`–`to` of a frame): the RAW proto reads seqs without making a string.
 */
export function parseSeq(text: string | Uint8Array, from = 0, to = text.length): number {
  // Fast path: up to 6 lowercase base-36 digits (every seq below 36^6 ≈ 2.2e9, i.e. nearly all).
  if (to > from && to - from <= 6) {
    let n = 0;
    for (let i = from; i < to; i++) {
      const c = typeof text === 'string' ? text.charCodeAt(i) : text[i]!;
      const d = c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 122 ? c - 87 : -1;
      if (d < 0) return parseSeqSlow(seqString(text, from, to));
      n = n * 36 + d;
    }
    if (n <= INT32_MAX) return n;
  }
  return parseSeqSlow(seqString(text, from, to));
}

function seqString(text: string | Uint8Array, from: number, to: number): string {
  if (typeof text === 'string') return text.slice(from, to);
  if (!isAscii(text, from, to)) throw badMessage('seq is not ASCII');
  return asciiDecode(text, from, to);
}

function parseSeqSlow(text: string): number {
  const n = seqText.test(text) ? parseInt(text, 36) : NaN;
  if (n >= INT32_MIN && n <= INT32_MAX) return n | 0;
  const why = Number.isNaN(n) ? 'is not base-36' : 'is out of int32 range';
  throw badMessage(`seq ${JSON.stringify(text)} ${why}`);
}

export function isInt32(n: unknown): n is number {
  // `n | 0` differs from any non-integer and from any number outside int32.
  return typeof n === 'number' && n === (n | 0);
}
