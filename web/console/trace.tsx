// Inside one turn: its spans as a waterfall (indented by parent, bars placed by start and length
// on the turn's own time scale, coloured by status) and its log lines, from the turn trace Parley
// kept (GET /console/api/traces/:trace_id), with links to Jaeger and Grafana when configured.
import { useState } from 'preact/hooks'
import type { TurnTraceViewType } from '../../src/console/console-schemas.js'
import { hasStatus } from '../shared/problem.js'
import { useLoad } from '../shared/use-load.js'
import { consoleApi } from './api.js'
import { clock, ms, webLink } from './format.js'

type Span = TurnTraceViewType['spans'][number]
type LogLine = TurnTraceViewType['logs'][number]

// Shown on the bar itself; every attribute is in the row's details.
const KEY_ATTRIBUTES = [
  'db.query.summary',
  'parley.answer.confidence',
  'parley.reply.kind',
  'parley.command',
  'parley.search.results',
  'parley.cost_usd',
  'gen_ai.usage.input_tokens',
  'gen_ai.usage.output_tokens',
  'gen_ai.response.time_to_first_chunk',
  'error.type',
  'http.route',
  'http.response.status_code'
]
// Every line has them; they say nothing about this turn.
const COMMON_FIELDS = new Set(['time', 'level', 'module', 'fn', 'msg', 'service', 'version', 'env'])

/** Spans in tree order, each with its depth: children under their parent, by start time. */
export function treeOrder (spans: Span[]): Array<{ span: Span, depth: number }> {
  const ids = new Set(spans.map(span => span.span_id))
  const children = new Map<string | undefined, Span[]>()
  for (const span of spans) {
    // A span whose parent was not kept (the caller's, or dropped) is shown as a root.
    const parent = span.parent_span_id !== undefined && ids.has(span.parent_span_id) ? span.parent_span_id : undefined
    children.set(parent, [...(children.get(parent) ?? []), span])
  }
  const ordered: Array<{ span: Span, depth: number }> = []
  const visit = (parent: string | undefined, depth: number): void => {
    for (const span of (children.get(parent) ?? []).sort((a, b) => a.start_ms - b.start_ms)) {
      ordered.push({ span, depth })
      visit(span.span_id, depth + 1)
    }
  }
  visit(undefined, 0)
  return ordered
}

export function TracePanel ({ traceId }: { traceId: string }) {
  // A trace not kept (telemetry off, or past its retention) is an answer, not an error.
  const { data: trace, error } = useLoad(async () => await consoleApi.trace(traceId).catch((caught: unknown) => {
    if (hasStatus(caught, 404)) return null
    throw caught
  }), [traceId])

  if (error !== undefined) return <p class='error' role='alert'>{error}</p>
  if (trace === undefined) return <p class='muted'>Loading the trace…</p>
  if (trace === null) return <p class='muted trace-missing'>No trace kept for this turn</p>
  const jaeger = webLink(trace.links.jaeger)
  const grafana = webLink(trace.links.grafana)
  return (
    <div class='trace'>
      <div class='trace-header'>
        <h3>Trace <span class='mono muted'>{trace.trace_id}</span></h3>
        <span class={trace.status === 'error' ? 'badge-error' : 'badge-ok'}>{trace.status_code}</span>
        <span class='muted'>{ms(trace.duration_ms)}</span>
        <span class='grow' />
        {jaeger !== undefined && <a href={jaeger} target='_blank' rel='noopener noreferrer'>Open in Jaeger</a>}
        {grafana !== undefined && <a href={grafana} target='_blank' rel='noopener noreferrer'>Open in Grafana</a>}
      </div>
      {trace.error !== null && <p class='error'>{trace.error}</p>}
      <Parts trace={trace} />
      {trace.let_go === 'pressure'
        ? (
          <p class='muted let-go'>
            Its spans and log lines were let go: turns were waiting in line when it was answered, and it was
            not rated down or opened within 15 minutes on the instance that answered it. Its duration and
            parts above are kept.
          </p>
          )
        : <><Waterfall spans={trace.spans} /><LogLines logs={trace.logs} /></>}
    </div>
  )
}

// The parts of a turn's duration, in the order a turn goes through them.
const PARTS = [
  ['admission_ms', 'waiting for admission'],
  ['database_ms', 'database'],
  ['search_ms', 'search'],
  ['model_ms', 'model']
] as const

/**
 * The latency the user lived, from the request's arrival to the last byte of the reply, and where
 * it went.
 */
