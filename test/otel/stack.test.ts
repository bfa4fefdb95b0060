// The docker-compose stack, checked without Docker (none here): the collector's pipelines use
// only components it defines, no two services publish one host port, every mounted config
// exists, and every metric the dashboard queries is one a live Parley really serves.
import t from 'tap'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { parse } from 'yaml'
import { projectRoot } from '../../src/project.js'
import { createServerDatabase } from '../helper.js'
import { startServer } from '../server-process.js'

const read = (path: string): unknown => parse(readFileSync(join(projectRoot, path), 'utf8'))

interface Collector {
  receivers: Record<string, unknown>
  processors: Record<string, unknown>
  exporters: Record<string, unknown>
  extensions?: Record<string, unknown>
  service: { extensions?: string[], pipelines: Record<string, { receivers: string[], processors?: string[], exporters: string[] }> }
}

t.test('every collector pipeline names only defined receivers, processors and exporters', async t => {
  const collector = read('otel/collector.yaml') as Collector
  t.same(Object.keys(collector.service.pipelines).sort(), ['logs', 'metrics', 'traces'], 'a pipeline per signal')
  for (const [name, pipeline] of Object.entries(collector.service.pipelines)) {
    for (const kind of ['receivers', 'processors', 'exporters'] as const) {
      for (const component of pipeline[kind] ?? []) t.ok(component in collector[kind], `${name}: ${kind.slice(0, -1)} ${component} is defined`)
    }
    t.same(pipeline.processors?.[0], 'memory_limiter', `${name}: memory_limiter comes first`)
  }
  for (const extension of collector.service.extensions ?? []) t.ok(extension in (collector.extensions ?? {}), `extension ${extension} is defined`)
})

t.test('no two services publish the same host port, and every mounted file exists', async t => {
  const compose = read('docker-compose.yml') as { services: Record<string, { ports?: string[], volumes?: string[] }> }
  const published = Object.entries(compose.services).flatMap(([service, { ports }]) => (ports ?? []).map(port => [service, String(port).split(':').at(-2)!] as const))
  t.equal(new Set(published.map(([, port]) => port)).size, published.length, `host ports ${published.map(([service, port]) => `${service}:${port}`).join(', ')}`)
  const mounted = Object.values(compose.services).flatMap(({ volumes }) => (volumes ?? []).filter(volume => volume.startsWith('./')).map(volume => volume.split(':')[0]!))
  for (const path of mounted) t.ok(existsSync(join(projectRoot, path)), `${path} exists`)
})

t.test('every metric the dashboard queries is served by a live Parley', async t => {
  const dashboard = JSON.parse(readFileSync(join(projectRoot, 'otel/grafana/dashboards/chatbot-overview.json'), 'utf8')) as { panels: Array<{ datasource: { type: string }, targets: Array<{ expr: string }> }> }
  const queried = new Set(dashboard.panels.filter(panel => panel.datasource.type === 'prometheus')
    .flatMap(panel => panel.targets.flatMap(target => [...target.expr.matchAll(/\b([a-z_][a-z0-9_]*)\{/g)].map(match => match[1]!))))

  // The database pool's metrics come from pg's instrumentation, so server PostgreSQL is needed for them.
  const serverUrl = process.env.TEST_DATABASE_URL
  const database = serverUrl === undefined || serverUrl === '' ? undefined : await createServerDatabase(serverUrl)
  if (database !== undefined) t.teardown(() => database.drop())
  const server = await startServer(t, { LOG_DIR: '', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9', OTEL_METRICS_EXPORTER: 'none', ...(database === undefined ? {} : { DATABASE_URL: database.url }) }, ['--import', join(projectRoot, 'dist/otel/instrumentation.js')])
  // Counters appear once they have counted: a workload that touches each.
  const chat = async (body: Record<string, string>) => (await (await fetch(`${server.base}/v1/chat`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })).json()) as { session_id: string }
  const { session_id: sessionId } = await chat({ message: 'how do I view traces?' })
  await chat({ message: '/feedback up', session_id: sessionId })
  await chat({ message: '/reset', session_id: sessionId }) // an ended session, for the session histograms
  const served = new Set([...(await (await fetch(`${server.base}/metrics`)).text()).matchAll(/^# TYPE (\S+) /gm)].map(match => match[1]!))
  await server.stop()

  for (const name of queried) {
    if (name.startsWith('db_client_') && database === undefined) {
      t.comment(`${name}: needs TEST_DATABASE_URL, not checked`)
      continue
    }
    // A histogram is served under its own name and queried through _bucket, _count or _sum.
    t.ok(served.has(name) || served.has(name.replace(/_(bucket|count|sum)$/, '')), `${name} is served`)
  }
})
