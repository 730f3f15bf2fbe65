/**
 * drpc status codes and the one error class of the SDK.
 *
 * Codes and texts are drpc's (DMicro `drpc/status.go`); custom codes should be > 1000.
 * On the wire a status is `{"code":…,"msg":…,"cause":…}` with Go's fixed key order.
 */

export const Code = {
  UnknownError: -1,
  OK: 0,
  InvalidOp: 1,
  WrongConn: 100,
  ConnClosed: 102,
  WriteFailed: 104,
  DialFailed: 105,
  BadMessage: 400,
  Unauthorized: 401,
  NotFound: 404,
  MTypeNotAllowed: 405,
  HandleTimeout: 408,
  Conflict: 409,
  InternalServerError: 500,
  BadGateway: 502,
  /** SDK extension (custom range): the caller aborted the call through its AbortSignal. */
  Canceled: 1499,
  /** SDK extension: a subscriber stopped reading and its backlog passed the bound (policy 'close'). */
  SlowConsumer: 1503,
} as const;

const texts: Record<number, string> = {
  [-1]: 'Unknown Error',
  0: '',
  1: 'Invalid Operation',
  100: 'Wrong Connection',
  102: 'Connection Closed',
  104: 'Write Failed',
  105: 'Dial Failed',
  400: 'Bad Message',
  401: 'Unauthorized',
  404: 'Not Found',
  405: 'Message Type Not Allowed',
  408: 'Handle Timeout',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  1499: 'Canceled',
  1503: 'Slow Consumer',
};

/** drpc's `CodeText`: the standard text of a code, "Unknown Error" for any unlisted one (409 included). */
export function codeText(code: number): string {
  return texts[code] ?? texts[-1]!;
}

/** A status as it travels: code, message and cause text (all three always present on the wire). */
export interface Status {
  code: number;
  msg: string;
  cause: string;
}

export const OK_STATUS: Readonly<Status> = Object.freeze({ code: 0, msg: '', cause: '' });

/**
 * The SDK's only error class. `code` is a drpc status code, `message` is drpc's `msg`
 * (falling back to the code text), `cause` the underlying reason when there is one.
 */
export class DrpcError extends Error {
  override readonly name = 'DrpcError';
  readonly code: number;
  /** The cause as text, as it travels on the wire. */
  readonly causeText: string;

  constructor(code: number, msg?: string, cause?: unknown) {
    const causeText = causeToText(cause);
    super(msg || causeText || codeText(code), cause === undefined ? undefined : { cause });
    this.code = code;
    this.causeText = causeText;
  }

  /** The message and, when it adds something, the cause: for logs. */
  get detail(): string {
    return this.causeText && this.causeText !== this.message ? `${this.message} (${this.causeText})` : this.message;
  }

  /** The status this error travels as. */
  toStatus(): Status {
    return { code: this.code, msg: this.message, cause: this.causeText };
  }

  /** The status came from the peer (a REPLY, an AUTH_REPLY …), not from a failure on this side. */
  declare readonly remote?: boolean;

  static fromStatus(s: Status): DrpcError {
    // The constructor falls back to the cause, then the code text, when msg is empty.
    return Object.assign(new DrpcError(s.code, s.msg, s.cause || undefined), { remote: true });
  }

  /** Any thrown value as a DrpcError: DrpcErrors pass through, anything else becomes `code` with its text as cause. */
  static from(err: unknown, code: number = Code.InternalServerError): DrpcError {
    return err instanceof DrpcError ? err : codeError(code, err);
  }
}

/** An error with its code's standard text as message (drpc's `NewStatus(code, CodeText(code), cause)`). */
export function codeError(code: number, cause?: unknown): DrpcError {
  return new DrpcError(code, codeText(code), cause);
}

/** The 400 Bad Message error, the one every decoder throws on malformed input. */
export function badMessage(msg: string, cause?: unknown): DrpcError {
  return new DrpcError(Code.BadMessage, msg, cause);
}

/** A value as it reads in an error message: its JSON text, else its String(). */
export const show = (v: unknown): string => JSON.stringify(v) ?? String(v);

function causeToText(cause: unknown): string {
  if (cause === undefined || cause === null) return '';
  if (typeof cause === 'string') return cause;
  if (cause instanceof Error) return cause.message;
  try {
    return show(cause);
  } catch {
    return String(cause);
  }
}

export function isOK(s: Status | undefined): boolean {
  return s === undefined || s.code === 0;
}

/** True for the codes drpc treats as connection errors (worth a retry on another connection). */
export function isConnError(code: number): boolean {
  return code === Code.ConnClosed || code === Code.DialFailed;
}
