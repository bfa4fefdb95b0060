// Under load the bot answers every turn it can within TURN_LATENCY_GOAL_MS and refuses, at once and
// with 503 and Retry-After, only what it could not answer in time (src/health/turn-admission.ts):
// past capacity most requests are refusals, so a turn is refused at the door, before its body is
// read and parsed, whenever the admission already knows it would refuse it.
// The process itself is guarded against event-loop delay (measured from ready: the start-up's own
// work is no load) and, by @fastify/under-pressure, memory; a route that uses the database is
// refused while the database does not answer. /ready reads the same states, so that when it says
// ready, requests are served. Probes and /status are never refused, so an orchestrator can tell
// "busy" from "dead" and an operator can see why.
import fp from 'fastify-plugin'
import underPressure, {
  TYPE_EVENT_LOOP_DELAY, TYPE_EVENT_LOOP_UTILIZATION, TYPE_HEAP_USED_BYTES, TYPE_RSS_BYTES
} from '@fastify/under-pressure'
import { ProblemError } from '../src/errors.js'
import { databaseUnavailable } from '../src/health/database-health.js'
import { EventLoopDelay } from '../src/health/event-loop-delay.js'
import { SlidingHistogram } from '../src/health/sliding-window.js'
import { TurnAdmission } from '../src/health/turn-admission.js'
import { isProbe } from '../src/health/probe-routes.js'
import { InFlightRequests } from '../src/http/in-flight-requests.js'
import { problemOf, type Problem } from '../src/http/problem.js'
import { SHED_REASONS, type ShedReason } from '../src/telemetry/metrics.js'
import { MAX_TURNS_A_WRITE } from '../src/sessions/turn-writes.js'

/** The admission of chat turns (its run() throws the 503 problem), and the count of refusals. */
export interface TurnAdmissionView extends Pick<TurnAdmission, 'run' | 'inFlight' | 'queued' | 'predictedMs'> {
  /** Turns run at the same time. */
  readonly limit: number
  /** Requests refused for any reason, for the QueueBacklog alert. */
  readonly shed: SlidingHistogram
  /** Requests refused in the last windowMs (at most SHED_BY_REASON_HORIZON_MS), by reason, for /status. */
  shedByReason: (windowMs: number) => Record<ShedReason, number>
}

declare module 'fastify' {
  interface FastifyInstance {
    turnAdmission: TurnAdmissionView
    /** True once the app has begun to close (for /ready, and to refuse what still arrives). */
    shuttingDown: () => boolean
    /** Why the process refuses requests now (event-loop delay, memory), for /ready; undefined while it serves. */
    overload: () => ShedReason | undefined
  }
  interface FastifyContextConfig {
    /** The route reads or writes the database: while it does not answer, refused with 503 at once. */
    usesDatabase?: boolean
    /**
     * The route runs a chat turn through app.turnAdmission: refused with 503 before its body is
     * read while the admission would refuse a turn arriving now.
     */
    chatTurn?: boolean
  }
}

const REASONS: Record<string, ShedReason> = {
  [TYPE_EVENT_LOOP_DELAY]: 'event_loop_delay',
  [TYPE_EVENT_LOOP_UTILIZATION]: 'event_loop_utilization',
  [TYPE_HEAP_USED_BYTES]: 'heap_used',
  [TYPE_RSS_BYTES]: 'rss'
}
const DETAILS: Record<Exclude<ShedReason, 'database'>, string> = {
  latency_goal: 'The bot is answering as many turns as it can, and this one could not have been answered ' +
    'within TURN_LATENCY_GOAL_MS; retry after the given seconds.',
  event_loop_delay:
    'The server is overloaded (event-loop delay over MAX_EVENT_LOOP_DELAY_MS); retry after the given seconds.',
  event_loop_utilization: 'The server is overloaded (event-loop utilization over MAX_EVENT_LOOP_UTILIZATION); ' +
    'retry after the given seconds.',
  heap_used: 'The server is short of memory (heap over MAX_HEAP_USED_BYTES); retry after the given seconds.',
  rss: 'The server is short of memory (RSS over MAX_RSS_BYTES); retry after the given seconds.'
}

