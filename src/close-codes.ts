/**
 * How a drpc status rides on a WebSocket close: code 4000 + status code for drpc codes 1-999
 * (4401 = 401 Unauthorized), 4000 for anything else; the reason carries the message. 1012
 * ("service restart") tells clients to reconnect at once, possibly elsewhere.
 */
import { codeText, type Status } from './status.ts';

export const SERVICE_RESTART = 1012;

export function statusToClose(s: Status): { code: number; reason: string } {
  const text = s.cause || s.msg;
  return s.code > 0 && s.code < 1000 ? { code: 4000 + s.code, reason: text } : { code: 4000, reason: `${s.code} ${text}` };
}

export function closeToStatus(code: number, reason: string): Status | undefined {
  // 1009: the peer's WebSocket layer refused a frame over its size limit.
  if (code === 1009) return { code: 400, msg: codeText(400), cause: `frame too large for the peer${reason ? ': ' + reason : ''}` };
  if (code < 4000 || code > 4999) return undefined;
  if (code > 4000) return { code: code - 4000, msg: codeText(code - 4000), cause: reason };
  const m = /^(-?\d+) (.*)$/s.exec(reason);
  return m ? { code: Number(m[1]), msg: m[2]!, cause: m[2]! } : { code: -1, msg: codeText(-1), cause: reason };
}
