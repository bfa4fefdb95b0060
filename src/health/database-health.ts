// Whether the database answers, checked on a timer rather than per probe, so /ready, load
// shedding and the DatabaseUnavailable alert share one answer and a probe storm costs no queries;
// and how its statements fare (latency window, slowest recent, connection errors).
import type { Database } from '../db/database.js'
import { statementSummary } from '../db/statement-timing.js'
import { SlidingHistogram } from './sliding-window.js'

export interface DatabaseState {
  up: boolean
  /** When up last changed (or the first check ran). */
  since: Date
  lastCheckedAt: Date | undefined
  /** Why the last failing check failed. */
  lastError: string | undefined
  /** Statements that failed for want of a connection since start. */
  connectionErrors: number
}

export interface SlowStatement { statement: string, duration_ms: number, at: string }

// "Recent" for the slowest statement shown in /status.
const RECENT_MS = 15 * 60_000

// SQLSTATE class 08 (connection exception), 57P01-57P03 (server shutting down or starting) and
// the socket errors pg raises before any SQLSTATE exists.
const CONNECTION_FAILURE = /^(08|57P0[123]$)|^(ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|ENOTFOUND|EHOSTUNREACH)$/

export function isConnectionError (error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code
  if (typeof code === 'string' && CONNECTION_FAILURE.test(code)) return true
  return error instanceof Error && /Connection terminated|connection timeout|Client has encountered a connection error/i.test(error.message)
}

export class DatabaseHealth {
  private state: DatabaseState
  private readonly db: Database
  private readonly now: () => Date
  private readonly timeoutMs: number
  private slowest: SlowStatement | undefined
  /** Statement durations in seconds, for the SlowQueries alert. */
  readonly statementSeconds: SlidingHistogram
  readonly connectionErrorWindow: SlidingHistogram

  constructor (options: { db: Database, now?: () => Date, timeoutMs?: number, horizonMs?: number }) {
    this.db = options.db
    this.now = options.now ?? (() => new Date())
    this.timeoutMs = options.timeoutMs ?? 2000
    this.state = { up: true, since: this.now(), lastCheckedAt: undefined, lastError: undefined, connectionErrors: 0 }
    const window = { horizonMs: options.horizonMs ?? 3_600_000, now: () => this.now().getTime() }
    this.statementSeconds = new SlidingHistogram(window)
    this.connectionErrorWindow = new SlidingHistogram(window)
  }

  /** Runs SELECT 1 with a time limit; resolves to whether the database answered. Never throws. */
  async check (): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined
    const timeout = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${this.timeoutMs} ms`)), this.timeoutMs)
    })
    let error: string | undefined
    try {
      await Promise.race([this.db.query('SELECT 1'), timeout])
    } catch (failure) {
      error = (failure as Error).message
    } finally {
      clearTimeout(timer)
    }
    const up = error === undefined
    const checkedAt = this.now()
    this.state = { ...this.state, up, since: up === this.state.up ? this.state.since : checkedAt, lastCheckedAt: checkedAt, lastError: error }
    return up
  }

  recordStatement (sql: string, ms: number): void {
    this.statementSeconds.record(ms / 1000)
    const now = this.now()
    if (this.slowest === undefined || ms > this.slowest.duration_ms || now.getTime() - Date.parse(this.slowest.at) > RECENT_MS) {
      this.slowest = { statement: statementSummary(sql), duration_ms: Math.round(ms * 10) / 10, at: now.toISOString() }
    }
  }

  /** Counts the failure if it was for want of a connection; true if so. */
  recordFailure (error: unknown): boolean {
    if (!isConnectionError(error)) return false
    this.state.connectionErrors++
    this.connectionErrorWindow.record()
    return true
  }

  /** The slowest statement of the last 15 minutes. */
  slowestRecent (): SlowStatement | undefined {
    return this.slowest !== undefined && this.now().getTime() - Date.parse(this.slowest.at) <= RECENT_MS ? this.slowest : undefined
  }

  current (): DatabaseState { return { ...this.state } }
}
