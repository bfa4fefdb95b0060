import t from 'tap'
import { defaultBucket, findRegressions, REGRESSION_MIN_SAMPLES, type LatencyRow } from '../../../src/analysis/perf-report.js'

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
