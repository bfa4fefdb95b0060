// How the bot is doing over the last hour, day or week: key figures as tiles, the firing alerts,
// and two uPlot charts (turns answered and not, and p95 latency, over time).
import { useEffect, useRef } from 'preact/hooks'
import UPlot from 'uplot'
import 'uplot/dist/uPlot.min.css'
import type { Overview, OverviewQueryType } from '../../src/console/console-schemas.js'
import { useLoad } from '../shared/use-load.js'
import { consoleApi } from './api.js'
import { axisTimes, dateTime, ms, percent, timeZoneOf } from './format.js'
import { LeftOutNotice } from './left-out-notice.js'
import { hashFor, type Route } from './route.js'

type Period = NonNullable<OverviewQueryType['period']>
const PERIODS: readonly Period[] = ['hour', 'day', 'week']

export function OverviewView ({ route }: { route: Route }) {
  const asked = route.params.get('period')
  const period: Period = PERIODS.find(known => known === asked) ?? 'day'
  const leftOut = asked === null || asked === period ? [] : [`period=${asked} (one of ${PERIODS.join(', ')})`]
  const { data: overview, error } = useLoad(async () => await consoleApi.overview({ period }), [period])

  return (
    <section class='overview'>
      <div class='overview-header'>
        <h1>Overview</h1>
        <nav class='periods' aria-label='Period'>
          {PERIODS.map(known => (
            <a
              key={known} href={hashFor('overview', { period: known })}
              aria-current={known === period ? 'page' : undefined}
            >
              Last {known}
            </a>
          ))}
        </nav>
      </div>
      <LeftOutNotice view='overview' filters={leftOut}>It shows the last {period}.</LeftOutNotice>
      {error !== undefined && <p class='error' role='alert'>{error}</p>}
      {overview === undefined && error === undefined && <p class='muted'>Loading…</p>}
      {overview !== undefined && (
        <>
          <p class='muted'>{dateTime(overview.from)} to {dateTime(overview.to)} ({timeZoneOf(overview.to)})</p>
          <div class='tiles'>
            <Tile label='Turns' value={String(overview.turns)} />
            <Tile
              label='Answer rate' value={percent(overview.answer_rate)}
              link={hashFor('conversations', { kind: 'no_answer', range: period })} linkText='Unanswered'
            />
            <Tile label='Latency p50' value={ms(overview.latency_ms.p50)} />
            <Tile label='Latency p95' value={ms(overview.latency_ms.p95)} />
            <Tile
              label='Error rate' value={percent(overview.error_rate)}
              link={hashFor('conversations', { errors: 'true', range: period })} linkText='Failed turns'
            />
            <Tile label='Active sessions' value={String(overview.active_sessions)} />
            <Tile
              label='Feedback' value={`${overview.feedback.up} up · ${overview.feedback.down} down`}
              link={hashFor('conversations', { feedback: 'down', range: period })} linkText='Rated down'
            />
            <Tile
              label='Turn traces' value={`${overview.turn_traces.kept} chat requests recorded since start`}
              note={traceNote(overview.turn_traces)}
            />
          </div>
          <h2>Alerts firing</h2>
          {overview.alerts_firing.length === 0
            ? <p class='muted'>None.</p>
            : (
              <ul class='alerts'>
                {overview.alerts_firing.map(alert => (
                  <li key={alert.name}>
                    <span class={`severity severity-${alert.severity}`}>{alert.severity}</span>{' '}
                    <strong>{alert.name}</strong> {alert.summary}
                    {alert.since !== null ? <span class='muted'> since {dateTime(alert.since)}</span> : null}
                  </li>
                ))}
              </ul>
              )}
          <div class='charts'>
            <Chart
              title='Turns' series={overview.series}
              labels={['Turns', 'Answered', 'No answer']} colours={['#2f6f8f', '#2f855a', '#b7791f']}
              values={point => [point.turns, point.answered, point.no_answer]}
            />
            <Chart
              title='Latency p95 (ms)' series={overview.series} labels={['p95 ms']} colours={['#805ad5']}
              values={point => [point.p95_ms]}
            />
          </div>
        </>
      )}
    </section>
  )
}

export function Tile ({ label, value, note, link, linkText }: {
  label: string
  value: string
  note?: string
  link?: string
  linkText?: string
}) {
  return (
    <div class='tile'>
      <span class='tile-label'>{label}</span>
      <span class='tile-value'>{value}</span>
      {note !== undefined && <span class='tile-note'>{note}</span>}
      {link !== undefined && <a class='tile-link' href={link}>{linkText}</a>}
    </div>
  )
}

type Point = Overview['series'][number]

const COMPACT = new Intl.NumberFormat('en-US', { notation: 'compact', maximumFractionDigits: 1 })

function Chart ({ title, series, labels, colours, values }: {
  title: string
  series: Point[]
  labels: string[]
  colours: string[]
  values: (point: Point) => Array<number | null>
}) {
  const box = useRef<HTMLDivElement>(null)
  useEffect(() => {
    const element = box.current
    if (element === null) return
    const data: UPlot.AlignedData = [
      series.map(point => Date.parse(point.at) / 1000),
      ...labels.map((_label, i) => series.map(point => values(point)[i] ?? null))
    ]
    const plot = new UPlot({
      width: Math.max(element.clientWidth, 300),
      height: 220,
      series: [{}, ...labels.map((label, i) => ({ label, stroke: colours[i], width: 2, spanGaps: false }))],
      // Counts in the tens of thousands are written 12K, so that the axis's labels fit beside it;
      // the top is left a tenth clear, so that a lone point is not drawn on the edge.
      axes: [
        { stroke: '#616e7c', grid: { stroke: '#eef2f6' }, values: (_plot, ticks) => axisTimes(ticks) },
        {
          stroke: '#616e7c',
          grid: { stroke: '#eef2f6' },
          values: (_plot, ticks) => ticks.map(tick => COMPACT.format(tick))
        }
      ],
      scales: { y: { range: (_plot, _min, max) => [0, Math.max(max * 1.1, 1)] } },
      legend: { live: false }
    }, data, element)
    return () => { plot.destroy() }
  }, [series])
  return (
    <figure class='chart'>
      <figcaption>{title}</figcaption>
      <div ref={box} />
      {series.length === 0 && <p class='muted'>No turns in this period.</p>}
    </figure>
  )
}

/**
 * What the turn traces' figures leave out: spans and lines let go under pressure (timings kept),
 * and turns lost.
 */
function traceNote ({ let_go: letGo, lost }: Overview['turn_traces']): string | undefined {
  const notes = [letGo > 0 ? `${letGo} timings only (busy)` : '', lost > 0 ? `${lost} lost` : '']
    .filter(note => note !== '')
  return notes.length === 0 ? undefined : notes.join(', ')
}
