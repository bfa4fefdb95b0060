// The event-loop delay that load shedding judges: the mean delay over each second, as
// @fastify/under-pressure measures it, but from when the app is ready. under-pressure measures from
// its registration, so its first sample after a start held the start-up's own work (the search
// index loaded, every route's schemas compiled at ready), which no request caused: for a second or
// so after each start every request was refused as overloaded while /ready said ready.
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks'

// under-pressure's: delays are sampled every 10 ms, and that much of each is the sampling itself.
const RESOLUTION_MS = 10

export class EventLoopDelay {
  private histogram: IntervalHistogram | undefined
  private timer: NodeJS.Timeout | undefined
  private latestMs = 0

  /** Starts measuring now; until the first sample, the delay is 0. */
  start (sampleIntervalMs = 1000): void {
    this.stop()
    this.histogram = monitorEventLoopDelay({ resolution: RESOLUTION_MS })
    this.histogram.enable()
    this.timer = setInterval(() => { this.sample() }, sampleIntervalMs).unref()
  }

  /** The mean delay of the last sample interval, in ms. */
  current (): number {
    return this.latestMs
  }

  stop (): void {
    clearInterval(this.timer)
    this.histogram?.disable()
    this.histogram = undefined
    this.latestMs = 0
  }

  private sample (): void {
    const mean = this.histogram!.mean / 1e6
    // No delay recorded in a whole interval: the loop never got round to the sampling timer.
    this.latestMs = Number.isNaN(mean) ? Infinity : Math.max(0, mean - RESOLUTION_MS)
    this.histogram!.reset()
  }
}
