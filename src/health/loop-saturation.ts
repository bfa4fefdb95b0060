// Whether the event loop is saturated: busy through (nearly) all of the last interval. A burst
// leaves idle time between its requests; a standing queue (more offered than can be served) does
// not, which is what tells overload from a busy moment.

export interface LoopSaturation {
  /** True when the loop was busy at least `threshold` of the last interval. */
  now: () => boolean
  stop: () => void
}

export function loopSaturation ({ intervalMs = 100, threshold = 0.9 } = {}): LoopSaturation {
  let last = performance.eventLoopUtilization()
  let saturated = false
  // A busy loop runs this late, but it still measures the whole time since the last run.
  const timer = setInterval(() => {
    const current = performance.eventLoopUtilization()
    saturated = performance.eventLoopUtilization(current, last).utilization >= threshold
    last = current
  }, intervalMs).unref()
  return { now: () => saturated, stop: () => { clearInterval(timer) } }
}
