// Builds the Fastify application without listening, so tests can drive it with app.inject().
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { randomUUID } from 'node:crypto'
import type { Config } from './config.js'
import type { Database } from './db/database.js'
import type { Logger } from 'pino'
import { createLogger } from './logging/logger.js'
import { packageInfo } from './project.js'
import requestLogging from '../plugins/request-logging.js'
import traceId from '../plugins/trace-id.js'
import configPlugin from '../plugins/config.js'
import listenSockets from '../plugins/listen-sockets.js'
import refusalDoor from '../plugins/refusal-door.js'
import errorHandler from '../plugins/error-handler.js'
import validation from '../plugins/validation.js'
import openApi from '../plugins/openapi.js'
import databasePlugin from '../plugins/database.js'
import databaseMetricsPlugin from '../plugins/database-metrics.js'
import authPlugin from '../plugins/auth.js'
import knowledgeBasePlugin from '../plugins/knowledge-base.js'
import pseudonymKey from '../plugins/pseudonym-key.js'
import sessionManagerPlugin from '../plugins/session-manager.js'
import metricsPlugin from '../plugins/metrics.js'
import commandParserPlugin from '../plugins/command-parser.js'
import answerWriterPlugin from '../plugins/answer-writer.js'
import chatServicePlugin from '../plugins/chat-service.js'
import chatLimits from '../plugins/chat-limits.js'
import consoleAccess from '../plugins/console-access.js'
import securityHeaders from '../plugins/security-headers.js'
import chatRoutes from '../plugins/routes/chat.js'
import sessionRoutes from '../plugins/routes/sessions.js'
import knowledgeBaseRoutes from '../plugins/routes/knowledge-base.js'
import evaluationsRoutes from '../plugins/routes/evaluations.js'
import adminRoutes from '../plugins/routes/admin.js'
import alertRoutes from '../plugins/routes/alerts.js'
import analyticsRoutes from '../plugins/routes/analytics.js'
import healthRoutes from '../plugins/routes/health.js'
import metricsRoutes from '../plugins/routes/metrics.js'
import consoleRoutes from '../plugins/routes/console.js'
import pageRoutes from '../plugins/routes/pages.js'
import loadSheddingPlugin from '../plugins/load-shedding.js'
import alertsPlugin from '../plugins/alerts.js'
import evaluationPlugin from '../plugins/evaluation.js'
import weeklyReportPlugin from '../plugins/weekly-report.js'
import turnTracesPlugin from '../plugins/turn-traces.js'
import personalDataPlugin from '../plugins/personal-data.js'
import personalDataRoutes from '../plugins/routes/personal-data.js'
import type { LogDestinations } from './logging/log-destinations.js'

export const BODY_LIMIT = 64 * 1024

export interface AppOptions {
  config: Config
  /** The process logger (stdout unless given); tests pass one that writes to memory. */
  logger?: Logger
  /** Where audit entries are logged (see createAuditLogger); the module logger if omitted. */
  auditLog?: Logger
  /** Time source for sessions and records; tests move it forward. */
  clock?: () => Date
  /** An already open, migrated database to use instead of the configured one. */
  database?: Database
  /** The log files' states, for GET /status (the server's; none in tests that log to memory). */
  logDestinations?: Pick<LogDestinations, 'status'>
}

