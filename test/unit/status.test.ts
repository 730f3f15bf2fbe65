import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Code, codeText, DrpcError, isConnError, isOK, OK_STATUS, type Status } from '../../src/status.ts';

describe('Code and codeText', () => {
  // drpc/status.go: every code and its CodeText, byte for byte.
  const drpcCodes: [keyof typeof Code, number, string][] = [
    ['UnknownError', -1, 'Unknown Error'],
    ['OK', 0, ''],
    ['InvalidOp', 1, 'Invalid Operation'],
    ['WrongConn', 100, 'Wrong Connection'],
    ['ConnClosed', 102, 'Connection Closed'],
    ['WriteFailed', 104, 'Write Failed'],
    ['DialFailed', 105, 'Dial Failed'],
    ['BadMessage', 400, 'Bad Message'],
    ['Unauthorized', 401, 'Unauthorized'],
    ['NotFound', 404, 'Not Found'],
    ['MTypeNotAllowed', 405, 'Message Type Not Allowed'],
    ['HandleTimeout', 408, 'Handle Timeout'],
    ['InternalServerError', 500, 'Internal Server Error'],
    ['BadGateway', 502, 'Bad Gateway'],
  ];

  for (const [name, code, text] of drpcCodes) {
    it(`${name} is ${code} with text ${JSON.stringify(text)}`, () => {
      assert.equal(Code[name], code);
      assert.equal(codeText(code), text);
    });
  }

  it('409 Conflict exists but has no text, so it reads "Unknown Error" as in drpc', () => {
    assert.equal(Code.Conflict, 409);
    assert.equal(codeText(409), 'Unknown Error');
  });

  it('any unlisted code reads "Unknown Error" (codes drpc commented out included)', () => {
    for (const code of [2, 101, 103, 402, 410, 415, 501, 503, 504, 1000, 1001, 99999, -2, 1.5, NaN]) {
      assert.equal(codeText(code), 'Unknown Error', `code ${code}`);
    }
  });

  it('the SDK-local 1499 Canceled sits in the custom range (> 1000)', () => {
    assert.equal(Code.Canceled, 1499);
    assert.equal(codeText(1499), 'Canceled');
  });

  it('OK_STATUS is the frozen code-0 status with empty texts', () => {
    assert.deepEqual(OK_STATUS, { code: 0, msg: '', cause: '' });
    assert.ok(Object.isFrozen(OK_STATUS));
  });

  it('isOK: undefined and code 0 are OK, anything else is not', () => {
    assert.equal(isOK(undefined), true);
    assert.equal(isOK({ code: 0, msg: 'whatever', cause: '' }), true);
    assert.equal(isOK({ code: -1, msg: '', cause: '' }), false);
    assert.equal(isOK({ code: 400, msg: '', cause: '' }), false);
  });

  it('isConnError is drpc IsConnError: exactly 102 and 105', () => {
    const conn = drpcCodes.map(([, c]) => c).filter(isConnError);
    assert.deepEqual(conn, [102, 105]);
    assert.equal(isConnError(1499), false);
  });
});

