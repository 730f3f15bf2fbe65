/** The SSE parser and base64 decoder of the HTTP transport: any chunking of the stream gives the same events. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { SseParser, fromBase64, splitBatch, type SseEvent } from '../../../src/transport/sse.ts';
import { batchEvent, frameEvent } from '../../../adapters/node/http-transport.ts';

const utf8 = new TextEncoder();
const text = new TextDecoder();

/** The events, with their data as text (a callback's data bytes are valid only during it). */
function parse(chunks: Uint8Array[]): { event: string; id: string; data: string }[] {
  const out: { event: string; id: string; data: string }[] = [];
  const p = new SseParser((e: SseEvent) => void out.push({ event: e.event, id: e.id, data: text.decode(e.data) }));
  for (const c of chunks) p.push(c);
  return out;
}

describe('SseParser', () => {
  it('reads events, ids, multi-line data and CRLF; comments and empty events are no events', () => {
    const stream = ': ping\n\nevent: open\ndata: {"sid":"x"}\n\nid: 1\ndata: a\ndata: b\n\r\nevent: b\r\nid: 2\r\ndata:QUJD\r\n\r\n';
    assert.deepEqual(parse([utf8.encode(stream)]), [
      { event: 'open', data: '{"sid":"x"}', id: '' },
      { event: 'message', data: 'a\nb', id: '1' },
      { event: 'b', data: 'QUJD', id: '2' },
    ]);
  });

  it('keeps the data of an event cut by a chunk end even when the reader reuses the chunk buffer', () => {
    const out: string[] = [];
    const p = new SseParser((e) => void out.push(`${e.id}:${text.decode(e.data)}`));
    const chunk = utf8.encode('id: 7\ndata: first\ndata: sec');
    p.push(chunk);
    chunk.fill(0); // a stream may hand the same memory back with the next bytes
    p.push(utf8.encode('ond\n\n'));
    assert.deepEqual(out, ['7:first\nsecond']);
  });

  it('gives the same events however the stream is cut into chunks (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.string({ unit: 'grapheme', maxLength: 40 }), fc.uint8Array({ maxLength: 60 })), { maxLength: 20 }),
        fc.array(fc.nat(), { maxLength: 30 }),
        (frames, cuts) => {
          const mapped = frames.map((f) => (typeof f === 'string' ? f.replace(/\r/g, '') : f));
          const bytes = utf8.encode(mapped.map((f, i) => frameEvent(i + 1, f)).join(': ping\n\n'));
          const whole = parse([bytes]);
          const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
          const chunks: Uint8Array[] = [];
          let at = 0;
          for (const p of points) {
            chunks.push(bytes.slice(at, p));
            at = p;
          }
          chunks.push(bytes.slice(at));
          assert.deepEqual(parse(chunks), whole);
          assert.equal(whole.length, mapped.length);
          whole.forEach((e, i) => {
            const f = mapped[i]!;
            const b64 = utf8.encode(e.data);
            const back = e.event === 'b' ? fromBase64(b64) : e.event === 't' ? text.decode(fromBase64(b64)) : e.data;
            assert.deepEqual(back, f);
            assert.equal(e.id, String(i + 1));
          });
        },
      ),
    );
  });
});

describe('fromBase64', () => {
  it('decodes what Buffer encodes, every length and padding (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        const b64 = Buffer.from(bytes).toString('base64');
        assert.deepEqual(fromBase64(utf8.encode(b64)), bytes); // the JS decoder (browsers, Deno, Bun)
        assert.deepEqual(new Uint8Array(fromBase64(Buffer.from(b64, 'latin1'))), bytes); // Node's, for Buffers
      }),
    );
  });
});

describe('splitBatch', () => {
  it("gives back the frames of the endpoint's batch event, and refuses one cut short (property)", () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 40 }), { minLength: 1, maxLength: 8 }), fc.nat(), (frames, cut) => {
        const event = batchEvent(frames.length, frames);
        const b64 = /\ndata: (.*)\n\n$/.exec(event)![1]!;
        const bytes = fromBase64(utf8.encode(b64));
        assert.deepEqual(
          splitBatch(bytes)?.map((f) => [...f]),
          frames.map((f) => [...f]),
        );
        const short = cut % bytes.length;
        const part = splitBatch(bytes.subarray(0, short));
        // a cut at a frame boundary is a shorter batch; anywhere else it is refused
        if (part) assert.ok(part.length < frames.length || short === 0);
        assert.equal(splitBatch(new Uint8Array([0, 0, 0, 9, 1])), undefined);
        assert.equal(splitBatch(new Uint8Array([0, 0])), undefined);
      }),
    );
  });
});
