// Probes and the system health report. /health (liveness) and /ready (readiness) are for
// orchestrators and load balancers: logged at debug, not traced, never shed. /status is for
// people: everything an operator asks first when "the bot is slow", in one answer.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import Type, { type Static } from 'typebox'
import { telemetry } from '../../src/telemetry/telemetry.js'
import { AlertStateSchema } from '../../src/alerts/alert-evaluator.js'
import { appliedMigrations, migrations } from '../../src/db/migrations.js'
import type { LogDestinations } from '../../src/logging/log-destinations.js'
import { packageInfo } from '../../src/project.js'
import { withProblems } from '../../src/http/schemas.js'

const Check = Type.Object({ ok: Type.Boolean(), detail: Type.String() })
const Readiness = Type.Object({
  status: Type.Enum(['ready', 'not_ready']),
  checks: Type.Object({ database: Check, migrations: Check, search_index: Check, load: Check, shutdown: Check })
})
type ReadinessReport = Static<typeof Readiness>

const SystemStatus = Type.Object({
  version: Type.String(),
  uptime_seconds: Type.Number(),
  database: Type.Object({
    engine: Type.String(),
    reachable: Type.Boolean(),
    since: Type.String({ description: 'When reachable last changed' }),
    last_error: Type.Optional(Type.String()),
    connection_errors: Type.Integer(),
    pool: Type.Optional(Type.Object({ total: Type.Integer(), idle: Type.Integer(), waiting: Type.Integer() })),
    slowest_recent_statement: Type.Optional(Type.Object({
      statement: Type.String(),
      duration_ms: Type.Number(),
      at: Type.String()
    }))
  }),
  sessions: Type.Object({ active: Type.Optional(Type.Integer()), cap: Type.Integer() }),
  turns: Type.Object({
    in_flight: Type.Integer(),
    limit: Type.Integer({ description: 'Turns answered at the same time; more wait in line' }),
    queued: Type.Integer(),
    predicted_ms: Type.Optional(Type.Number({
      description: 'What a turn arriving now is predicted to take, waiting included; ' +
        'absent until the service rate is measured'
    })),
    latency_goal_ms: Type.Integer({ description: 'TURN_LATENCY_GOAL_MS: turns predicted to take longer are refused' }),
    shed_last_5m: Type.Integer({ description: 'Requests refused with 503 in the last 5 minutes, for any reason' }),
    shed_last_5m_by_reason: Type.Record(Type.String(), Type.Integer(), {
      description: 'The same by reason, every reason named (chatbot_shed_requests_total{reason}): latency_goal, ' +
        'a turn that could not have been answered within the goal; database; the process\'s limits'
    })
  }),
  memory: Type.Object({ rss_bytes: Type.Integer(), heap_used_bytes: Type.Integer(), limit_bytes: Type.Integer() }),
  cpu: Type.Object({ cores_used: Type.Number({ description: 'Since the previous alert evaluation; 1 = one core' }) }),
  event_loop: Type.Object({ delay_p99_ms: Type.Number(), delay_max_ms: Type.Number(), utilization: Type.Number() }),
  log_destinations: Type.Record(Type.String(), Type.Object({
    state: Type.String(),
    file: Type.Optional(Type.String()),
    since: Type.String(),
    message: Type.String()
  })),
  log_volume: Type.Optional(Type.Object({
    free_bytes: Type.Number(),
    total_bytes: Type.Number(),
    free_ratio: Type.Number()
  })),
  telemetry: Type.Object({
    enabled: Type.Boolean(),
    endpoint: Type.Optional(Type.String()),
    dropped: Type.Optional(Type.Record(Type.String(), Type.Integer()))
  }),
  turn_traces: Type.Object({
    enabled: Type.Boolean({ description: 'False with TURN_TRACE_RETENTION_DAYS=0' }),
    kept: Type.Integer({ description: 'Turns recorded since start, each with its duration and parts' }),
    queued: Type.Integer({ description: 'Waiting for their other half or to be written' }),
    held: Type.Integer({
      description: 'Turns let go under pressure whose spans and log lines are held in memory, ' +
        'to be written if rated down or opened'
    }),
    dropped: Type.Record(Type.String(), Type.Integer(), {
      description: 'Lost since start, by reason (chatbot_turn_traces_dropped_total); ' +
        'pressure: spans and log lines let go and held past the hold, the turn\'s row kept'
    })
  }),
  alerts_firing: Type.Array(AlertStateSchema)
})

const roundedMs = (ms: number | undefined): number | undefined =>
  ms === undefined ? undefined : Math.round(ms * 10) / 10

type HealthRoutesOptions = { logDestinations?: Pick<LogDestinations, 'status'> }

