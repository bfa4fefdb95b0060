// Which chat turns to answer when more arrive than the database can take at once. A turn waits
// in line while it can still be answered within the latency goal, and is refused at once, when
// it arrives, if it cannot: a refusal costs the caller milliseconds and the server almost
// nothing, while a turn answered after the caller gave up costs both. N clients each waiting for
// their answer are never refused: their line is at most N long, and it drains at the service rate.
//
// The prediction is the line's length times the measured time between two completions while the
// gate was busy (the service rate seen from outside, whatever overlaps inside), plus the turn's own
// duration, scaled by how far past their predictions the turns that waited have taken (their 99th
// percentile): a mean alone let half the turns at the goal's edge be answered late. Measured, not
// configured: it follows the database, the machine and the mix of turns.
//
// Past capacity the line is kept short. A turn refused for the goal means turns arrive faster than
// they are answered: the line would stand at the goal for as long as that lasts, every answer a
// second late and a second's worth of requests held in memory, for no more answers (those are set
// by the service rate). So once turns have been refused for SHORT_LINE_AFTER of the goal, a turn is
// let in only while predicted within SHORT_LINE_SHARE of it (CoDel's standing queue: a line that
// outlasts an interval is not a burst), for SHORT_LINE_HOLD of the goal. A burst still gets the
// whole goal: one sent at once reaches the server over a few hundred milliseconds, and the line it
// leaves drains. So do N clients that each wait for their answer: their line never grows past N.
//
// The short line is held for a time, not for as long as it refuses: a turn refused at the short
// line cannot tell new demand from a client that retries at once, as load generators do. Held for
// as long as it refused, 50 such clients on 2 cores, whose line stood between a quarter of the goal
// and the goal (400 ms), were refused 97 % of their turns for as long as they ran, once a stall
// had started it.
// When the hold ends, the line may grow to the goal again; if it is refused for the goal within
// as long again, the overload went on, and the line is kept short at once, for twice as long (up
// to SHORT_LINE_MAX_HOLD), as a circuit breaker backs off its probes. The line emptying ends it.

import { addTurnTime } from '../logging/log-context.js'

export interface TurnAdmissionOptions {
  /** Turns run at the same time (plugins/load-shedding.ts picks it for each engine). */
  concurrency: number
  /** The latency a chat user accepts (TURN_LATENCY_GOAL_MS): no turn is admitted that is predicted to take longer. */
  latencyGoalMs: number
  /** The error a refused turn is rejected with (the plugin's 503 problem, counted). */
  refuse: () => Error
  now?: () => number
  /** Completions not measured at the start of the process (WARM_UP_TURNS unless given). */
  warmUpTurns?: number
}

interface Waiter { admit: () => void, refuse: () => void, timer?: NodeJS.Timeout }

/**
 * Runs work that waits on another service (a language model writing the answer) with the turn's
 * slot handed to the next turn meanwhile; the turn then takes the first slot free, never refused.
 */
export type Outside = <U>(work: () => Promise<U>) => Promise<U>

// The moving averages follow about the last 50 turns: a change of load shows within a fraction of
// a second, one slow turn does not swing them. Until 50 are seen they are plain means, so that the
// first turns of a process (connections opened, code not yet compiled) do not weigh for long.
// The time between completions is averaged over HORIZON of them for each turn in flight: with 32
// in flight (PostgreSQL), 50 completions span less than two turns of each slot, and a database
// server commits them in bunches. Over 50, the mean swung twofold from one tenth of a second to
// the next, the overrun (below) rose to the stall factor to cover it, and lines the goal allowed
// were cut at half of it: 14 to 17 % of the turns refused at 1× capacity, whose answers' p99 was
// 0.52 to 0.58 s (bench:load; DEVELOPING.md gives the price). With one turn in flight (PGlite),
// each completion is a whole turn, and 50 suffice.
const HORIZON = 50

const STALL_FACTOR = 2

// The share of the goal a line may reach while turns arrive faster than they are answered: a
// quarter of a second of turns at the default goal, hundreds of them, enough that the line never
// runs dry between arrivals, while those answered wait a quarter of what they did.
export const SHORT_LINE_SHARE = 0.25
// How long turns are refused, as a share of the goal, before the line is kept short: as long as a
// burst the goal can absorb takes to arrive. 300 turns sent at once reached the embedded database's
// server over 700 ms on 2 cores (each turn holds its thread a few ms): after half the goal, the
// short line refused up to half of such a burst.
export const SHORT_LINE_AFTER = 1
// How long the line is first kept short, as a share of the goal, and at most after the overload
// has outlasted one hold after another.
export const SHORT_LINE_HOLD = 2
export const SHORT_LINE_MAX_HOLD = 32

