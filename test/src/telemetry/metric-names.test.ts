// One name per metric: GET /metrics names every metric as the collector's Prometheus exporter
// names the same metric from OTLP (OpenTelemetry's Prometheus compatibility rules: the unit as a
// suffix, then _total for a counter), so job="parley" and job="otel-collector" agree; and every
// metric the alert rules, their unit tests and the dashboards read is one /metrics serves. With
// telemetry off (the app's own meter provider) and on (the SDK preloaded as `npm start` does,
// with its instrumentations' metrics), each after a workload that makes the histograms record.
import t from 'tap'
import type { Test } from 'tap'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { parse } from 'yaml'
import { projectRoot } from '../../../src/project.js'
import { SHED_REASONS } from '../../../src/telemetry/metrics.js'
import { FALLBACK_REASONS } from '../../../src/llm/answer-writer.js'
import { buildTestApp, createServerDatabase } from '../../helper.js'
import { dashboardQueries, families, isServed, PROMETHEUS_OWN, selectors } from '../../promql.js'
import { startServer } from '../../server-process.js'
import { startScriptedModel } from '../../../bench/scripted-model.js'

// The suffix each unit these metrics use gets, written out here rather than taken from
// src/telemetry/prometheus-names.ts, which this checks. A unit not listed fails: add it.
const UNIT_SUFFIXES: Record<string, string> = { s: 'seconds', ms: 'milliseconds', By: 'bytes' }

function unitSuffix (unit: string, type: string): string | undefined {
  // None for no unit or an annotation alone ({connection}, a count of things).
  if (unit === '' || /^\{[^}]*\}$/.test(unit)) return ''
  // A gauge in 1 is a ratio, a counter in 1 counts things. (An up-down counter in 1 is a gauge in
  // the exposition but no ratio to the collector: none is served, and one would fail here.)
  if (unit === '1') return type === 'gauge' ? 'ratio' : ''
  return UNIT_SUFFIXES[unit]
}

/** Checks each family's name against its # UNIT and # TYPE; returns the names checked. */
function checkSuffixes (t: Test, exposition: string): string[] {
  const checked: string[] = []
  for (const [name, { type, unit }] of families(exposition)) {
    // The resource's attributes as a gauge of 1, not a metric of the app's.
    if (name === 'target_info') continue
    const suffix = unitSuffix(unit, type)
    if (suffix === undefined) {
      t.fail(`${name}: unit ${unit} is not one this test knows the suffix of`)
      continue
    }
    const stem = type === 'counter' ? name.replace(/_total$/, '') : name
    if (type === 'counter') t.match(name, /[^_]_total$/, `${name}: a counter ends in _total`)
    if (suffix !== '') {
      t.ok(stem.endsWith(`_${suffix}`) && !stem.endsWith(`_${suffix}_${suffix}`), `${name} (${type} in ${unit}) ends in _${suffix}${type === 'counter' ? '_total' : ''}, once`)
      checked.push(name)
    }
  }
  return checked
}

interface Rule { alert: string, expr: string }
const read = (path: string): unknown => parse(readFileSync(join(projectRoot, path), 'utf8'))
const rules = (read('otel/stack/alerts.yml') as { groups: Array<{ rules: Rule[] }> }).groups.flatMap(group => group.rules)
const ruleMetrics = new Set(rules.flatMap(rule => selectors(rule.expr).map(({ name }) => name)))
const ruleTestSeries = (read('otel/stack/alerts.test.yml') as { tests: Array<{ input_series?: Array<{ series: string }> }> }).tests
  .flatMap(test => (test.input_series ?? []).map(({ series }) => series))
const dashboardMetrics = new Set(dashboardQueries().flatMap(({ expr }) => selectors(expr).map(({ name }) => name)))

// A counter a rule reads with increase() > 0 must be served before it first counts (at 0), or that
// first event is never seen as an increase: the database's connection errors, which this workload
// never causes, are checked that way.
function checkServed (t: Test, what: string, names: Iterable<string>, served: Map<string, unknown>): void {
  for (const name of [...names].sort()) {
    if (PROMETHEUS_OWN.has(name)) continue
    t.ok(isServed(name, served), `${what}: ${name} is served by /metrics`)
  }
}

// Turns that touch the request, latency, search, statement and session metrics (a /reset ends a
// session), feedback, and the language model's (the scripted one of bench/scripted-model.ts: no
// real model can run here), which the LLMDegraded and LLMBudgetNearlySpent rules read; and a run of
// test questions, whose accuracy the EvaluationAccuracyLow rules read.
const ADMIN_KEY = 'metric-names-admin-key-0123456789'
const EVALUATION = { questions: [{ question: 'how do I view traces?', expected: 'tracing-and-logs' }, { question: 'what is the capital of Mongolia?', expected: null }] }
async function workload (t: Test, chat: (body: Record<string, string>) => Promise<{ status: number, body: { session_id: string } }>, evaluate: () => Promise<number>): Promise<void> {
  const first = await chat({ message: 'how do I view traces?' })
  t.equal(first.status, 200)
  await chat({ message: '/feedback up', session_id: first.body.session_id })
  await chat({ message: 'what is the capital of Mongolia?', session_id: first.body.session_id })
  await chat({ message: '/reset', session_id: first.body.session_id })
  t.equal(await evaluate(), 201, 'a run of test questions')
}

// Some gauges are observed from the app's first alert evaluation, which runs in the background
// once the app is ready: scrape until every name the rules read is there, for a few seconds at most.
async function scrapeWhenComplete (scrape: () => Promise<string>, wanted: Set<string>): Promise<string> {
  let exposition = ''
  for (let waited = 0; waited <= 5000; waited += 250) {
    exposition = await scrape()
    const served = families(exposition)
    if ([...wanted].every(name => PROMETHEUS_OWN.has(name) || isServed(name, served))) break
    await new Promise(resolve => setTimeout(resolve, 250))
  }
  return exposition
}