describe('DrpcError', () => {
  it('is an Error named DrpcError carrying code, message and causeText', () => {
    const e = new DrpcError(404, 'Not Found', 'no route "/x"');
    assert.ok(e instanceof Error);
    assert.ok(e instanceof DrpcError);
    assert.equal(e.name, 'DrpcError');
    assert.equal(e.code, 404);
    assert.equal(e.message, 'Not Found');
    assert.equal(e.causeText, 'no route "/x"');
    assert.equal(e.cause, 'no route "/x"');
  });

  it('falls back for the message: msg, then the cause text, then the code text (drpc Msg())', () => {
    assert.equal(new DrpcError(400, 'explicit', 'why').message, 'explicit');
    assert.equal(new DrpcError(400, '', 'why').message, 'why');
    assert.equal(new DrpcError(400).message, 'Bad Message');
    assert.equal(new DrpcError(409).message, 'Unknown Error');
    assert.equal(new DrpcError(0).message, '');
  });

  it('has no cause and an empty causeText when none is given', () => {
    const e = new DrpcError(500, 'x');
    assert.equal(e.causeText, '');
    assert.equal('cause' in e, false);
  });

  it('turns any cause into text: strings, Errors, JSON values, and unserialisable values', () => {
    assert.equal(new DrpcError(500, 'm', new Error('disk full')).causeText, 'disk full');
    assert.equal(new DrpcError(500, 'm', { a: 1 }).causeText, '{"a":1}');
    assert.equal(new DrpcError(500, 'm', 42).causeText, '42');
    assert.equal(new DrpcError(500, 'm', null).causeText, '');
    const circular: Record<string, unknown> = {};
    circular['self'] = circular;
    assert.equal(new DrpcError(500, 'm', circular).causeText, '[object Object]');
    assert.equal(new DrpcError(500, 'm', 10n).causeText, '10');
    assert.equal(new DrpcError(500, 'm', Symbol.for('s')).causeText, 'Symbol(s)');
  });

  it('keeps the original Error as `cause` for stack traces', () => {
    const root = new TypeError('root');
    assert.equal(new DrpcError(500, undefined, root).cause, root);
  });

  it('toStatus gives the wire status: code, message, cause text', () => {
    assert.deepEqual(new DrpcError(401, 'Unauthorized', 'bad token').toStatus(), { code: 401, msg: 'Unauthorized', cause: 'bad token' });
    assert.deepEqual(new DrpcError(404).toStatus(), { code: 404, msg: 'Not Found', cause: '' });
  });

  it('fromStatus → toStatus returns the same status when msg is set', () => {
    const statuses: Status[] = [
      { code: 401, msg: 'Unauthorized', cause: 'bad token' },
      { code: 1234, msg: 'custom', cause: '' },
      { code: -1, msg: 'Unknown Error', cause: 'x' },
      { code: 500, msg: 'ünïcödé 😀', cause: 'line\nbreak' },
    ];
    for (const s of statuses) assert.deepEqual(DrpcError.fromStatus(s).toStatus(), s);
  });

  it('fromStatus fills an empty msg from the cause, then the code text (as drpc Msg() does)', () => {
    assert.deepEqual(DrpcError.fromStatus({ code: 404, msg: '', cause: 'no route' }).toStatus(), {
      code: 404,
      msg: 'no route',
      cause: 'no route',
    });
    assert.deepEqual(DrpcError.fromStatus({ code: 404, msg: '', cause: '' }).toStatus(), { code: 404, msg: 'Not Found', cause: '' });
  });

  it('remote: set on an error made from a status the peer sent (fromStatus), not on one made here', () => {
    assert.equal(DrpcError.fromStatus({ code: 102, msg: 'Connection Closed', cause: 'upstream' }).remote, true);
    assert.equal(new DrpcError(102).remote, undefined);
    assert.equal(DrpcError.from(new Error('x')).remote, undefined);
  });

  it('toStatus → fromStatus keeps code, message and causeText', () => {
    const e = new DrpcError(502, 'Bad Gateway', 'upstream down');
    const back = DrpcError.fromStatus(e.toStatus());
    assert.equal(back.code, e.code);
    assert.equal(back.message, e.message);
    assert.equal(back.causeText, e.causeText);
  });

  it('from() passes a DrpcError through unchanged', () => {
    const e = new DrpcError(401, 'nope');
    assert.equal(DrpcError.from(e), e);
    assert.equal(DrpcError.from(e, 400), e);
  });

  it('from() wraps anything else as 500 (or the given code) with its text as cause', () => {
    const wrapped = DrpcError.from(new Error('kaput'));
    assert.equal(wrapped.code, 500);
    assert.equal(wrapped.message, 'Internal Server Error');
    assert.equal(wrapped.causeText, 'kaput');
    const bad = DrpcError.from('short read', Code.BadMessage);
    assert.deepEqual(bad.toStatus(), { code: 400, msg: 'Bad Message', cause: 'short read' });
    assert.deepEqual(DrpcError.from(undefined).toStatus(), { code: 500, msg: 'Internal Server Error', cause: '' });
  });
});
