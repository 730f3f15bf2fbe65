/**
 * A Server-Sent Events parser for a streamed `fetch` body (EventSource cannot set headers, and we
 * need the ids): feed it text chunks as they arrive, it calls back once per complete event.
 * Comment lines (`: ping`) count as activity only.
 */
export interface SseEvent {
  event: string;
  data: string;
  id: string;
}

export class SseParser {
  #buf = '';
  #event = '';
  #data: string[] = [];
  #id = '';

  constructor(private readonly onEvent: (e: SseEvent) => void) {}

  push(chunk: string): void {
    let text = this.#buf + chunk;
    let at = 0;
    for (let nl = text.indexOf('\n'); nl !== -1; nl = text.indexOf('\n', at)) {
      let line = text.slice(at, nl);
      at = nl + 1;
      if (line.endsWith('\r')) line = line.slice(0, -1);
      this.#line(line);
    }
    text = text.slice(at);
    this.#buf = text;
  }

  #line(line: string): void {
    if (line === '') return this.#dispatch();
    if (line.charCodeAt(0) === 58) return; // ':' a comment
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.charCodeAt(0) === 32) value = value.slice(1);
    if (field === 'data') this.#data.push(value);
    else if (field === 'event') this.#event = value;
    else if (field === 'id') this.#id = value;
  }

  #dispatch(): void {
    if (this.#data.length === 0 && this.#event === '') return;
    const e = { event: this.#event || 'message', data: this.#data.join('\n'), id: this.#id };
    this.#event = '';
    this.#data = [];
    this.onEvent(e);
  }
}

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const LOOKUP = new Uint8Array(128);
for (let i = 0; i < ALPHABET.length; i++) LOOKUP[ALPHABET.charCodeAt(i)] = i;

/** Standard base64 (with padding) to bytes, without atob's string detour. */
export function fromBase64(s: string): Uint8Array {
  let len = s.length;
  while (len > 0 && s.charCodeAt(len - 1) === 61) len--; // '='
  const out = new Uint8Array((len * 3) >> 2);
  let o = 0;
  for (let i = 0; i < len; i += 4) {
    const a = LOOKUP[s.charCodeAt(i)]!;
    const b = LOOKUP[s.charCodeAt(i + 1)]!;
    const c = LOOKUP[s.charCodeAt(i + 2)]!;
    const d = LOOKUP[s.charCodeAt(i + 3)]!;
    out[o++] = (a << 2) | (b >> 4);
    if (o < out.length) out[o++] = ((b & 15) << 4) | (c >> 2);
    if (o < out.length) out[o++] = ((c & 3) << 6) | d;
  }
  return out;
}
