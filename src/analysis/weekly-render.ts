// The weekly report as a person reads it: Markdown, and one self-contained HTML file (inline CSS
// and SVG charts, nothing fetched) that can be mailed or opened anywhere, and the two files saved.
import { mkdir, rename, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { htmlEscape } from '../mail/html-escape.js'
import { cellExcerpt, markdownCell, usd } from './render.js'
import { lastDay, type WeekFigures, type WeeklyReport } from './weekly-report.js'

type Direction = 'up-good' | 'down-good'
interface Headline {
  label: string
  now: number | undefined
  before: number | undefined
  format: (value: number) => string
  better: Direction
}

const percent = (value: number): string => `${(value * 100).toFixed(1)} %`
const count = (value: number): string => Math.round(value).toLocaleString('en-US')
const millis = (value: number): string => `${value} ms`

function headlines (now: WeekFigures, before: WeekFigures): Headline[] {
  return [
    { label: 'Turns', now: now.turns, before: before.turns, format: count, better: 'up-good' },
    { label: 'Requests', now: now.requests, before: before.requests, format: count, better: 'up-good' },
    { label: 'Active users', now: now.active_users, before: before.active_users, format: count, better: 'up-good' },
    {
      label: 'Chat p95 latency', now: now.chat_p95_ms, before: before.chat_p95_ms, format: millis, better: 'down-good'
    },
    { label: 'Error rate (5xx)', now: now.error_rate, before: before.error_rate, format: percent, better: 'down-good' },
    { label: 'Answer rate', now: now.answer_rate, before: before.answer_rate, format: percent, better: 'up-good' },
    {
      label: 'Satisfaction (feedback up)',
      now: now.satisfaction,
      before: before.satisfaction,
      format: percent,
      better: 'up-good'
    },
    // Only for a team that runs test questions (POST /v1/kb/evaluations, npm run kb:evaluate).
    ...(now.kb_accuracy === undefined && before.kb_accuracy === undefined
      ? []
      : [{
          label: 'Accuracy on the test questions (last run)',
          now: now.kb_accuracy,
          before: before.kb_accuracy,
          format: percent,
          better: 'up-good' as const
        }]),
    // Only for a bot that has a language model: a team without one has nothing to read here.
    ...(now.model_cost_usd === undefined && before.model_cost_usd === undefined
      ? []
      : [
          {
            label: 'Answers the model wrote',
            now: now.model_written_rate,
            before: before.model_written_rate,
            format: percent,
            better: 'up-good' as const
          },
          {
            label: 'Language model cost',
            now: now.model_cost_usd,
            before: before.model_cost_usd,
            format: usd,
            better: 'down-good' as const
          }
        ])
  ]
}

/** "+12 %", "−3.1 pts" (for rates), or "new" / "–"; and whether the change is good news. */
function change (headline: Headline): { text: string, good: boolean | undefined } {
  const { now, before } = headline
  if (now === undefined || before === undefined) return { text: '–', good: undefined }
  if (now === before) return { text: 'same', good: undefined }
  const rate = headline.format === percent
  const delta = rate ? (now - before) * 100 : before === 0 ? Infinity : (now - before) / before * 100
  const text = !Number.isFinite(delta)
    ? 'new'
    : `${delta > 0 ? '+' : '−'}${Math.abs(delta).toFixed(1)}${rate ? ' pts' : ' %'}`
  return { text, good: (now > before) === (headline.better === 'up-good') }
}

const shown = (headline: Headline, value: number | undefined): string =>
  value === undefined ? 'n/a' : headline.format(value)
const period = (report: WeeklyReport): string => `${report.this_week.from.slice(0, 10)} to ${lastDay(report.this_week)}`

function problemLines (report: WeeklyReport): string[] {
  const { problems } = report
  const lines = problems.files === 0
    ? ['No log files cover these two weeks: every figure below is empty, not zero.']
    : []
  if (problems.badLines > 0) lines.push(`${problems.badLines} lines were not JSON log entries and were skipped.`)
  for (const { file, error } of problems.truncatedFiles) {
    lines.push(`${file} is truncated or corrupt (${error}); its lines before the damage were read.`)
  }
  for (const { file, error } of problems.unreadableFiles) lines.push(`${file} could not be read (${error}).`)
  return lines
}

export function weeklyMarkdown (report: WeeklyReport): string {
  const lines = [`# Parley weekly report, ${period(report)}`, '']
  for (const problem of problemLines(report)) lines.push(`> ⚠ ${problem}`)
  lines.push('', '| | this week | last week | change |', '| --- | --- | --- | --- |')
  for (const headline of headlines(report.this_week, report.last_week)) {
    lines.push(`| ${headline.label} | ${shown(headline, headline.now)} | ${shown(headline, headline.before)} | ` +
      `${change(headline).text} |`)
  }
  lines.push('', '## Turns and chat p95 by day', '', '| day | turns | chat p95 |', '| --- | --- | --- |')
  for (const day of report.daily) {
    lines.push(`| ${day.day} | ${day.turns} | ${day.chat_p95_ms === undefined ? 'n/a' : `${day.chat_p95_ms} ms`} |`)
  }
  lines.push('', `## Top error patterns (${report.error_patterns} in all)`, '')
  if (report.top_errors.length === 0) lines.push('No errors this week.')
  else {
    lines.push('| count | last week | trend | error | routes | fingerprint |', '| --- | --- | --- | --- | --- | --- |')
    for (const p of report.top_errors) {
      lines.push(`| ${p.count} | ${p.previous_count} | ${p.trend} | ` +
        `${markdownCell(`${p.type}: ${p.message}`.slice(0, 100))} | ${markdownCell(p.routes.join(', '))} | ` +
        `${p.fingerprint} |`)
    }
  }
  lines.push('', '## Questions the bot could not answer', '')
  if (report.unanswered.length === 0) lines.push('None with their text logged.')
  else {
    lines.push('| asked | wordings | question |', '| --- | --- | --- |')
    for (const q of report.unanswered) {
      lines.push(`| ${q.count} | ${q.variants} | ${markdownCell(cellExcerpt(q.example))} |`)
    }
  }
  lines.push('', '## Alerts fired', '')
  if (report.alerts.length === 0) lines.push('None.')
  for (const alert of report.alerts) {
    lines.push(`- ${alert.alert} (${alert.severity}): ${alert.fired} time${alert.fired === 1 ? '' : 's'}`)
  }
  return lines.join('\n') + '\n'
}

/** The HTML report's inline style sheet, one rule group a line. */
const STYLE = [
  'body{font:14px/1.45 system-ui,sans-serif;color:#1d2330;max-width:920px;margin:24px auto;padding:0 16px}',
  'h1{font-size:22px}h2{font-size:16px;margin-top:28px}',
  '.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(200px,1fr));gap:10px}',
  '.card{border:1px solid #d8dce6;border-radius:8px;padding:10px}.k{color:#5b6478;font-size:12px}' +
    '.n{font-size:22px;font-weight:600}',
  '.c span{color:#5b6478}.good{color:#137a3a}.bad{color:#b3261e}',
  '.warn{background:#fff4d6;border:1px solid #e6c45c;border-radius:6px;padding:8px;margin:6px 0}',
  'table{border-collapse:collapse;width:100%}' +
    'td,th{border-bottom:1px solid #e3e6ee;padding:4px 6px;text-align:left;vertical-align:top}',
  'svg .t{font-weight:600;font-size:12px}svg .a,svg .v{font-size:10px;fill:#5b6478}svg .b{fill:#4c6ef5}' +
    'svg .l{fill:none;stroke:#e8590c;stroke-width:2}svg .d{fill:#e8590c}',
  '.charts{display:flex;flex-wrap:wrap;gap:16px}'
].join('\n')

/** A small SVG chart: bars, or a line with dots; days on the x axis, the values labelled. */
function chart (
  title: string, days: string[], values: Array<number | undefined>, kind: 'bar' | 'line', unit: string
): string {
  const width = 420
  const height = 160
  const top = 24
  const bottom = 28
  const max = Math.max(1, ...values.map(value => value ?? 0))
  const step = width / days.length
  const y = (value: number): number => top + (height - top - bottom) * (1 - value / max)
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" role="img" ` +
      `aria-label="${htmlEscape(title)}"><text x="0" y="14" class="t">${htmlEscape(title)}</text>`
  ]
  const points: string[] = []
  values.forEach((value, i) => {
    const x = i * step + step / 2
    parts.push(`<text x="${x}" y="${height - 8}" text-anchor="middle" class="a">${days[i]!.slice(5)}</text>`)
    if (value === undefined) return
    if (kind === 'bar') {
      parts.push(`<rect x="${x - step * 0.3}" y="${y(value)}" width="${step * 0.6}" ` +
        `height="${height - bottom - y(value)}" class="b"/>`)
    } else {
      points.push(`${x},${y(value)}`)
    }
    parts.push(`<text x="${x}" y="${y(value) - 4}" text-anchor="middle" class="v">${value}${unit}</text>`)
  })
  if (points.length > 0) {
    parts.push(
      `<polyline points="${points.join(' ')}" class="l"/>`,
      ...points.map(point => `<circle cx="${point.split(',')[0]}" cy="${point.split(',')[1]}" r="3" class="d"/>`)
    )
  }
  return parts.join('') + '</svg>'
}

