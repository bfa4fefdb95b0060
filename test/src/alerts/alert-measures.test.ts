import t from 'tap'
import { measureReader, type MeasureSources } from '../../../src/alerts/alert-measures.js'
import { MEASURES, type MeasureName } from '../../../src/alerts/alert-rules.js'
import { RequestWatch } from '../../../src/health/request-watch.js'
import { SampleWindow, SlidingHistogram } from '../../../src/health/sliding-window.js'

const MINUTE = 60_000

function sources (overrides: Partial<MeasureSources> = {}) {
  let at = 1_000_000
  const now = () => at
  const window = { horizonMs: 3_600_000, now }
  const requests = new RequestWatch(window)
  const cpu = new SampleWindow(window)
  const turnsInFlight = new SampleWindow(window)
  const shed = new SlidingHistogram(window)
  const connectionErrorWindow = new SlidingHistogram(window)
  const statementSeconds = new SlidingHistogram(window)
  let up = true
  const given: MeasureSources = {
    requests,
    database: { current: () => ({ up, since: new Date(990_000), lastCheckedAt: undefined, lastError: undefined, connectionErrors: 0 }), connectionErrorWindow, statementSeconds },
    resources: () => ({ rssBytes: 512, memoryLimitBytes: 2048, heapUsedBytes: 0, cpuCoresUsed: 0, eventLoopDelayMs: { p50: 0, p99: 0, max: 0 }, eventLoopUtilization: 0 }),
    cpu,
    turnsInFlight,
    intervalMs: 15_000,
    shed,
    diskFreeRatio: () => 0.25,
    activeSessions: () => 30,
    maxActiveSessions: 120,
    quality: { read: measure => ({ value: measure === 'answer_rate' ? 0.75 : 4, samples: 20 }) },
    model: () => undefined,
    evaluationTrend: () => [{ question_set: 'given', accuracy: 0.8, previous: 0.9 }, { question_set: 'saved', accuracy: 0.6, previous: 0.65 }],
    now,
    ...overrides
  }
  return { given, read: measureReader(given), requests, cpu, shed, statementSeconds, goDown: () => { up = false }, advance: (ms: number) => { at += ms } }
}

t.test('each measure is read from its source, over the window asked', async t => {
  const { read, requests, cpu, shed, statementSeconds, goDown, advance } = sources()
  requests.record('/v1/chat', 200, 120, undefined)
  requests.record('/v1/chat', 500, 80, 'trace-1')
  shed.record()
  statementSeconds.record(0.02)
  cpu.add(1.5)
  t.same(read('http_5xx_ratio', MINUTE), { value: 0.5, samples: 2 })
  t.equal(read('chat_latency_p95_seconds', MINUTE).samples, 2)
  t.same(read('shed_requests', MINUTE), { value: 1 })
  t.equal(read('db_statement_p95_seconds', MINUTE).samples, 1)
  t.same(read('cpu_cores_used', 0), { value: 1.5 }, 'a window of 0: the latest sample')
  t.same(read('memory_rss_ratio', 0), { value: 0.25 })
  t.same(read('log_disk_free_ratio', 0), { value: 0.25 })
  t.same(read('active_sessions_ratio', 0), { value: 0.25 })
  t.same(read('answer_rate', 30 * MINUTE), { value: 0.75, samples: 20 })
  t.same(read('kb_evaluation_accuracy', 0), { value: 0.6 }, 'the less accurate question set\'s latest run')
  t.equal(read('kb_evaluation_accuracy_drop', 0).value?.toFixed(2), '0.10', 'the larger drop, though of the more accurate set')
  t.same(read('db_check_failing_seconds', 0), { value: 0 }, 'the database up')
  goDown()
  advance(20_000)
  t.same(read('db_check_failing_seconds', 0), { value: 30 }, 'down: the seconds since it changed')
  advance(2 * MINUTE)
  t.same(read('http_5xx_ratio', MINUTE), { value: undefined, samples: 0 }, 'requests older than the window are not read')
})

t.test('what cannot be judged reads as no value', async t => {
  const { read } = sources({ activeSessions: () => undefined, diskFreeRatio: () => undefined, evaluationTrend: () => [{ question_set: 'saved', accuracy: 0.8 }] })
  t.same(read('active_sessions_ratio', 0), { value: undefined }, 'sessions not counted yet')
  t.same(read('log_disk_free_ratio', 0), { value: undefined }, 'the log volume not read')
  t.same(read('kb_evaluation_accuracy_drop', 0), { value: undefined }, 'a drop needs two runs')
  t.same(read('llm_fallback_ratio', MINUTE), { value: undefined }, 'no language model')
  const model = sources({ model: () => ({ measure: (name, windowMs) => ({ value: windowMs / MINUTE, samples: name.length }) }) })
  t.same(model.read('llm_call_p95_seconds', 10 * MINUTE), { value: 10, samples: 'llm_call_p95_seconds'.length }, 'with one, its calls')
})

t.test('every measure a rule may name has a source', async t => {
  const { read } = sources()
  for (const measure of Object.keys(MEASURES) as MeasureName[]) t.type(read(measure, MINUTE), 'object', measure)
})
