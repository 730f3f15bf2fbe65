/** The key an endpoint keeps a client's durable state under: its id, bound to a principal when there is one. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { clientKey } from '../../adapters/node/client-key.ts';
import { clientIdOf } from '../../src/extensions.ts';

const id = 'k3v9q0x2m7p1z8c4b6n5d0f2g7h1';

test('without a principal the key is the client id itself (what an endpoint without `principal` uses)', () => {
  assert.equal(clientKey(id, undefined), id);
});

test('a principal gives a key of its own: the same for the same principal, another for another', () => {
  assert.equal(clientKey(id, 'alice'), clientKey(id, 'alice'));
  assert.notEqual(clientKey(id, 'alice'), clientKey(id, 'mallory'));
  assert.notEqual(clientKey(id, 'alice'), clientKey('another-client-id-000000001', 'alice'));
  assert.notEqual(clientKey(id, ''), id, 'an empty principal is still a principal');
});

test('a bound key holds a digest, not the principal, and is never a client id a peer could dial with', () => {
  const key = clientKey(id, 'alice@example.com');
  assert.ok(!key.includes('alice'), key);
  assert.match(key, new RegExp(`^${id}~[A-Za-z0-9_-]{22}$`));
  assert.equal(clientIdOf(key), undefined);
});