export async function buildApp (options: AppOptions): Promise<FastifyInstance> {
  const { config } = options
  const logger = options.logger ?? createLogger({
    level: config.LOG_LEVEL,
    service: packageInfo.name,
    version: packageInfo.version,
    env: config.NODE_ENV
  })
  const app = Fastify({
    // Typed as Fastify's base logger so plugins stay independent of the logger library.
    loggerInstance: logger as FastifyBaseLogger,
    // Slow clients: a request's headers and body must arrive within REQUEST_TIMEOUT (checked every
    // second, not Node's default 30 s); an idle keep-alive connection stays 72 s (Fastify's
    // default, above the usual load balancers' 60 s idle timeout, so they never reuse one we closed).
    requestTimeout: config.REQUEST_TIMEOUT * 1000,
    http: { headersTimeout: Math.min(config.REQUEST_TIMEOUT, 60) * 1000, connectionsCheckingInterval: 1000 },
    // request.ip is the client's, from X-Forwarded-For, only behind the proxies named here.
    trustProxy: config.TRUST_PROXY === '' ? false : config.TRUST_PROXY,
    // plugins/request-logging writes one line per request instead of Fastify's two.
    logController: new LogController({ disableRequestLogging: true, requestIdLogLabel: 'req_id' }),
    // request.log is the app's logger itself, not a child made for each request: the request's id
    // reaches every line logged while serving it from the logging context (plugins/request-logging),
    // as its session and user do, which spares a child logger, and its bindings' serialisation, per request.
    childLoggerFactory: logger => logger,
    bodyLimit: BODY_LIMIT,
    // Opening the embedded database on a new folder (initdb, then the migrations) takes about 7 s on
    // an idle 2-core machine and passed Fastify's 10 s default for one plugin on a busy one, which
    // stopped the server: a slow start is not a failed one.
    pluginTimeout: 60_000,
    // While closing, plugins/load-shedding.ts refuses requests on connections still open with a
    // problem+json 503 of ours, and /ready answers for itself (naming the shutdown); Fastify's
    // own closing 503 would answer before either, with a body of its own.
    return503OnClosing: false,
    // Every request has an id of Parley's own, which no caller can choose: two requests that sent
    // one X-Request-Id shared a req_id, and an audit entry could carry another request's. The
    // caller's id is kept beside it as client_request_id (plugins/request-logging.ts).
    requestIdHeader: false,
    genReqId: () => randomUUID()
  }).withTypeProvider<TypeBoxTypeProvider>()

  // Only JSON is accepted; a text/plain body is 415, not a string that fails validation.
  app.removeContentTypeParser('text/plain')
  // A keep-alive connection whose request is in flight when the app starts closing stayed open after
  // its response (server.close() closes only the connections idle at that moment), and held the
  // shutdown until SHUTDOWN_TIMEOUT forced it: from then on, each response closes its connection.
  let closing = false
  app.addHook('preClose', (done) => { closing = true; done() })
  app.addHook('onSend', (_request, reply, payload, done) => {
    if (closing) reply.header('connection', 'close')
    done(null, payload)
  })
  await app.register(configPlugin, { config, clock: options.clock })
  await app.register(listenSockets)
  await app.register(refusalDoor)
  await app.register(requestLogging)
  await app.register(traceId)
  await app.register(errorHandler)
  await app.register(securityHeaders)
  await app.register(validation)
  await app.register(openApi)
  await app.register(metricsPlugin)
  await app.register(databasePlugin, { database: options.database, auditLog: options.auditLog })
  await app.register(databaseMetricsPlugin)
  await app.register(pseudonymKey)
  await app.register(authPlugin)
  await app.register(knowledgeBasePlugin)
  await app.register(sessionManagerPlugin)
  await app.register(loadSheddingPlugin)
  await app.register(turnTracesPlugin)
  await app.register(answerWriterPlugin)
  await app.register(evaluationPlugin)
  await app.register(alertsPlugin)
  await app.register(weeklyReportPlugin)
  await app.register(commandParserPlugin)
  await app.register(chatServicePlugin)
  await app.register(personalDataPlugin)
  await app.register(chatLimits)
  await app.register(consoleAccess)
  await app.register(chatRoutes)
  await app.register(sessionRoutes)
  await app.register(knowledgeBaseRoutes)
  await app.register(evaluationsRoutes)
  await app.register(adminRoutes)
  await app.register(personalDataRoutes)
  await app.register(alertRoutes)
  await app.register(analyticsRoutes)
  await app.register(healthRoutes, { logDestinations: options.logDestinations })
  await app.register(metricsRoutes)
  await app.register(consoleRoutes)
  await app.register(pageRoutes)
  return app
}