function Parts ({ trace }: { trace: TurnTraceViewType }) {
  if (trace.parts === null) return null
  const parts = trace.parts
  const measured = PARTS.reduce((sum, [key]) => sum + parts[key], 0)
  const rest = Math.max(trace.duration_ms - measured, 0)
  const shown = [
    ...PARTS.map(([key, label]) => ({ key, label, value: parts[key] })),
    { key: 'other', label: 'reading, writing the reply, waiting for the CPU', value: rest }
  ].filter(part => part.value > 0)
  return (
    <div class='parts' aria-label='Latency parts'>
      <p>
        <strong>{ms(trace.duration_ms)}</strong>{' '}
        <span class='muted'>from the request's arrival to the last byte of the reply</span>
      </p>
      <div class='parts-bar'>
        {shown.map(part => (
          <span
            key={part.key}
            class={`part part-${part.key}`}
            style={{ width: `${(part.value / Math.max(trace.duration_ms, 0.001)) * 100}%` }}
            title={`${part.label}: ${ms(part.value)}`}
          />
        ))}
      </div>
      <ul class='parts-legend'>
        {shown.map(part => (
          <li key={part.key}>
            <span class={`swatch part-${part.key}`} />{part.label} <strong>{ms(part.value)}</strong>
          </li>
        ))}
      </ul>
    </div>
  )
}

function Waterfall ({ spans }: { spans: Span[] }) {
  const [expanded, setExpanded] = useState<string>()
  if (spans.length === 0) return <p class='muted'>No spans were kept for this turn (telemetry off).</p>
  const total = Math.max(...spans.map(span => span.start_ms + span.duration_ms), 0.001)
  return (
    <div class='waterfall' role='table' aria-label='Spans'>
      <div class='waterfall-row waterfall-head' role='row'>
        <span role='columnheader'>Span</span>
        <span role='columnheader' class='scale'>
          <span>0</span><span>{ms(total / 2)}</span><span>{ms(total)}</span>
        </span>
        <span role='columnheader' class='number'>Duration</span>
      </div>
      {treeOrder(spans).map(({ span, depth }) => {
        const keys = KEY_ATTRIBUTES
          .filter(name => span.attributes[name] !== undefined)
          .map(name => `${name}=${String(span.attributes[name])}`)
        const open = expanded === span.span_id
        return (
          <div key={span.span_id} class={`waterfall-span status-${span.status}`} role='rowgroup'>
            <div
              class='waterfall-row' role='row' title={keys.join('\n')}
              onClick={() => setExpanded(open ? undefined : span.span_id)}
            >
              <span role='cell' class='span-name' style={{ paddingLeft: `${depth * 14 + 4}px` }}>
                <button type='button' class='link' aria-expanded={open}>{span.name}</button>
              </span>
              <span role='cell' class='track'>
                <span
                  class='bar'
                  style={{
                    left: `${(span.start_ms / total) * 100}%`,
                    width: `${Math.max((span.duration_ms / total) * 100, 0.4)}%`
                  }}
                />
                {keys.length > 0 && (
                  <span class='bar-label' style={{ left: `${Math.min((span.start_ms / total) * 100, 70)}%` }}>
                    {keys[0]}
                  </span>
                )}
              </span>
              <span role='cell' class='number'>{ms(span.duration_ms)}</span>
            </div>
            {open && (
              <dl class='attributes'>
                <div><dt>kind</dt><dd>{span.kind}</dd></div>
                <div>
                  <dt>status</dt>
                  <dd>{span.status}{span.status_message !== undefined ? `: ${span.status_message}` : ''}</dd>
                </div>
                <div><dt>start</dt><dd>{ms(span.start_ms)}</dd></div>
                {Object.entries(span.attributes).map(([name, value]) => (
                  <div key={name}><dt>{name}</dt><dd>{String(value)}</dd></div>
                ))}
              </dl>
            )}
          </div>
        )
      })}
    </div>
  )
}

const fieldText = (value: unknown): string => typeof value === 'string' ? value : JSON.stringify(value)

function LogLines ({ logs }: { logs: LogLine[] }) {
  if (logs.length === 0) return <p class='muted'>No log lines were kept for this turn.</p>
  return (
    <table class='logs'>
      <caption>Log lines</caption>
      <thead><tr><th>Time</th><th>Level</th><th>Module</th><th>Message</th><th>Fields</th></tr></thead>
      <tbody>
        {logs.map((line, index) => {
          const level = fieldText(line.level ?? '')
          const fields = Object.entries(line).filter(([name]) => !COMMON_FIELDS.has(name))
          return (
            <tr key={index} class={`level-${level}`}>
              <td class='nowrap mono'>{clock(line.time)}</td>
              <td><span class={`level level-${level}`}>{level}</span></td>
              <td class='nowrap'>
                {fieldText(line.module ?? '')}
                {line.fn !== undefined ? <span class='muted'> · {fieldText(line.fn)}</span> : null}
              </td>
              <td>{fieldText(line.msg ?? '')}</td>
              <td class='fields mono'>
                {fields.map(([name, value]) => (
                  <span key={name} class='field'><span class='muted'>{name}=</span>{fieldText(value)}</span>
                ))}
              </td>
            </tr>
          )
        })}
      </tbody>
    </table>
  )
}
