// The requests the HighErrorRate and ResponseTimeDegradation alerts judge: which count as
// failures, the chat turns' p95, and the one example each keeps (the latest failure, the slowest
// recent turn) for a notification to point at, forgotten once stale.
import t from 'tap'
import { CHAT_ROUTE, RequestWatch } from '../../../src/health/request-watch.js'

const MINUTE = 60_000

function watch (exampleMaxAgeMs?: number) {
  let at = 10_000_000
  const requests = new RequestWatch({ horizonMs: 3_600_000, slotMs: 1000, now: () => at, ...(exampleMaxAgeMs === undefined ? {} : { exampleMaxAgeMs }) })
  return { requests, advance: (ms: number) => { at += ms }, now: () => at }
}

t.test('the failure ratio: 5xx but 503 over every request in the window', async t => {
  const { requests, advance } = watch()
  t.same(requests.failureRatio(5 * MINUTE), { value: undefined, samples: 0 }, 'no requests: no ratio, not zero')
  for (const status of [200, 201, 204, 301, 400, 404, 429, 499]) requests.record('/v1/things', status, 5, undefined)
  t.same(requests.failureRatio(5 * MINUTE), { value: 0, samples: 8 }, '4xx are the caller\'s, not failures')
  requests.record('/v1/things', 503, 5, undefined)
  t.same(requests.failureRatio(5 * MINUTE), { value: 0, samples: 9 }, 'a 503 is a refusal on purpose')
  for (const status of [500, 502, 504, 599]) requests.record('/v1/things', status, 5, undefined)
  t.same(requests.failureRatio(5 * MINUTE), { value: 4 / 13, samples: 13 })
  advance(2 * MINUTE)
  requests.record('/v1/things', 200, 5, undefined)
  t.same(requests.failureRatio(MINUTE), { value: 0, samples: 1 }, 'only the window asked')
  t.same(requests.failureRatio(5 * MINUTE), { value: 4 / 14, samples: 14 })
  advance(10 * MINUTE)
  t.same(requests.failureRatio(5 * MINUTE), { value: undefined, samples: 0 }, 'all slid out')
})

t.test('the latest failure is the example, with its trace, until it is older than the limit', async t => {
  const { requests, advance, now } = watch(5 * MINUTE)
  t.equal(requests.latestFailure(), undefined)
  requests.record('/v1/chat', 500, 12, 'trace-a')
  requests.record('/v1/kb/documents', 503, 12, 'trace-shed')
  t.same(requests.latestFailure(), { traceId: 'trace-a', description: 'HTTP 500 on /v1/chat', at: now() }, 'a 503 does not replace it')
  advance(1000)
  requests.record(undefined, 502, 3, undefined)
  t.same(requests.latestFailure(), { traceId: undefined, description: 'HTTP 502 on an unknown route', at: now() }, 'the latest one, without a route or trace')
  advance(5 * MINUTE)
  t.ok(requests.latestFailure() !== undefined, 'exactly the limit old: still recent')
  advance(1)
  t.equal(requests.latestFailure(), undefined, 'older than the limit: forgotten')
})

t.test('only chat turns feed the latency window', async t => {
  const { requests, advance } = watch()
  t.same(requests.chatP95(5 * MINUTE), { value: undefined, samples: 0 })
  for (let i = 0; i < 50; i++) requests.record('/v1/kb/documents', 200, 9000, undefined)
  requests.record('/v1/chat/stream', 200, 9000, undefined)
  t.same(requests.chatP95(5 * MINUTE), { value: undefined, samples: 0 }, 'other routes, even one that starts alike, are not turns')
  for (let ms = 10; ms <= 1000; ms += 10) requests.record(CHAT_ROUTE, 200, ms, undefined)
  const { value, samples } = requests.chatP95(5 * MINUTE)
  t.equal(samples, 100)
  t.ok(value !== undefined && Math.abs(value - 0.95) / 0.95 <= 0.06, `p95 ${value} s is within 6% of 0.95 s (seconds, not ms)`)
  requests.record(CHAT_ROUTE, 500, 30_000, undefined)
  t.equal(requests.chatP95(5 * MINUTE).samples, 101, 'a failed turn counts in the latency too')
  advance(6 * MINUTE)
  requests.record(CHAT_ROUTE, 200, 100, undefined)
  const recent = requests.chatP95(5 * MINUTE)
  t.equal(recent.samples, 1)
  t.ok(recent.value !== undefined && Math.abs(recent.value - 0.1) <= 0.006, `${recent.value}`)
})

t.test('the slowest recent chat turn is the example; a stale one gives way to any newer turn', async t => {
  const { requests, advance, now } = watch(5 * MINUTE)
  t.equal(requests.slowestChat(), undefined)
  requests.record('/v1/kb/documents', 200, 99_999, 'not-chat')
  t.equal(requests.slowestChat(), undefined, 'other routes never')
  requests.record(CHAT_ROUTE, 200, 1200.4, 'slow')
  const slowAt = now()
  advance(1000)
  requests.record(CHAT_ROUTE, 200, 300, 'fast')
  requests.record(CHAT_ROUTE, 200, 1200.4, 'as slow, later')
  t.same(requests.slowestChat(), { traceId: 'slow', description: 'a chat turn of 1200 ms', at: slowAt, ms: 1200.4 }, 'only a slower turn replaces it')
  advance(1000)
  requests.record(CHAT_ROUTE, 500, 4000, 'slower')
  t.equal(requests.slowestChat()?.traceId, 'slower')
  t.equal(requests.slowestChat()?.description, 'a chat turn of 4000 ms')
  advance(5 * MINUTE + 1)
  t.equal(requests.slowestChat(), undefined, 'stale: not shown')
  requests.record(CHAT_ROUTE, 200, 50, 'quick but recent')
  t.equal(requests.slowestChat()?.traceId, 'quick but recent', 'a stale example is replaced by a faster turn')
})

t.test('examples are kept five minutes unless told otherwise', async t => {
  const { requests, advance } = watch()
  requests.record(CHAT_ROUTE, 500, 10, 'x')
  advance(5 * MINUTE)
  t.equal(requests.latestFailure()?.traceId, 'x')
  t.equal(requests.slowestChat()?.traceId, 'x')
  advance(1)
  t.equal(requests.latestFailure(), undefined)
  t.equal(requests.slowestChat(), undefined)
})
