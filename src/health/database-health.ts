// Whether the database answers, checked on a timer rather than per probe, so /ready, load
// shedding and the DatabaseUnavailable alert share one answer and a probe storm costs no queries;
// and how its statements fare (latency window, slowest recent, connection errors).
import type { Database } from '../db/database.js'
import { statementSummary } from '../db/statement-timing.js'
import { ProblemError } from '../errors.js'
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
// pg's messages for a connection lost or never made, which carry no code.
const CONNECTION_FAILURE_MESSAGE =
  /Connection terminated|connection timeout|timeout exceeded when trying to connect|Client has encountered a connection error/i

export function isConnectionError (error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code
  if (typeof code === 'string' && CONNECTION_FAILURE.test(code)) return true
  return error instanceof Error && CONNECTION_FAILURE_MESSAGE.test(error.message)
}

/**
 * The answer to a request that needs the database while it does not answer: retry later, not a
 * failure of the request.
 */
export function databaseUnavailable (retryAfterSeconds: number): ProblemError {
  return new ProblemError({
    status: 503,
    type: 'database-unavailable',
    title: 'Service Unavailable',
    detail: 'The database does not answer; nothing of this request was kept. Retry after the given seconds.',
    extensions: { reason: 'database', retry_after_seconds: retryAfterSeconds },
    retryAfterSeconds,
    stack: false
  })
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

  private readonly onChange: (state: DatabaseState) => void

  /**
   * onChange is told each time `up` changes, by a check or by a statement that failed for want of a
   * connection.
   */
  constructor (options: {
    db: Database
    now?: () => Date
    timeoutMs?: number
    horizonMs?: number
    onChange?: (state: DatabaseState) => void
  }) {
    this.db = options.db
    this.onChange = options.onChange ?? (() => {})
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
    const changed = up !== this.state.up
    this.state = {
      ...this.state,
      up,
      since: changed ? checkedAt : this.state.since,
      lastCheckedAt: checkedAt,
      lastError: error
    }
    if (changed) this.onChange(this.current())
    return up
  }

  recordStatement (sql: string, ms: number): void {
    this.statementSeconds.record(ms / 1000)
    const now = this.now()
    if (this.slowest === undefined || ms > this.slowest.duration_ms ||
      now.getTime() - Date.parse(this.slowest.at) > RECENT_MS) {
      this.slowest = {
        statement: statementSummary(sql),
        duration_ms: Math.round(ms * 10) / 10,
        at: now.toISOString()
      }
    }
  }

  /**
   * Counts the failure if it was for want of a connection, and then takes the database for down at
   * once, without waiting for the next check, so that the requests after it are refused quickly
   * instead of each waiting for a connection. True if it was such a failure.
   */
  recordFailure (error: unknown): boolean {
    if (!isConnectionError(error)) return false
    this.state.connectionErrors++
    this.connectionErrorWindow.record()
    if (this.state.up) {
      this.state = {
        ...this.state,
        up: false,
        since: this.now(),
        lastError: error instanceof Error ? error.message : String(error)
      }
      this.onChange(this.current())
    }
    return true
  }

  /** The slowest statement of the last 15 minutes. */
  slowestRecent (): SlowStatement | undefined {
    const recent = this.slowest !== undefined && this.now().getTime() - Date.parse(this.slowest.at) <= RECENT_MS
    return recent ? this.slowest : undefined
  }

  current (): DatabaseState { return { ...this.state } }
}
