// The bound on chat turns in flight (on server PostgreSQL turns overlap, each holding a pool
// connection). Past the bound a turn may wait a little for a slot: a burst, or a stall of the
// database or of the machine, then costs the turns behind it some milliseconds instead of a 503,
// and nothing is refused at half capacity. A standing queue is another matter (CoDel's
// insight): once a turn has been refused, for the next 100 ms turns that find no slot are refused
// at once, so that under sustained overload the answered turns do not also wait in a queue.

export interface TurnLimiterOptions {
  /** Turns run at the same time (MAX_TURNS_IN_FLIGHT). */
  limit: number
  /** How long a turn may wait for a slot (MAX_REQUEST_WAIT_MS); 0: refused at once. */
  maxWaitMs: number
  /** The error a refused turn is rejected with (the plugin's 503 problem, counted). */
  refuse: () => Error
  now?: () => number
}

interface Waiter { admit: () => void, timer: NodeJS.Timeout }

// CoDel's interval: how long after a refusal the queue stays closed.
const OVERLOAD_MS = 100

export class TurnLimiter {
  readonly limit: number
  private readonly options: TurnLimiterOptions
  private readonly now: () => number
  private running = 0
  private readonly waiting: Waiter[] = []
  private lastRefusal = -Infinity

  constructor (options: TurnLimiterOptions) {
    this.options = options
    this.limit = options.limit
    this.now = options.now ?? (() => performance.now())
  }

  inFlight (): number {
    return this.running
  }

  queued (): number {
    return this.waiting.length
  }

  async run<T> (turn: () => Promise<T>): Promise<T> {
    if (this.running < this.limit) this.running++
    else await this.slot()
    try {
      return await turn()
    } finally {
      // A finished turn hands its slot straight to the longest waiting one.
      const next = this.waiting.shift()
      if (next === undefined) this.running--
      else next.admit()
    }
  }

  private async slot (): Promise<void> {
    if (this.options.maxWaitMs <= 0 || this.now() - this.lastRefusal < OVERLOAD_MS) throw this.refused()
    await new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        admit: () => { clearTimeout(waiter.timer); resolve() },
        timer: setTimeout(() => {
          this.waiting.splice(this.waiting.indexOf(waiter), 1)
          reject(this.refused())
        }, this.options.maxWaitMs)
      }
      this.waiting.push(waiter)
    })
  }

  private refused (): Error {
    this.lastRefusal = this.now()
    return this.options.refuse()
  }
}
