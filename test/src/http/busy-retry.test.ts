import t from 'tap'
import { busyRetryDelayMs, MAX_BUSY_RETRIES } from '../../../src/http/busy-retry.js'

const answer = (status: number, retryAfter?: string): Response =>
  new Response(null, { status, headers: retryAfter === undefined ? {} : { 'retry-after': retryAfter } })

t.test('a 503 or 429 is sent again after its Retry-After', async t => {
  t.equal(busyRetryDelayMs(answer(503, '3'), 0), 3000)
  t.equal(busyRetryDelayMs(answer(429, '12'), 2), 12_000)
})

t.test('without a usable Retry-After, after a second; a long one is cut to 30 s', async t => {
  for (const header of [undefined, '0', 'soon', '-4']) t.equal(busyRetryDelayMs(answer(503, header), 0), 1000, String(header))
  t.equal(busyRetryDelayMs(answer(429, '60'), 0), 30_000)
})

t.test('not after the last retry, nor any other answer', async t => {
  t.equal(busyRetryDelayMs(answer(503, '1'), MAX_BUSY_RETRIES - 1), 1000)
  t.equal(busyRetryDelayMs(answer(503, '1'), MAX_BUSY_RETRIES), undefined)
  for (const status of [200, 400, 404, 500, 502]) t.equal(busyRetryDelayMs(answer(status, '1'), 0), undefined, String(status))
})
