// "Is the bot healthy?" for the command line: the server's own GET /status when it answers, else
// what the log files tell: when it last started and stopped, the alerts left firing, and the
// recent errors, slow statements and shed requests.
import { UNLOGGED_REQUESTS } from '../telemetry/unserved-sampler.js'
import { emptyStats, scanLogs, type ScanStats } from './log-scan.js'

export interface LogHealth {
  source: 'logs'
  last_start: { time: string, version: unknown } | undefined
  last_shutdown: string | undefined
  /** Started after its last shutdown (or never shut down): it should be running, or it crashed. */
  running_or_crashed: boolean
  /** Alerts whose last notification in the logs was "firing". */
  alerts_firing: Array<{ alert: string, severity: string, since: string }>
  last_hour: { errors: number, slow_statements: number, shed_requests: number, requests: number }
  last_error: { time: string, msg: string } | undefined
  stats: ScanStats
}

export type HealthReport = { source: 'status', url: string, status: Record<string, unknown> } | LogHealth

const HOUR_MS = 3_600_000
const MESSAGES = ['parley started', 'shut down', 'request completed', UNLOGGED_REQUESTS, 'slow statement']
const INTERESTING = new RegExp(`"msg":"(${MESSAGES.join('|')})"|"module":"alerts"|^\\{"level":"(error|fatal)"`)

/** The last day of logs, read for the signs of health. */
export async function healthFromLogs (dir: string, now = new Date()): Promise<LogHealth> {
  const stats = emptyStats()
  const hourAgo = new Date(now.getTime() - HOUR_MS).toISOString()
  const alerts = new Map<string, { severity: string, since: string, firing: boolean }>()
  const report: LogHealth = {
    source: 'logs',
    last_start: undefined,
    last_shutdown: undefined,
    running_or_crashed: false,
    alerts_firing: [],
    last_hour: { errors: 0, slow_statements: 0, shed_requests: 0, requests: 0 },
    last_error: undefined,
    stats
  }
  const lastDay = { from: new Date(now.getTime() - 24 * HOUR_MS), to: now }
  const wanted = (line: string): boolean => INTERESTING.test(line)
  const entries = scanLogs({ dir, families: ['chatbot'], period: lastDay, wanted }, stats)
  for await (const entry of entries) {
    const recent = entry.time >= hourAgo
    if (entry.msg === 'parley started') report.last_start = { time: entry.time, version: entry.version }
    else if (entry.msg === 'shut down') report.last_shutdown = entry.time
    else if (entry.msg === 'request completed' || entry.msg === UNLOGGED_REQUESTS) {
      // A second's unserved requests beyond those logged one by one are counted in one line.
      const requests = typeof entry.unlogged === 'number' ? entry.unlogged : 1
      if (recent) report.last_hour.requests += requests
      if (recent && entry.status === 503) report.last_hour.shed_requests += requests
    } else if (entry.msg === 'slow statement') {
      if (recent) report.last_hour.slow_statements++
    } else if (entry.module === 'alerts' && entry.fn === 'notify' && typeof entry.alert === 'string') {
      const firing = entry.status === 'firing'
      const known = alerts.get(entry.alert)
      alerts.set(entry.alert, {
        severity: String(entry.severity),
        since: firing && known?.firing === true ? known.since : String(entry.since ?? entry.time),
        firing
      })
    }
    if (entry.level === 'error' || entry.level === 'fatal') {
      if (recent) report.last_hour.errors++
      report.last_error = { time: entry.time, msg: entry.msg }
    }
  }
  report.running_or_crashed = report.last_start !== undefined &&
    (report.last_shutdown === undefined || report.last_shutdown < report.last_start.time)
  report.alerts_firing = [...alerts]
    .filter(([, state]) => state.firing)
    .map(([alert, { severity, since }]) => ({ alert, severity, since }))
  return report
}

const LISTENING = /^Server listening at (https?:\/\/\S+)$/

/**
 * Where the server that last started, by the last day of logs, listens: its first address (Fastify
 * names each it listens on before "parley started"). A server started with PORT=3001 in its own
 * shell is found there, where the PORT of the shell running analyze says nothing.
 */
export async function lastListeningUrl (dir: string, now = new Date()): Promise<string | undefined> {
  let listening: string | undefined
  let started: string | undefined
  const wanted = (line: string): boolean =>
    line.includes('"msg":"Server listening at ') || line.includes('"msg":"parley started"')
  const lastDay = { from: new Date(now.getTime() - 24 * HOUR_MS), to: now }
  for await (const entry of scanLogs({ dir, families: ['chatbot'], period: lastDay, wanted }, emptyStats())) {
    const address = LISTENING.exec(entry.msg)?.[1]
    if (address !== undefined) listening ??= address
    else if (entry.msg === 'parley started' && listening !== undefined) {
      started = listening
      listening = undefined
    }
  }
  return started
}

/**
 * GET /status with the key; undefined when the server does not answer (or the key is refused, said
 * in `refused`).
 */
export async function healthFromServer (
  url: string, key: string | undefined
): Promise<{ status?: Record<string, unknown>, refused?: string }> {
  let response: Response
  try {
    response = await fetch(new URL('/status', url), {
      headers: key === undefined ? {} : { authorization: `Bearer ${key}` },
      signal: AbortSignal.timeout(3000)
    })
  } catch {
    return {}
  }
  if (response.ok) return { status: await response.json() as Record<string, unknown> }
  const hint = response.status === 401 || response.status === 403
    ? ' (set PARLEY_API_KEY to an admin or analyst key)'
    : ''
  return { refused: `${url} answered ${response.status} to GET /status${hint}` }
}
