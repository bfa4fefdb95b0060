import t from 'tap'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { analyzePerf, defaultBucket, findRegressions, REGRESSION_MIN_SAMPLES, type LatencyRow } from '../../../src/analysis/perf-report.js'
import { tempDir } from '../../helper.js'

const row = (series: string, p95: number, count = REGRESSION_MIN_SAMPLES): LatencyRow => ({ series, bucket: 'all', count, p50_ms: p95 / 2, p95_ms: p95, p99_ms: p95 * 1.5, server_errors: 0 })

t.test('a regression is a p95 up 1.2 times or more, with enough samples in both periods, worst first', async t => {
  const previous = new Map([row('turn answer', 100), row('GET /status', 10), row('turn no_answer', 100), row('turn command', 100, REGRESSION_MIN_SAMPLES - 1)].map(r => [r.series, r]))
  const regressions = findRegressions([row('turn answer', 150), row('GET /status', 30), row('turn no_answer', 119), row('turn command', 500), row('turn smalltalk', 900)], previous)
  t.same(regressions.map(r => [r.series, r.ratio]), [['GET /status', 3], ['turn answer', 1.5]], 'below 1.2, too few samples before, or nothing before: not a regression')
  t.same(findRegressions([row('turn answer', 500, REGRESSION_MIN_SAMPLES - 1)], previous), [], 'too few samples now')
})

t.test('periods up to two days are read by the hour, longer ones by the day', async t => {
  const from = new Date('2026-11-01T00:00:00Z')
  t.equal(defaultBucket({ from, to: new Date('2026-11-03T00:00:00Z') }), 'hour')
  t.equal(defaultBucket({ from, to: new Date('2026-11-03T00:00:01Z') }), 'day')
})

t.test('a route\'s refusals (429, 503) and client errors are series of their own, so that the served keep their latency', async t => {
  const dir = await tempDir(t)
  const now = Date.now()
  const fields = { level: 'info', module: 'http', fn: 'onResponse', method: 'POST', route: '/v1/chat', msg: 'request completed' }
  const line = (i: number, status: number, ms: number) =>
    JSON.stringify({ ...fields, time: new Date(now - 60_000 + i).toISOString(), status, duration_ms: ms })
  const lines = [
    ...Array.from({ length: 40 }, (_, i) => line(i, 200, 60)),
    ...Array.from({ length: 400 }, (_, i) => line(100 + i, 429, 0.1)),
    ...Array.from({ length: 100 }, (_, i) => line(600 + i, 503, 0.2)),
    ...Array.from({ length: 2 }, (_, i) => line(800 + i, 500, 80)),
    ...Array.from({ length: 5 }, (_, i) => line(900 + i, 400, 0.3)),
    // A flood's refusals beyond those logged one by one: counted, with no latency.
    JSON.stringify({ ...fields, msg: 'unserved requests not logged one by one', time: new Date(now - 50_000).toISOString(), status: 503, unlogged: 1000 }),
    JSON.stringify({ ...fields, msg: 'unserved requests not logged one by one', time: new Date(now - 50_000).toISOString(), status: 429, unlogged: 2000 }),
    JSON.stringify({ ...fields, msg: 'unserved requests not logged one by one', time: new Date(now - 50_000).toISOString(), status: 400, unlogged: 8 })
  ]
  await writeFile(join(dir, `chatbot.${new Date(now).toISOString().slice(0, 10)}.1.log`), lines.join('\n') + '\n')
  const report = await analyzePerf({ dir, period: { from: new Date(now - 3_600_000), to: new Date(now + 60_000) } })
  const total = (series: string) => report.totals.find(row => row.series === series)
  t.match(total('POST /v1/chat'), { count: 42, server_errors: 2 }, 'served, a 500 among them')
  t.match(total('POST /v1/chat rejected'), { count: 13, server_errors: 0 }, 'client errors apart, those a flood\'s line counts too')
  t.ok(total('POST /v1/chat')!.p50_ms >= 55, `whose p50 is theirs (${total('POST /v1/chat')?.p50_ms} ms)`)
  t.match(total('POST /v1/chat refused'), { count: 3500, server_errors: 1100 }, 'and the refused apart, those only counted too')
  t.ok(total('POST /v1/chat refused')!.p99_ms <= 0.3, 'whose latencies are those logged')
})