export function weeklyHtml (report: WeeklyReport): string {
  const cards = headlines(report.this_week, report.last_week).map(headline => {
    const { text, good } = change(headline)
    return `<div class="card"><div class="k">${htmlEscape(headline.label)}</div>` +
      `<div class="n">${htmlEscape(shown(headline, headline.now))}</div>` +
      `<div class="c ${good === undefined ? '' : good ? 'good' : 'bad'}">${htmlEscape(text)} ` +
      `<span>vs ${htmlEscape(shown(headline, headline.before))}</span></div></div>`
  }).join('')
  const days = report.daily.map(day => day.day)
  const rows = (cells: string[][]): string =>
    cells.map(row => `<tr>${row.map(cell => `<td>${htmlEscape(cell)}</td>`).join('')}</tr>`).join('')
  const charts = chart('Turns per day', days, report.daily.map(day => day.turns), 'bar', '') +
    chart('Chat p95 latency per day', days, report.daily.map(day => day.chat_p95_ms), 'line', ' ms')
  const errorTable = report.top_errors.length === 0
    ? '<p>No errors this week.</p>'
    : '<table><tr><th>count</th><th>last week</th><th>trend</th><th>error</th><th>routes</th>' +
      '<th>fingerprint</th></tr>' +
      rows(report.top_errors.map(p => [
        String(p.count), String(p.previous_count), p.trend, `${p.type}: ${p.message}`.slice(0, 100),
        p.routes.join(', '), p.fingerprint
      ])) +
      '</table>'
  const unansweredTable = report.unanswered.length === 0
    ? '<p>None with their text logged.</p>'
    : '<table><tr><th>asked</th><th>wordings</th><th>question</th></tr>' +
      rows(report.unanswered.map(q => [String(q.count), String(q.variants), cellExcerpt(q.example)])) +
      '</table>'
  const alertItems = report.alerts
    .map(alert => `<li>${htmlEscape(alert.alert)} (${htmlEscape(alert.severity)}): ${alert.fired}</li>`)
    .join('')
  const alertList = report.alerts.length === 0 ? '<p>None.</p>' : `<ul>${alertItems}</ul>`
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Parley weekly report, ${htmlEscape(period(report))}</title>
<style>
${STYLE}
</style></head><body>
<h1>Parley weekly report, ${htmlEscape(period(report))}</h1>
${problemLines(report).map(problem => `<div class="warn">⚠ ${htmlEscape(problem)}</div>`).join('')}
<div class="cards">${cards}</div>
<h2>By day</h2>
<div class="charts">${charts}</div>
<h2>Top error patterns (${report.error_patterns} in all)</h2>
${errorTable}
<h2>Questions the bot could not answer</h2>
${unansweredTable}
<h2>Alerts fired</h2>
${alertList}
</body></html>
`
}

/**
 * Writes the report as `parley-weekly-<last day>.md` and `.html` into dir; each file appears whole
 * or not at all.
 */
export async function saveWeeklyReport (
  report: WeeklyReport, dir: string
): Promise<{ markdown: string, html: string }> {
  await mkdir(dir, { recursive: true })
  const name = join(dir, `parley-weekly-${lastDay(report.this_week)}`)
  const files = { markdown: `${name}.md`, html: `${name}.html` }
  for (const [path, text] of [[files.markdown, weeklyMarkdown(report)], [files.html, weeklyHtml(report)]] as const) {
    await writeFile(`${path}.partial`, text)
    await rename(`${path}.partial`, path)
  }
  return files
}
