// A request the server did not serve (a client error, 4xx, or a refusal, 503) costs a millisecond,
// and a client looping on its 429s or 400s sends thousands a second. One `request completed` line
// each wrote 918 bytes a request to the log file and stdout, 5 MB a second, and one server span each
// sent 3.7 MB a second to the collector: enough to fill a disk in hours and to bury what people look
// for. So each route and status gets its first few lines and spans each second, as zap's sampler
// keeps the first lines of each second; the lines of the rest are counted into one when the second
// ends (the reports add it up), and their spans are let go (the request metrics count them all).
// src/audit/denial-audit.ts does the same for the audit trail's refused credentials.

/** UNSERVED_PER_SECOND's default: room for a few clients' mistakes, not for a flood. */
export const UNSERVED_PER_SECOND = 20

/** Refused rather than failed: the server declined the work (429 past a limit, 503 past capacity). */
export const REFUSED_STATUSES: ReadonlySet<number> = new Set([429, 503])

/** A client error, or a refusal: no work was done that a line per request would describe. */
export const isUnserved = (status: number): boolean => (status >= 400 && status < 500) || status === 503

/** The message of the line that counts a second's unserved requests that had no line of their own. */
export const UNLOGGED_REQUESTS = 'unserved requests not logged one by one'

export interface UnloggedRequests {
  method: string
  route: string
  status: number
  /** Requests in this second beyond the ones that had their own line. */
  unlogged: number
  /** When the second began, and when it was counted (ISO 8601). */
  since: string
  until: string
}

interface Second extends Omit<UnloggedRequests, 'since' | 'until'> {
  startedAt: number
  sampled: number
  timer: NodeJS.Timeout | undefined
}

const SECOND_MS = 1000

export class UnservedSampler {
  private readonly seconds = new Map<string, Second>()

  /** perSecond: requests of each route and status sampled a second (0: all of them). */
  constructor (
    private readonly perSecond: number,
    private readonly onUnlogged: (summary: UnloggedRequests) => void = () => {},
    private readonly now: () => number = Date.now
  ) {}

  /** Whether this unserved request is sampled (gets its line, its span); if not, it is counted. */
  admit (method: string, route: string, status: number): boolean {
    if (this.perSecond === 0) return true
    const key = `${status} ${method} ${route}`
    const now = this.now()
    let second = this.seconds.get(key)
    // A busy event loop can run the timer late: a second that is over is counted before the next.
    if (second !== undefined && now - second.startedAt >= SECOND_MS) {
      this.close(key, second)
      second = undefined
    }
    if (second === undefined) {
      second = { method, route, status, startedAt: now, sampled: 0, unlogged: 0, timer: undefined }
      this.seconds.set(key, second)
    }
    if (second.sampled < this.perSecond) {
      second.sampled++
      return true
    }
    if (second.unlogged++ === 0) {
      const open = second
      open.timer = setTimeout(() => this.close(key, open), open.startedAt + SECOND_MS - now)
      open.timer.unref()
    }
    return false
  }

  /** Counts every second not yet counted: at shutdown, so that no request goes unreported. */
  flush (): void {
    for (const [key, second] of this.seconds) this.close(key, second)
  }

  private close (key: string, second: Second): void {
    clearTimeout(second.timer)
    this.seconds.delete(key)
    const { method, route, status, startedAt, unlogged } = second
    if (unlogged > 0) {
      const since = new Date(startedAt).toISOString()
      this.onUnlogged({ method, route, status, unlogged, since, until: new Date(this.now()).toISOString() })
    }
  }
}
