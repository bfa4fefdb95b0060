// GET /v1/analytics/usage|performance|errors for analysts: the figures of `npm run analyze`, from
// the database for usage and turn latency (every turn is stored with them), from the log files
// for errors (the database keeps none). ?from=&to= (ISO times; the last 7 days by default) and
// ?bucket=hour|day.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { resolve } from 'node:path'
import Type from 'typebox'
import { performanceFromDatabase, usageFromDatabase } from '../../src/analysis/database-analytics.js'
import { analyzeErrors, ErrorPatternSchema } from '../../src/analysis/error-patterns.js'
import { LogDirectoryError, type Period } from '../../src/analysis/log-scan.js'
import { defaultBucket, LatencyRowSchema, RegressionSchema } from '../../src/analysis/perf-report.js'
import { UsageFiguresSchema } from '../../src/analysis/usage-report.js'
import { ConflictError, InvalidFieldError } from '../../src/errors.js'
import { boundedDate, withProblems } from '../../src/http/schemas.js'

const MAX_DAYS = 366
const PeriodQuery = Type.Object({
  from: Type.Optional(Type.String({
    format: 'date-time',
    description: 'Start (inclusive); default: 7 days before `to`'
  })),
  to: Type.Optional(Type.String({ format: 'date-time', description: 'End (exclusive); default: now' }))
}, { additionalProperties: false })
const BucketQuery = Type.Object({
  ...PeriodQuery.properties,
  bucket: Type.Optional(Type.Enum(['hour', 'day'], { description: 'Default: hour up to two days, else day' }))
}, { additionalProperties: false })
const Range = { from: Type.String({ format: 'date-time' }), to: Type.String({ format: 'date-time' }) }

const analyticsRoutes: FastifyPluginAsyncTypebox = async function (app) {
  const period = (query: { from?: string, to?: string }): Period => {
    const given = query.from === undefined ? undefined : boundedDate('querystring/from', query.from)
    const to = query.to === undefined ? app.clock() : boundedDate('querystring/to', query.to)
    const from = given ??
      boundedDate('querystring/from', new Date(to.getTime() - 7 * 86_400_000).toISOString())
    if (from >= to) {
      throw new InvalidFieldError('querystring/from',
        `must be before querystring/to (${from.toISOString()} is not before ${to.toISOString()})`)
    }
    if (to.getTime() - from.getTime() > MAX_DAYS * 86_400_000) {
      throw new InvalidFieldError('querystring/to', `must be at most ${MAX_DAYS} days after querystring/from`)
    }
    return { from, to }
  }
  const range = (p: Period) => ({ from: p.from.toISOString(), to: p.to.toISOString() })
  const common = { onRequest: app.requireRole('admin', 'analyst'), security: [{ apiKey: [] }] }

  app.get('/v1/analytics/usage', {
    config: { usesDatabase: true },
    onRequest: common.onRequest,
    schema: {
      tags: ['analytics'],
      summary: 'Turns, sessions, users, commands, answer rate, feedback and the top unanswered questions ' +
        '(scrubbed), from the database',
      security: common.security,
      querystring: PeriodQuery,
      response: withProblems({ 200: Type.Object({ ...Range, ...UsageFiguresSchema.properties }) }, 401, 403)
    }
  }, async request => {
    const p = period(request.query)
    return { ...range(p), ...await usageFromDatabase(app.db, p) }
  })

  app.get('/v1/analytics/performance', {
    config: { usesDatabase: true },
    onRequest: common.onRequest,
    schema: {
      tags: ['analytics'],
      summary: 'Turn latency p50/p95/p99 by reply kind, per hour or day, and regressions against the period before, ' +
        'from the database',
      security: common.security,
      querystring: BucketQuery,
      response: withProblems({
        200: Type.Object({
          ...Range,
          bucket: Type.String(),
          totals: Type.Array(LatencyRowSchema),
          rows: Type.Array(LatencyRowSchema),
          regressions: Type.Array(RegressionSchema)
        })
      }, 401, 403)
    }
  }, async request => {
    const p = period(request.query)
    return { ...range(p), ...await performanceFromDatabase(app.db, p, request.query.bucket ?? defaultBucket(p)) }
  })

  app.get('/v1/analytics/errors', {
    onRequest: common.onRequest,
    schema: {
      tags: ['analytics'],
      summary: 'Error patterns by fingerprint against the period before, from this instance\'s log files',
      security: common.security,
      querystring: PeriodQuery,
      response: withProblems({
        200: Type.Object({
          ...Range,
          total: Type.Integer(),
          previous_total: Type.Integer(),
          patterns: Type.Array(ErrorPatternSchema),
          files_read: Type.Integer(),
          unreadable_files: Type.Integer(),
          bad_lines: Type.Integer()
        })
      }, 401, 403, 409)
    }
  }, async request => {
    const p = period(request.query)
    if (app.config.LOG_DIR === '') {
      throw new ConflictError('Errors are read from the log files, and LOG_DIR is empty (logs go to stdout only): ' +
        'query them where the logs are collected.')
    }
    try {
      const report = await analyzeErrors({ dir: resolve(app.config.LOG_DIR), period: p })
      const { stats } = report
      // Session ids read conversations as written: an analyst gets the console's references to them.
      const patterns = request.principal?.role === 'admin'
        ? report.patterns
        : report.patterns.map(pattern => ({
          ...pattern,
          sample_session_ids: pattern.sample_session_ids.map(id => app.conversationRefs.ref(id))
        }))
      return {
        ...range(p),
        total: report.total,
        previous_total: report.previous_total,
        patterns,
        files_read: stats.files,
        unreadable_files: stats.unreadableFiles.length + stats.truncatedFiles.length,
        bad_lines: stats.badLines
      }
    } catch (error) {
      if (error instanceof LogDirectoryError) throw new ConflictError(`${error.message}: is LOG_DIR right?`)
      throw error
    }
  })
}

export default analyticsRoutes
