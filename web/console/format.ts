// How the console writes times, durations, shares and users: short, and the same everywhere.
import type { ConsoleUser } from '../../src/console/console-schemas.js'

const pad = (value: number, width = 2): string => String(value).padStart(width, '0')

/** The browser's time zone at that time, as it is written short: "UTC", "GMT+1", "CET". */
export function timeZoneOf (iso: string): string {
  const parts = new Intl.DateTimeFormat(undefined, { timeZoneName: 'short' }).formatToParts(new Date(iso))
  return parts.find(part => part.type === 'timeZoneName')?.value ?? ''
}

export function dateTime (iso: string): string {
  const at = new Date(iso)
  const date = `${at.getFullYear()}-${pad(at.getMonth() + 1)}-${pad(at.getDate())}`
  return `${date} ${pad(at.getHours())}:${pad(at.getMinutes())}:${pad(at.getSeconds())}`
}

/**
 * A time axis's ticks (seconds since the epoch), written as dateTime writes times (uPlot's own are
 * 11/26/26): the date where ticks are a day or more apart; else the time, with the date under the
 * first tick and under each that starts a day.
 */
export function axisTimes (ticks: number[]): string[] {
  const step = ticks.length > 1 ? ticks[1]! - ticks[0]! : 86_400
  let previousDate: string | undefined
  return ticks.map(tick => {
    const [date, time] = dateTime(new Date(tick * 1000).toISOString()).split(' ') as [string, string]
    if (step >= 86_400) return date
    const label = date === previousDate ? time.slice(0, 5) : `${time.slice(0, 5)}\n${date}`
    previousDate = date
    return label
  })
}

export function clock (iso: unknown): string {
  if (typeof iso !== 'string' && typeof iso !== 'number') return ''
  const at = new Date(iso)
  return Number.isNaN(at.getTime())
    ? String(iso)
    : `${pad(at.getHours())}:${pad(at.getMinutes())}:${pad(at.getSeconds())}.${pad(at.getMilliseconds(), 3)}`
}

export function ms (value: number | null | undefined): string {
  if (value === null || value === undefined) return '—'
  if (value >= 10_000) return `${(value / 1000).toFixed(1)} s`
  if (value >= 100) return `${Math.round(value)} ms`
  return `${value.toFixed(1)} ms`
}

export const percent = (value: number | null | undefined): string =>
  value === null || value === undefined ? '—' : `${(value * 100).toFixed(1)} %`

/** Links from the server, shown only if they are web addresses (never javascript: or data:). */
export const webLink = (href: string | null | undefined): string | undefined =>
  typeof href === 'string' && /^https?:\/\//i.test(href) ? href : undefined

/**
 * US dollars: cents, or, below a cent (a model call costs a fraction of one), the first
 * significant digits.
 */
export const usd = (value: number): string =>
  value === 0 || value >= 0.01 ? `$${value.toFixed(2)}` : `$${value.toPrecision(2)}`

/** A user as the console names them: the id the client sent (admin), else the pseudonym. */
export const userLabel = (user: ConsoleUser): string => user.id ?? user.pseudonym ?? '—'
