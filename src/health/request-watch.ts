// The requests the HighErrorRate and ResponseTimeDegradation alerts judge, in sliding windows,
// with one example of each (the latest failure, the slowest chat turn) so a notification can point
// at a trace instead of saying only "something is wrong".
import { SlidingHistogram, type MeasureReading, type WindowOptions } from './sliding-window.js'

export const CHAT_ROUTE = '/v1/chat'

export interface RequestExample { traceId: string | undefined, description: string, at: number }

export class RequestWatch {
  private readonly all: SlidingHistogram
  private readonly failures: SlidingHistogram
  private readonly chatSeconds: SlidingHistogram
  private readonly now: () => number
  private failure: RequestExample | undefined
  private slowest: (RequestExample & { ms: number }) | undefined
  private readonly exampleMaxAgeMs: number

  constructor (options: WindowOptions & { exampleMaxAgeMs?: number }) {
    this.all = new SlidingHistogram(options)
    this.failures = new SlidingHistogram(options)
    this.chatSeconds = new SlidingHistogram(options)
    this.now = options.now ?? Date.now
    this.exampleMaxAgeMs = options.exampleMaxAgeMs ?? 5 * 60_000
  }

  record (route: string | undefined, status: number, elapsedMs: number, traceId: string | undefined): void {
    const at = this.now()
    this.all.record()
    // A 503 is a refusal, answered on purpose with Retry-After, which other alerts judge (alert-rules.ts).
    if (status >= 500 && status !== 503) {
      this.failures.record()
      this.failure = { traceId, description: `HTTP ${status} on ${route ?? 'an unknown route'}`, at }
    }
    if (route === CHAT_ROUTE) {
      this.chatSeconds.record(elapsedMs / 1000)
      if (this.slowest === undefined || elapsedMs > this.slowest.ms || at - this.slowest.at > this.exampleMaxAgeMs) {
        this.slowest = { traceId, description: `a chat turn of ${Math.round(elapsedMs)} ms`, at, ms: elapsedMs }
      }
    }
  }

  failureRatio (windowMs: number): MeasureReading {
    const requests = this.all.count(windowMs)
    return { value: requests === 0 ? undefined : this.failures.count(windowMs) / requests, samples: requests }
  }

  chatP95 (windowMs: number): MeasureReading {
    return { value: this.chatSeconds.quantile(0.95, windowMs), samples: this.chatSeconds.count(windowMs) }
  }

  latestFailure (): RequestExample | undefined { return this.recent(this.failure) }
  slowestChat (): RequestExample | undefined { return this.recent(this.slowest) }

  private recent (example: RequestExample | undefined): RequestExample | undefined {
    return example !== undefined && this.now() - example.at <= this.exampleMaxAgeMs ? example : undefined
  }
}
