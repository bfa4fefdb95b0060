// The docker-compose stack, checked without Docker (none here): the collector's pipelines use
// only components it defines, no two services publish one host port, and every mounted config
// exists. That every metric the dashboards query is one a live Parley serves, under the name the
// collector gives it too: metric-names.test.ts.
import t from 'tap'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { parse } from 'yaml'
import { projectRoot } from '../../src/project.js'

const read = (path: string): unknown => parse(readFileSync(join(projectRoot, path), 'utf8'))

interface Collector {
  receivers: Record<string, unknown>
  processors: Record<string, unknown>
  exporters: Record<string, unknown>
  extensions?: Record<string, unknown>
  service: { extensions?: string[], pipelines: Record<string, { receivers: string[], processors?: string[], exporters: string[] }> }
}

t.test('every collector pipeline names only defined receivers, processors and exporters', async t => {
  const collector = read('otel/stack/collector.yaml') as Collector
  t.same(Object.keys(collector.service.pipelines).sort(), ['logs', 'metrics', 'traces'], 'a pipeline per signal')
  for (const [name, pipeline] of Object.entries(collector.service.pipelines)) {
    for (const kind of ['receivers', 'processors', 'exporters'] as const) {
      for (const component of pipeline[kind] ?? []) t.ok(component in collector[kind], `${name}: ${kind.slice(0, -1)} ${component} is defined`)
    }
    t.same(pipeline.processors?.[0], 'memory_limiter', `${name}: memory_limiter comes first`)
  }
  for (const extension of collector.service.extensions ?? []) t.ok(extension in (collector.extensions ?? {}), `extension ${extension} is defined`)
})

t.test('no service opens a write endpoint nothing uses', async t => {
  const compose = read('docker-compose.yml') as { services: Record<string, { command?: string[] }> }
  const flags = Object.values(compose.services).flatMap(({ command }) => command ?? [])
  t.notOk(flags.includes('--web.enable-remote-write-receiver'), 'Prometheus scrapes; a remote-write receiver would let anyone who reaches it write series')
})

t.test('no two services publish the same host port, and every mounted file exists', async t => {
  const compose = read('docker-compose.yml') as { services: Record<string, { ports?: string[], volumes?: string[] }> }
  const published = Object.entries(compose.services).flatMap(([service, { ports }]) => (ports ?? []).map(port => [service, String(port).split(':').at(-2)!] as const))
  t.equal(new Set(published.map(([, port]) => port)).size, published.length, `host ports ${published.map(([service, port]) => `${service}:${port}`).join(', ')}`)
  const mounted = Object.values(compose.services).flatMap(({ volumes }) => (volumes ?? []).filter(volume => volume.startsWith('./')).map(volume => volume.split(':')[0]!))
  for (const path of mounted) t.ok(existsSync(join(projectRoot, path)), `${path} exists`)
})