// The overrun is the 99th percentile of actual / predicted over the last OVERRUN_SAMPLES turns that
// waited in line, recomputed every OVERRUN_REFRESH of them; it counts from OVERRUN_MIN_SAMPLES on.
// Waits predicted under a fifth of the line's limit are not sampled: a line that short is never
// refused, and its ratios (a millisecond against two) say nothing of a line at the limit. It is at
// most the stall factor (a turn later than that waited on a stalled database, which its deadline
// handles), and forgotten OVERRUN_MEMORY_MS after the last long line: it describes the overload at
// hand, and one stall must not shorten the lines of the next hour.
const OVERRUN_SAMPLES = 500
const OVERRUN_REFRESH = 25
const OVERRUN_MIN_SAMPLES = 100
const OVERRUN_MIN_SHARE_OF_LIMIT = 0.2
const OVERRUN_MEMORY_MS = 5 * 60_000

// A process's first turns are slow (connections opened, sessions created, code compiled) and would
// predict waits that never come: 50 clients arriving together at a cold server were refused. So the
// first WARM_UP_TURNS completions are not measured, and a line is refused only on a service rate
// measured over CONFIDENT_SAMPLES turns after them; meanwhile only the stall deadline refuses.
const WARM_UP_TURNS = 50
const CONFIDENT_SAMPLES = 20

class MovingAverage {
  samples = 0
  value: number | undefined
  constructor (private readonly horizon: number) {}
  add (sample: number): void {
    this.samples = Math.min(this.horizon, this.samples + 1)
    this.value = this.value === undefined ? sample : this.value + (sample - this.value) / this.samples
  }
}

export class TurnAdmission {
  readonly concurrency: number
  readonly latencyGoalMs: number
  private readonly refuse: () => Error
  private readonly now: () => number
  private running = 0
  private readonly waiting: Waiter[] = []
  /** Time between completions while turns were waiting (1 / service rate), ms. */
  private readonly drainMs: MovingAverage
  /** Time from a turn's start to its end, ms. */
  private readonly durationMs = new MovingAverage(HORIZON)
  private lastCompletion = 0
  private warmUpLeft: number
  private busySinceLastCompletion = false
  /** Actual / predicted time of recent turns that waited in line (a ring), and its 99th percentile, at least 1. */
  private readonly overruns: number[] = []
  private overrunsAdded = 0
  private overrun = 1
  private lastOverrunAt = 0
  /** When the refusals for the goal going on began, and the latest (SHORT_LINE_AFTER without one ends them). */
  private refusingSince = -Infinity
  private lastRefusalAt = -Infinity
  /** Until when the line is kept short, and for how long it was. */
  private shortLineUntil = -Infinity
  private shortLineHoldMs = 0

  constructor (options: TurnAdmissionOptions) {
    this.concurrency = options.concurrency
    this.drainMs = new MovingAverage(HORIZON * options.concurrency)
    this.latencyGoalMs = options.latencyGoalMs
    this.refuse = options.refuse
    this.now = options.now ?? (() => performance.now())
    this.warmUpLeft = options.warmUpTurns ?? WARM_UP_TURNS
  }

  inFlight (): number { return this.running }
  queued (): number { return this.waiting.length }

  /**
   * How long a turn arriving now is predicted to take, waiting included, in ms; undefined while the
   * gate has not been busy long enough to know its service rate (every turn is then let in, and
   * the deadline refuses what waits far too long).
   */
  predictedMs (): number | undefined {
    const measured = this.measuredMs()
    return measured === undefined ? undefined : measured * (this.overrunForgotten() ? 1 : this.overrun)
  }

  private overrunForgotten (): boolean {
    return this.now() - this.lastOverrunAt > OVERRUN_MEMORY_MS
  }

  /** The prediction from the line and the rates alone, before the overrun. */
  private measuredMs (): number | undefined {
    const durationMs = this.durationMs.value ?? 0
    if (this.running < this.concurrency) return durationMs
    if (this.drainMs.samples < CONFIDENT_SAMPLES) return undefined
    return (this.waiting.length + 1) * this.drainMs.value! + durationMs
  }

  /** How far past its prediction a turn that waited took: the line's rate moved while it waited. */
  private sampleOverrun (measuredMs: number | undefined, tookMs: number): void {
    if (measuredMs === undefined) return
    if (this.overrunForgotten()) {
      this.overruns.length = 0
      this.overrunsAdded = 0
      this.overrun = 1
    }
    this.overruns[this.overrunsAdded++ % OVERRUN_SAMPLES] = tookMs / measuredMs
    this.lastOverrunAt = this.now()
    if (this.overrunsAdded < OVERRUN_MIN_SAMPLES || this.overrunsAdded % OVERRUN_REFRESH !== 0) return
    const sorted = this.overruns.toSorted((a, b) => a - b)
    this.overrun = Math.min(STALL_FACTOR, Math.max(1, sorted[Math.floor(0.99 * (sorted.length - 1))]!))
  }

  /** How long a turn let in now may be predicted to take: the goal, or a share of it past capacity. */
  lineLimitMs (): number {
    return this.now() < this.shortLineUntil ? SHORT_LINE_SHARE * this.latencyGoalMs : this.latencyGoalMs
  }