const healthRoutes: FastifyPluginAsyncTypebox<HealthRoutesOptions> = async function (app, options) {
  app.get('/health', {
    schema: {
      tags: ['operations'],
      summary: 'Liveness: 200 while the process can serve',
      response: { 200: Type.Object({ status: Type.Literal('ok') }) }
    }
  }, async () => ({ status: 'ok' as const }))

  app.get('/ready', {
    schema: {
      tags: ['operations'],
      summary: 'Readiness: 200 when the database answers, migrations are applied, the search index is loaded, ' +
        'the app is not overloaded and not shutting down',
      response: { 200: Readiness, 503: Readiness }
    }
  }, async (_request, reply) => {
    const answers = await app.databaseHealth.check()
    // /ready is open: it says what is wrong, not the driver's error (an address, a port); /status,
    // behind a key, has that.
    const database = {
      ok: answers,
      detail: answers ? 'answers' : 'does not answer (GET /status with a key has the error)'
    }
    let applied: number[] = []
    if (answers) applied = await appliedMigrations(app.db).catch(() => [])
    const missing = migrations
      .filter(migration => !applied.includes(migration.version))
      .map(migration => migration.version)
    const loadedAt = app.knowledgeBase.indexLoadedAt
    const overload = app.overload()
    const checks: ReadinessReport['checks'] = {
      database,
      migrations: {
        ok: answers && missing.length === 0,
        detail: !answers
          ? 'unknown: the database does not answer'
          : missing.length === 0 ? `all ${migrations.length} applied` : `not applied: ${missing.join(', ')}`
      },
      search_index: {
        ok: loadedAt !== undefined,
        detail: loadedAt === undefined
          ? 'not loaded yet'
          : `${app.searchEngine.passageCount} passages, loaded ${loadedAt.toISOString()}`
      },
      // Overloaded, the app refuses requests: ready must mean able to serve them.
      load: {
        ok: overload === undefined,
        detail: overload === undefined
          ? 'serving'
          : `refusing requests (${overload}; GET /status with a key has the figures)`
      },
      shutdown: { ok: !app.shuttingDown(), detail: app.shuttingDown() ? 'shutting down' : 'running' }
    }
    const ready = Object.values(checks).every(check => check.ok)
    if (!ready) reply.code(503).header('retry-after', '5')
    return { status: ready ? 'ready' as const : 'not_ready' as const, checks }
  })

  app.get('/status', {
    onRequest: app.requireRole('admin', 'analyst'),
    schema: {
      tags: ['operations'],
      summary: 'System health report: database, sessions, load, memory, CPU, event loop, logs, telemetry, ' +
        'firing alerts',
      security: [{ apiKey: [] }],
      response: withProblems({ 200: SystemStatus }, 401, 403)
    }
  }, async () => {
    const database = app.databaseHealth.current()
    const { resources, disk } = app.alerts.latest()
    const activeSessions = await app.sessionManager.countActive().catch(() => undefined)
    const dropped = telemetry.dropped?.()
    return {
      version: packageInfo.version,
      uptime_seconds: Math.round(process.uptime()),
      database: {
        engine: app.db.engine,
        reachable: database.up,
        since: database.since.toISOString(),
        last_error: database.lastError,
        connection_errors: database.connectionErrors,
        pool: app.db.poolStats?.(),
        slowest_recent_statement: app.databaseHealth.slowestRecent()
      },
      sessions: { active: activeSessions, cap: app.config.MAX_ACTIVE_SESSIONS },
      turns: {
        in_flight: app.turnAdmission.inFlight(),
        limit: app.turnAdmission.limit,
        queued: app.turnAdmission.queued(),
        predicted_ms: roundedMs(app.turnAdmission.predictedMs()),
        latency_goal_ms: app.config.TURN_LATENCY_GOAL_MS,
        shed_last_5m: app.turnAdmission.shed.count(5 * 60_000),
        shed_last_5m_by_reason: app.turnAdmission.shedByReason(5 * 60_000)
      },
      memory: {
        rss_bytes: resources.rssBytes,
        heap_used_bytes: resources.heapUsedBytes,
        limit_bytes: resources.memoryLimitBytes
      },
      cpu: { cores_used: Math.round(resources.cpuCoresUsed * 1000) / 1000 },
      event_loop: {
        delay_p99_ms: resources.eventLoopDelayMs.p99,
        delay_max_ms: resources.eventLoopDelayMs.max,
        utilization: Math.round(resources.eventLoopUtilization * 1000) / 1000
      },
      log_destinations: options.logDestinations?.status() ?? {},
      log_volume: disk === undefined
        ? undefined
        : {
            free_bytes: disk.freeBytes,
            total_bytes: disk.totalBytes,
            free_ratio: Math.round(disk.freeRatio * 1000) / 1000
          },
      telemetry: {
        enabled: dropped !== undefined,
        endpoint: telemetry.describe()?.endpoint as string | undefined,
        dropped
      },
      turn_traces: {
        enabled: app.turnTraces.enabled,
        kept: app.turnTraces.kept(),
        queued: app.turnTraces.queued(),
        held: app.turnTraces.heldCount(),
        dropped: app.turnTraces.dropped()
      },
      alerts_firing: app.alerts.states().filter(state => state.state === 'firing')
    }
  })
}

export default healthRoutes
