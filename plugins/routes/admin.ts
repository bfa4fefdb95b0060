// Runtime control of logging (admin role): raise one module to debug while chasing a problem,
// without a restart, and put it back. Every change is audited.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import Type from 'typebox'
import { LOG_MODULES, log, moduleLevelOverrides, setModuleLevel } from '../../src/logging/log-context.js'
import { BadRequestError } from '../../src/errors.js'
import { withProblems } from '../../src/http/schemas.js'

const Level = Type.Enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'])
const LogLevels = Type.Object({
  level: Level,
  modules: Type.Record(Type.String(), Level, { description: 'Modules whose level differs from the global one' })
})
const LogLevelChange = Type.Object({
  level: Type.Optional(Level),
  module: Type.Optional(Type.Enum(LOG_MODULES, { description: 'Change only this module' })),
  reset: Type.Optional(Type.Boolean({ description: 'With module: make it follow the global level again' }))
}, { additionalProperties: false })

const adminRoutes: FastifyPluginAsyncTypebox = async function (app) {
  const current = () => ({ level: app.log.level, modules: moduleLevelOverrides() })

  app.get('/v1/admin/log-level', {
    onRequest: app.requireRole('admin'),
    schema: {
      tags: ['admin'],
      summary: 'The global log level and per-module overrides',
      security: [{ apiKey: [] }],
      response: withProblems({ 200: LogLevels }, 401, 403)
    }
  }, async () => current())

  app.put('/v1/admin/log-level', {
    config: { usesDatabase: true },
    onRequest: app.requireRole('admin'),
    schema: {
      tags: ['admin'],
      summary: 'Change the log level, globally or for one module, without a restart',
      security: [{ apiKey: [] }],
      body: LogLevelChange,
      response: withProblems({ 200: LogLevels }, 401, 403, 415)
    }
  }, async (request) => {
    const { level, module, reset } = request.body
    const before = current()
    if (module === undefined) {
      if (level === undefined || reset === true) {
        throw new BadRequestError('Send "level" to change the global level, or "module" with "level" or "reset": true.')
      }
      app.log.level = level
    } else {
      if ((level === undefined) === (reset !== true)) {
        throw new BadRequestError('With "module", send either "level" or "reset": true.')
      }
      setModuleLevel(module, reset === true ? undefined : level)
    }
    const after = current()
    // An audited change is kept only if its audit entry is: otherwise it is put back, and the
    // caller's error (503 while the database is down) says it did not happen.
    await app.auditTrail.record({
      actor: request.actor,
      action: 'log_level.change',
      target: module ?? 'global',
      result: 'success',
      details: { before, after }
    })
      .catch((error: unknown) => {
        app.log.level = before.level
        if (module !== undefined) setModuleLevel(module, before.modules[module])
        throw error
      })
    log('http', 'putLogLevel', request.log).warn({ before, after }, 'log level changed')
    return after
  })
}

export default adminRoutes