  private shortLineAfterMs (): number {
    return SHORT_LINE_AFTER * this.latencyGoalMs
  }

  /**
   * Whether run() would refuse a turn arriving now, reserving nothing. Asked before the request's
   * body is read: most refusals past capacity then cost no parsing, validation or database work,
   * and come before the server's other work on that request. run() decides again, as turns let in
   * meanwhile may have lengthened the line. A refusal said here is one made: the caller refuses the
   * turn, and refusals for the goal that go on keep the line short.
   */
  refusesNow (): boolean {
    if (this.running < this.concurrency) return false
    const predictedMs = this.predictedMs() ?? 0
    if (predictedMs > this.latencyGoalMs) {
      this.refusedForTheGoal()
      return true
    }
    return predictedMs > this.lineLimitMs()
  }

  private refusedForTheGoal (): void {
    const now = this.now()
    if (now - this.lastRefusalAt >= this.shortLineAfterMs()) this.refusingSince = now
    this.lastRefusalAt = now
    const shortLineAgo = now - this.shortLineUntil
    if (shortLineAgo < 0) return
    // Within a hold of the last short line: the overload outlasted it.
    if (shortLineAgo < this.shortLineHoldMs) {
      this.keepLineShort(now, Math.min(2 * this.shortLineHoldMs, SHORT_LINE_MAX_HOLD * this.latencyGoalMs))
    } else if (now - this.refusingSince >= this.shortLineAfterMs()) {
      this.keepLineShort(now, SHORT_LINE_HOLD * this.latencyGoalMs)
    }
  }

  private keepLineShort (now: number, holdMs: number): void {
    this.shortLineHoldMs = holdMs
    this.shortLineUntil = now + holdMs
  }

  async run<T> (turn: (outside: Outside) => Promise<T>): Promise<T> {
    const arrived = this.now()
    let sampledMs: number | undefined
    if (this.running < this.concurrency) {
      this.running++
    } else {
      if (this.refusesNow()) throw this.refuse()
      const measured = this.measuredMs()
      if (measured !== undefined && measured >= OVERRUN_MIN_SHARE_OF_LIMIT * this.lineLimitMs()) sampledMs = measured
      await this.slot()
    }
    // PGlite runs a whole turn without yielding to the event loop: starting each turn in a task of
    // its own lets the requests that arrived meanwhile be read, and counted in line, in between.
    await new Promise(resolve => setImmediate(resolve))
    let started = this.now()
    addTurnTime('admission_ms', started - arrived)
    // What was predicted is the turn's first part inside the gate, waiting included.
    let firstPartEnded = false
    const partEnded = (): void => {
      if (!firstPartEnded) this.sampleOverrun(sampledMs, this.now() - arrived)
      firstPartEnded = true
      this.completed(started)
    }
    // Each part of a turn inside the gate counts as a turn of its own for the measurements: the
    // gate's service rate is that of the database, not of the model.
    const outside: Outside = async work => {
      partEnded()
      const left = this.now()
      try {
        return await work()
      } finally {
        const back = this.now()
        addTurnTime('model_ms', back - left)
        await this.reenter()
        started = this.now()
        addTurnTime('admission_ms', started - back)
      }
    }
    try {
      return await turn(outside)
    } finally {
      partEnded()
    }
  }

  /** A turn back from outside: the first free slot, ahead of every turn in line, with no deadline. */
  private async reenter (): Promise<void> {
    if (this.running < this.concurrency) {
      this.running++
      return
    }
    await new Promise<void>(resolve => { this.waiting.unshift({ admit: resolve, refuse: () => {} }) })
  }

  private completed (started: number): void {
    const now = this.now()
    if (this.warmUpLeft > 0) {
      this.warmUpLeft--
    } else {
      this.durationMs.add(now - started)
      if (this.busySinceLastCompletion) this.drainMs.add(now - this.lastCompletion)
    }
    this.lastCompletion = now
    // A finished turn hands its slot straight to the longest waiting one.
    const next = this.waiting.shift()
    this.busySinceLastCompletion = next !== undefined
    if (next !== undefined) {
      next.admit()
      return
    }
    this.running--
    // A free slot: the line emptied, whatever came before is over.
    this.lastRefusalAt = -Infinity
    this.shortLineUntil = -Infinity
  }

  /**
   * Waits for a slot. A turn in line is answered even if the prediction was somewhat short (an
   * answer a little late is better than a refusal after waiting); only one still waiting at twice
   * the goal, when the database has stalled, is refused then.
   */
  private async slot (): Promise<void> {
    const deadline = STALL_FACTOR * this.latencyGoalMs
    await new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        admit: () => { clearTimeout(waiter.timer); resolve() },
        refuse: () => reject(this.refuse()),
        timer: setTimeout(() => {
          this.waiting.splice(this.waiting.indexOf(waiter), 1)
          waiter.refuse()
        }, deadline)
      }
      this.waiting.push(waiter)
    })
  }
}
