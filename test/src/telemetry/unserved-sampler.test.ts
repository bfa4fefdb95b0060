// A flood of unserved requests: each route and status has a few lines a second, the rest counted.
import t from 'tap'
import { isUnserved, UnservedSampler, type UnloggedRequests } from '../../../src/telemetry/unserved-sampler.js'

function linesAt (perSecond: number) {
  let now = Date.parse('2026-11-29T12:00:00.000Z')
  const summaries: UnloggedRequests[] = []
  const lines = new UnservedSampler(perSecond, summary => { summaries.push(summary) }, () => now)
  return { lines, summaries, advance: (ms: number) => { now += ms } }
}

const admitted = (lines: UnservedSampler, count: number, status = 429, route = '/v1/chat'): number =>
  Array.from({ length: count }, () => lines.admit('POST', route, status)).filter(Boolean).length

t.test('the first unserved requests of each route and status each second have their line; the rest are counted once the second is over', async t => {
  const { lines, summaries, advance } = linesAt(3)
  t.equal(admitted(lines, 10), 3, 'three of ten 429s')
  t.equal(admitted(lines, 5, 503), 3, 'and three 503s: another status')
  t.equal(admitted(lines, 2, 429, '/v1/search'), 2, 'and another route')
  t.same(summaries, [], 'nothing counted while the second runs')
  advance(999)
  t.equal(admitted(lines, 1), 0, 'still the same second')
  advance(1)
  t.equal(admitted(lines, 4), 3, 'a new second has lines again')
  t.same(summaries, [{ method: 'POST', route: '/v1/chat', status: 429, unlogged: 8, since: '2026-11-29T12:00:00.000Z', until: '2026-11-29T12:00:01.000Z' }], 'the second before, counted')
  lines.flush()
  t.same(summaries.map(({ status, unlogged }) => [status, unlogged]), [[429, 8], [503, 2], [429, 1]], 'and at shutdown every count not yet given; none for a second without unlogged refusals')
  lines.flush()
  t.equal(summaries.length, 3, 'each once')
})

t.test('the count is given when the second ends, without waiting for another refusal', async t => {
  const summaries: UnloggedRequests[] = []
  const lines = new UnservedSampler(1, summary => { summaries.push(summary) })
  t.equal(admitted(lines, 5), 1)
  await new Promise(resolve => setTimeout(resolve, 1100))
  t.match(summaries, [{ route: '/v1/chat', status: 429, unlogged: 4 }])
})

t.test('0 gives every request its line', async t => {
  const { lines, summaries } = linesAt(0)
  t.equal(admitted(lines, 1000), 1000)
  lines.flush()
  t.same(summaries, [])
})

t.test('unserved: a client error or a refusal; a served request or a server failure always has its line', async t => {
  t.same([400, 401, 404, 413, 429, 499, 503].map(isUnserved), Array(7).fill(true))
  t.same([200, 204, 304, 500, 502, 504].map(isUnserved), Array(6).fill(false))
})
