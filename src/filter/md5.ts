/** md5 filter '5' (drpc): appends the 16-byte MD5 digest of the data; unpack verifies and strips it. */
import type { Filter } from './filter.ts';
import { badMessage } from '../status.ts';
import { nodeBuiltin } from '../runtime.ts';

interface NodeCrypto {
  createHash(alg: string): { update(d: Uint8Array): { digest(): Uint8Array } };
}

const crypto = nodeBuiltin<NodeCrypto>('crypto');

export function md5(data: Uint8Array): Uint8Array {
  if (crypto) return new Uint8Array(crypto.createHash('md5').update(data).digest());
  return md5js(data);
}

export const md5Filter: Filter = {
  id: 0x35,
  name: 'md5',
  onPack(data) {
    const out = new Uint8Array(data.length + 16);
    out.set(data);
    out.set(md5(data), data.length);
    return out;
  },
  onUnpack(data) {
    if (data.length < 16) throw badMessage(`md5 filter: data of ${data.length} bytes has no 16-byte digest`);
    const body = data.subarray(0, data.length - 16);
    const sum = md5(body);
    for (let i = 0; i < 16; i++)
      if (sum[i] !== data[body.length + i]) throw badMessage('md5 filter: digest mismatch (data corrupted in transit)');
    return body;
  },
};

// RFC 1321, for runtimes without node:crypto (WebCrypto has no MD5).
const S = [7, 12, 17, 22, 5, 9, 14, 20, 4, 11, 16, 23, 6, 10, 15, 21];
const K = Array.from({ length: 64 }, (_, i) => Math.floor(Math.abs(Math.sin(i + 1)) * 2 ** 32) >>> 0);

export function md5js(data: Uint8Array): Uint8Array {
  const n = ((data.length + 8) >> 6) + 1;
  const words = new Uint32Array(n * 16);
  for (let i = 0; i < data.length; i++) words[i >> 2]! |= data[i]! << ((i % 4) * 8);
  words[data.length >> 2]! |= 0x80 << ((data.length % 4) * 8);
  const bits = data.length * 8;
  words[n * 16 - 2] = bits >>> 0;
  words[n * 16 - 1] = Math.floor(bits / 2 ** 32);
  let a0 = 0x67452301,
    b0 = 0xefcdab89,
    c0 = 0x98badcfe,
    d0 = 0x10325476;
  for (let blk = 0; blk < words.length; blk += 16) {
    let a = a0,
      b = b0,
      c = c0,
      d = d0;
    for (let i = 0; i < 64; i++) {
      const r = i >> 4;
      const f = r === 0 ? (b & c) | (~b & d) : r === 1 ? (d & b) | (~d & c) : r === 2 ? b ^ c ^ d : c ^ (b | ~d);
      const g = r === 0 ? i : r === 1 ? (5 * i + 1) % 16 : r === 2 ? (3 * i + 5) % 16 : (7 * i) % 16;
      const t = d;
      d = c;
      c = b;
      const x = (a + f + K[i]! + words[blk + g]!) | 0;
      const s = S[(i >> 4) * 4 + (i % 4)]!;
      b = (b + ((x << s) | (x >>> (32 - s)))) | 0;
      a = t;
    }
    a0 = (a0 + a) | 0;
    b0 = (b0 + b) | 0;
    c0 = (c0 + c) | 0;
    d0 = (d0 + d) | 0;
  }
  const out = new Uint8Array(16);
  [a0, b0, c0, d0].forEach((v, i) => {
    for (let j = 0; j < 4; j++) out[i * 4 + j] = (v >>> (8 * j)) & 0xff;
  });
  return out;
}
