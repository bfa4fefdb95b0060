// Guessing API keys: past WRONG_KEYS_PER_MINUTE wrong keys from an address, no key from it is
// checked until the minute is over, the right one neither; refusals are audited with the address.
import t from 'tap'
import { buildTestApp, manualClock } from '../helper.js'
import { KeyGuesses } from '../../src/auth/key-guesses.js'

const ADMIN = 'admin-key-0123456789abcdef'

t.test('ten wrong keys, then 429 with Retry-After for every key from that address, for the rest of the minute', async t => {
  const clock = manualClock()
  const app = await buildTestApp(t, { API_KEYS: `${ADMIN}:admin`, WRONG_KEYS_PER_MINUTE: '10' }, { clock: clock.now })
  const get = async (key: string | undefined, remoteAddress = '203.0.113.7') => await app.inject({ url: '/v1/admin/alerts', remoteAddress, headers: key === undefined ? {} : { authorization: `Bearer ${key}` } })
  for (let i = 0; i < 10; i++) t.equal((await get(`wrong-key-${i}-0123456789`)).statusCode, 401, `wrong key ${i + 1}: 401`)
  const throttled = await get('wrong-key-10-0123456789')
  t.equal(throttled.statusCode, 429)
  t.match(throttled.json(), { type: /limit-exceeded$/, limit: 'wrong_keys_per_client', max: 10, detail: /WRONG_KEYS_PER_MINUTE/ })
  t.equal(throttled.headers['retry-after'], '60')
  t.equal((await get(ADMIN)).statusCode, 429, 'the right key is not checked either: a guess learns nothing')
  t.equal((await get(ADMIN, '198.51.100.9')).statusCode, 200, 'another address is not held back')
  t.equal((await get(undefined)).statusCode, 401, 'a request without a key is refused as before')
  t.equal((await app.inject({ method: 'POST', url: '/console/api/session', remoteAddress: '203.0.113.7', payload: { api_key: ADMIN } })).statusCode, 429, 'nor is a key tried through the console\'s sign-in')
  clock.advance(60_000)
  t.equal((await get(ADMIN)).statusCode, 200, 'a minute later the right key works again')
})

t.test('refused keys are audited with the client\'s address', async t => {
  const app = await buildTestApp(t, { API_KEYS: `${ADMIN}:admin` })
  await app.inject({ url: '/v1/admin/alerts', remoteAddress: '203.0.113.8', headers: { authorization: 'Bearer not-our-key-0123456789' } })
  const { rows } = await app.db.query<{ actor: string, details: Record<string, unknown> }>("SELECT actor, details FROM audit_events WHERE action = 'auth.denied'")
  t.match(rows, [{ actor: 'unknown-key', details: { status: 401, address: '203.0.113.8' } }])
})

t.test('the windows: per address, over after the minute, bounded in number', async t => {
  let now = 0
  const guesses = new KeyGuesses({ max: 2, now: () => now, maxSources: 2 })
  guesses.wrong('a')
  t.equal(guesses.retryAfter('a'), 0)
  guesses.wrong('a')
  t.equal(guesses.retryAfter('a'), 60)
  now = 30_000
  t.equal(guesses.retryAfter('a'), 30)
  guesses.wrong('b')
  guesses.wrong('c')
  guesses.wrong('d')
  t.equal(guesses.retryAfter('d'), 60, 'past the addresses followed, new ones share one window')
  t.equal(guesses.retryAfter('e'), 60)
  now = 60_000
  t.equal(guesses.retryAfter('a'), 0, 'a minute after its window began')
  t.equal(new KeyGuesses({ max: 0, now: () => now }).retryAfter('a'), 0, '0: no limit')
})