// Probes, and /status, which an operator needs most when the bot is overloaded.
const exempt = (url: string, route: string | undefined): boolean => isProbe(url) || route === '/status'

// On PGlite turns do not overlap: one at a time keeps the line, and its wait, visible to the
// admission. On server PostgreSQL a turn holds no connection of its own: turns in flight read
// their sessions together and are written together, up to MAX_TURNS_A_WRITE a statement
// (src/sessions), so the more are in flight, the fewer statements each costs. As many as one
// write holds answered 1.28 times as many turns at 50 clients as the pool's 10, at three quarters
// of the CPU each; past capacity, more answers and later refusals. 48 answered more still, and
// refused a quarter to half a second late (bench/README.md).
const PGLITE_CONCURRENCY = 1
const POSTGRES_CONCURRENCY = MAX_TURNS_A_WRITE

/** How far back /status's refusals by reason reach. */
const SHED_BY_REASON_HORIZON_MS = 5 * 60_000

export default fp(async function loadSheddingPlugin (app) {
  const config = app.config
  const retryAfterSeconds = config.SHED_RETRY_AFTER
  const now = (): number => app.clock().getTime()
  const shed = new SlidingHistogram({ horizonMs: 3_600_000, now })
  const shedBy = new Map(SHED_REASONS.map(reason =>
    [reason, new SlidingHistogram({ horizonMs: SHED_BY_REASON_HORIZON_MS, now })]))
  const count = (reason: ShedReason): void => {
    app.metrics.shedRequests.add(1, { reason })
    shed.record()
    shedBy.get(reason)!.record()
  }
  const refusal = (reason: ShedReason): ProblemError => {
    if (reason === 'database') return databaseUnavailable(retryAfterSeconds)
    return new ProblemError({
      status: 503,
      type: 'overloaded',
      title: 'Service Unavailable',
      detail: DETAILS[reason],
      extensions: { reason, retry_after_seconds: retryAfterSeconds },
      retryAfterSeconds,
      stack: false
    })
  }
  const refuse = (reason: ShedReason): ProblemError => {
    count(reason)
    return refusal(reason)
  }

  const eventLoopDelay = new EventLoopDelay()
  app.addHook('onReady', async () => { if (config.MAX_EVENT_LOOP_DELAY_MS > 0) eventLoopDelay.start() })
  app.addHook('onClose', async () => { eventLoopDelay.stop() })
  const delayed = (): boolean =>
    config.MAX_EVENT_LOOP_DELAY_MS > 0 && eventLoopDelay.current() > config.MAX_EVENT_LOOP_DELAY_MS
  app.addHook('onRequest', async request => {
    if (delayed() && !exempt(request.url, request.routeOptions.url)) throw refuse('event_loop_delay')
  })

  await app.register(underPressure, {
    // Measured above, from ready on.
    maxEventLoopDelay: 0,
    maxEventLoopUtilization: config.MAX_EVENT_LOOP_UTILIZATION,
    maxHeapUsedBytes: config.MAX_HEAP_USED_BYTES,
    maxRssBytes: config.MAX_RSS_BYTES,
    pressureHandler: async (request, _reply, type) => {
      if (exempt(request.url, request.routeOptions.url)) return
      throw refuse(REASONS[type] ?? 'event_loop_delay')
    }
  })
  app.decorate('overload', () => {
    const usage = app.memoryUsage()
    if (delayed()) return 'event_loop_delay'
    if (config.MAX_HEAP_USED_BYTES > 0 && usage.heapUsed > config.MAX_HEAP_USED_BYTES) return 'heap_used'
    if (config.MAX_RSS_BYTES > 0 && usage.rssBytes > config.MAX_RSS_BYTES) return 'rss'
    const maxUtilization = config.MAX_EVENT_LOOP_UTILIZATION
    if (maxUtilization > 0 && usage.eventLoopUtilized > maxUtilization) return 'event_loop_utilization'
    return undefined
  })

  // Refused before its body is read, by the state /ready reports: when /ready says ready, it is served.
  app.addHook('onRequest', async request => {
    if (request.routeOptions.config.usesDatabase === true && !app.databaseHealth.current().up) throw refuse('database')
  })

  // Shutting down: the requests in flight are answered, on whichever socket they came, before the
  // app closes what they use (src/http/in-flight-requests.ts); a request that still arrives, on an
  // open connection or a new one, is refused, and its connection closed, so that the shutdown is
  // not held; the probes answer for themselves.
  let closing = false
  const inFlight = new InFlightRequests()
  app.decorate('shuttingDown', () => closing)
  app.addHook('preClose', async () => {
    closing = true
    await inFlight.drain()
  })
  app.addHook('onRequest', async (request, reply) => {
    if (!closing) {
      inFlight.add(reply.raw)
      return
    }
    reply.header('connection', 'close')
    if (isProbe(request.url)) return
    throw new ProblemError({
      status: 503,
      type: 'shutting-down',
      title: 'Service Unavailable',
      detail: 'This instance is shutting down; retry after the given seconds.',
      extensions: { reason: 'shutting_down', retry_after_seconds: retryAfterSeconds },
      retryAfterSeconds
    })
  })

  const admission = new TurnAdmission({
    concurrency: config.MAX_TURNS_IN_FLIGHT > 0
      ? config.MAX_TURNS_IN_FLIGHT
      : app.db.engine === 'pglite' ? PGLITE_CONCURRENCY : POSTGRES_CONCURRENCY,
    latencyGoalMs: config.TURN_LATENCY_GOAL_MS,
    refuse: () => refuse('latency_goal')
  })
  // The turn's door. Past capacity, reading, parsing and validating the bodies of turns that would
  // be refused took the CPU the admitted ones needed, and delayed the refusals themselves: a turn
  // the admission would refuse is refused as it arrives, by the refusal door in front of Fastify
  // (plugins/refusal-door.ts), or, called another way (app.inject, a query string), by the hook.
  // Node.js reads and drops the body no one read, so the connection is kept.
  // The problems are made once: the door sends each a thousand times a second past capacity.
  const overloaded = problemOf(refusal('latency_goal'))
  const databaseDown = problemOf(refusal('database'))
  const turnRefusal = (): Problem | undefined => {
    if (closing) return undefined
    if (!app.databaseHealth.current().up) {
      count('database')
      return databaseDown
    }
    if (!admission.refusesNow()) return undefined
    count('latency_goal')
    return overloaded
  }
  app.addHook('onRoute', route => {
    if (route.config?.chatTurn !== true) return
    for (const method of [route.method].flat()) app.refusalDoor.guard(method, route.url, turnRefusal)
  })
  app.addHook('onRequest', async request => {
    if (request.routeOptions.config.chatTurn === true && admission.refusesNow()) throw refuse('latency_goal')
  })
  app.decorate('turnAdmission', {
    // A turn whose client has gone is still answered and stored: a shutdown waits for it too.
    run: async turn => await inFlight.track(admission.run(turn)),
    inFlight: () => admission.inFlight(),
    queued: () => admission.queued(),
    predictedMs: () => admission.predictedMs(),
    limit: admission.concurrency,
    shed,
    shedByReason: windowMs => Object.fromEntries([...shedBy].map(([reason, window]) =>
      [reason, window.count(windowMs)])) as Record<ShedReason, number>
  } satisfies TurnAdmissionView)

  const meter = app.metricsMeter
  const inFlightGauge = meter.createObservableGauge('chatbot_turns_in_flight', {
    description: 'Chat turns being answered now'
  })
  const limitGauge = meter.createObservableGauge('chatbot_turns_in_flight_limit', {
    description: 'Chat turns answered at the same time; more wait in line'
  })
  const queuedGauge = meter.createObservableGauge('chatbot_turns_queued', {
    description: 'Chat turns waiting in line for one of those in flight to end'
  })
  const gauges = [inFlightGauge, limitGauge, queuedGauge]
  const observe = (result: { observe: (gauge: typeof inFlightGauge, value: number) => void }) => {
    result.observe(inFlightGauge, admission.inFlight())
    result.observe(limitGauge, admission.concurrency)
    result.observe(queuedGauge, admission.queued())
  }
  meter.addBatchObservableCallback(observe, gauges)
  app.addHook('onClose', async () => { meter.removeBatchObservableCallback(observe, gauges) })
}, { name: 'load-shedding', dependencies: ['config', 'metrics', 'database', 'error-handler', 'refusal-door'] })
