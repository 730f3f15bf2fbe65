/** The SSE parser and base64 decoder of the HTTP transport: any chunking of the stream gives the same events. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { SseParser, fromBase64, type SseEvent } from '../../../src/transport/sse.ts';
import { frameEvent } from '../../../adapters/node/http-transport.ts';

function parse(chunks: string[]): SseEvent[] {
  const out: SseEvent[] = [];
  const p = new SseParser((e) => void out.push(e));
  for (const c of chunks) p.push(c);
  return out;
}

describe('SseParser', () => {
  it('reads events, ids, multi-line data and CRLF; comments and empty events are no events', () => {
    const text = ': ping\n\nevent: open\ndata: {"sid":"x"}\n\nid: 1\ndata: a\ndata: b\n\r\nevent: b\r\nid: 2\r\ndata:QUJD\r\n\r\n';
    assert.deepEqual(parse([text]), [
      { event: 'open', data: '{"sid":"x"}', id: '' },
      { event: 'message', data: 'a\nb', id: '1' },
      { event: 'b', data: 'QUJD', id: '2' },
    ]);
  });

  it('gives the same events however the stream is cut into chunks (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.string({ unit: 'grapheme', maxLength: 40 }), fc.uint8Array({ maxLength: 60 })), { maxLength: 20 }),
        fc.array(fc.nat(), { maxLength: 30 }),
        (frames, cuts) => {
          const mapped = frames.map((f) => (typeof f === 'string' ? f.replace(/\r/g, '') : f));
          const text = mapped.map((f, i) => frameEvent(i + 1, f)).join(': ping\n\n');
          const whole = parse([text]);
          const points = [...new Set(cuts.map((c) => c % (text.length + 1)))].sort((a, b) => a - b);
          const chunks: string[] = [];
          let at = 0;
          for (const p of points) {
            chunks.push(text.slice(at, p));
            at = p;
          }
          chunks.push(text.slice(at));
          assert.deepEqual(parse(chunks), whole);
          assert.equal(whole.length, mapped.length);
          whole.forEach((e, i) => {
            const f = mapped[i]!;
            const back = e.event === 'b' ? fromBase64(e.data) : e.event === 't' ? new TextDecoder().decode(fromBase64(e.data)) : e.data;
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
        assert.deepEqual(fromBase64(Buffer.from(bytes).toString('base64')), bytes);
      }),
    );
  });
});