t.test('telemetry off: every metric carries its unit\'s suffix, and the rules read only metrics served', async t => {
  // The log volume's free space is observed only where the volume exists: with no LOG_DIR (no
  // log files), the working directory's.
  const model = await startScriptedModel(t)
  const app = await buildTestApp(t, { LOG_DIR: '', LLM_BASE_URL: model.url, LLM_MODEL: 'scripted-model', LLM_DAILY_BUDGET_USD: '5', API_KEYS: `${ADMIN_KEY}:admin` })
  await workload(t, async payload => {
    const response = await app.inject({ method: 'POST', url: '/v1/chat', payload })
    return { status: response.statusCode, body: response.json<{ session_id: string }>() }
  }, async () => (await app.inject({ method: 'POST', url: '/v1/kb/evaluations', headers: { authorization: `Bearer ${ADMIN_KEY}` }, payload: EVALUATION })).statusCode)
  const exposition = await scrapeWhenComplete(async () => (await app.inject({ method: 'GET', url: '/metrics' })).body, ruleMetrics)

  const checked = checkSuffixes(t, exposition)
  for (const name of ['http_server_request_duration_seconds', 'chatbot_response_time_seconds', 'process_memory_usage_bytes', 'process_cpu_utilization_ratio', 'process_cpu_seconds_total', 'chatbot_memory_limit_bytes', 'chatbot_log_disk_free_ratio']) {
    t.ok(checked.includes(name), `${name} is served and checked`)
  }

  // Prometheus evaluates the rules over job="parley", which must work without the SDK too.
  const served = families(exposition)
  checkServed(t, 'otel/stack/alerts.yml', ruleMetrics, served)
  // The rules' unit tests feed series by name: a name or shed reason the app no longer has would
  // test rules against data Prometheus never sees.
  for (const series of ruleTestSeries) {
    const [selector] = selectors(series)
    if (selector !== undefined && PROMETHEUS_OWN.has(selector.name)) continue
    t.ok(selector !== undefined && isServed(selector.name, served), `otel/stack/alerts.test.yml: ${series} is a metric /metrics serves`)
    const reason = /\breason="([^"]*)"/.exec(selector?.matchers ?? '')?.[1]
    const reasons: readonly string[] | undefined = { chatbot_shed_requests_total: SHED_REASONS, chatbot_llm_fallbacks_total: FALLBACK_REASONS }[selector?.name ?? '']
    if (reason !== undefined) t.ok(reasons?.includes(reason), `otel/stack/alerts.test.yml: ${selector?.name} reason ${reason} is one the app has (${reasons?.join(', ')})`)
  }
})

t.test('telemetry on: every metric, the instrumentations\' too, carries its unit\'s suffix, and the rules and dashboards read only metrics served', async t => {
  // The database pool's metrics come from pg's instrumentation, so server PostgreSQL is needed for them.
  const serverUrl = process.env.TEST_DATABASE_URL
  const database = serverUrl === undefined || serverUrl === '' ? undefined : await createServerDatabase(serverUrl)
  if (database !== undefined) t.teardown(() => database.drop())
  const model = await startScriptedModel(t)
  const server = await startServer(t, {
    LOG_DIR: '',
    LLM_BASE_URL: model.url,
    LLM_MODEL: 'scripted-model',
    LLM_DAILY_BUDGET_USD: '5',
    OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9',
    OTEL_METRICS_EXPORTER: 'none',
    API_KEYS: `${ADMIN_KEY}:admin`,
    ...(database === undefined ? {} : { DATABASE_URL: database.url })
  }, ['--import', join(projectRoot, 'dist/otel/instrumentation.js')])
  await workload(t, async body => {
    const response = await fetch(`${server.base}/v1/chat`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
    return { status: response.status, body: await response.json() as { session_id: string } }
  }, async () => (await fetch(`${server.base}/v1/kb/evaluations`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' }, body: JSON.stringify(EVALUATION) })).status)
  const exposition = await scrapeWhenComplete(async () => await (await fetch(`${server.base}/metrics`)).text(), new Set([...ruleMetrics, ...dashboardMetrics]))
  await server.stop()

  // /metrics needs no key: its target_info names the service and instance, not the machine or the process's user and command line.
  const targetInfo = /^target_info\{(.*)\} 1$/m.exec(exposition)?.[1] ?? ''
  t.match(targetInfo, /service_name="parley"/, 'target_info names the service')
  t.notMatch(targetInfo, /host_name|host_id|process_owner|process_command|process_executable|process_pid/, `target_info says nothing of the host or process: ${targetInfo}`)

  const checked = checkSuffixes(t, exposition)
  for (const name of ['http_server_request_duration_seconds', 'v8js_gc_duration_seconds', 'v8js_memory_heap_used_bytes', 'nodejs_eventloop_delay_p99_seconds', 'nodejs_eventloop_utilization_ratio', 'nodejs_eventloop_time_seconds_total']) {
    t.ok(checked.includes(name), `${name} is served and checked`)
  }

  const served = families(exposition)
  checkServed(t, 'otel/stack/alerts.yml', ruleMetrics, served)
  const needPostgres = [...dashboardMetrics].filter(name => name.startsWith('db_client_'))
  if (database === undefined) t.comment(`${needPostgres.join(', ')}: need TEST_DATABASE_URL, not checked`)
  checkServed(t, 'otel/stack/grafana/dashboards', [...dashboardMetrics].filter(name => database !== undefined || !needPostgres.includes(name)), served)
})
