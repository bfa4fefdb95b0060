// What the alert rules and dashboards read, and what /metrics serves, for tests that compare them.
// Queries are read by Prometheus's own PromQL grammar (@prometheus-io/lezer-promql, the parser of
// its web UI): a function, a grouping label, a duration or a string is never taken for a metric,
// and a query that does not parse fails instead of hiding the metrics it names.
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { parser } from '@prometheus-io/lezer-promql'
import { projectRoot } from '../src/project.js'

/** A vector selector: the metric name ('' for a selector by {__name__=…}) and its {matchers} as written. */
export interface Selector { name: string, matchers: string }

export function selectors (expr: string): Selector[] {
  const found: Selector[] = []
  let error: number | undefined
  parser.parse(expr).iterate({
    enter: node => {
      if (node.type.isError) error ??= node.from
      if (node.name !== 'VectorSelector') return
      const name = node.node.getChild('Identifier')
      const matchers = node.node.getChild('LabelMatchers')
      found.push({ name: name === null ? '' : expr.slice(name.from, name.to), matchers: matchers === null ? '' : expr.slice(matchers.from, matchers.to) })
    }
  })
  if (error !== undefined) throw new Error(`not valid PromQL at character ${error}: ${expr}`)
  return found
}

// Prometheus's own series, never served by the app: the scrape's health and the rules' state.
export const PROMETHEUS_OWN = new Set(['up', 'ALERTS'])

interface Panel { title?: string, datasource?: { type?: string }, targets?: Array<{ expr?: string, datasource?: { type?: string } }>, panels?: Panel[] }

/** Every Prometheus query of every dashboard in otel/stack/grafana/dashboards, rows' panels included. */
export function dashboardQueries (): Array<{ dashboard: string, panel: string, expr: string }> {
  const folder = join(projectRoot, 'otel/stack/grafana/dashboards')
  const queries: Array<{ dashboard: string, panel: string, expr: string }> = []
  const walk = (dashboard: string, panels: Panel[]): void => {
    for (const panel of panels) {
      for (const target of panel.targets ?? []) {
        const type = target.datasource?.type ?? panel.datasource?.type
        if (type === 'prometheus' && target.expr !== undefined) queries.push({ dashboard, panel: panel.title ?? '', expr: target.expr })
      }
      walk(dashboard, panel.panels ?? [])
    }
  }
  for (const file of readdirSync(folder).filter(name => name.endsWith('.json'))) {
    walk(file, (JSON.parse(readFileSync(join(folder, file), 'utf8')) as { panels?: Panel[] }).panels ?? [])
  }
  return queries
}

/** The metric families of a Prometheus text exposition, with their type and their # UNIT (the instrument's unit, as the exporter writes it). */
export function families (exposition: string): Map<string, { type: string, unit: string }> {
  const found = new Map<string, { type: string, unit: string }>()
  for (const [, name, type] of exposition.matchAll(/^# TYPE (\S+) (\S+)$/gm)) found.set(name!, { type: type!, unit: '' })
  for (const [, name, unit] of exposition.matchAll(/^# UNIT (\S+) (.*)$/gm)) {
    const family = found.get(name!)
    if (family !== undefined) family.unit = unit!
  }
  return found
}

/** Whether a name a query reads is served: a histogram's family is read through _bucket, _count or _sum. */
export function isServed (name: string, served: Map<string, unknown> | Set<string>): boolean {
  return served.has(name) || served.has(name.replace(/_(bucket|count|sum)$/, ''))
}
