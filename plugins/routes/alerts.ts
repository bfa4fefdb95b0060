// GET /v1/admin/alerts: every alert rule's state now, and how delivery to each notifier went,
// so "did anyone get told?" has an answer without reading logs.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import Type from 'typebox'
import { AlertStateSchema } from '../../src/alerts/alert-evaluator.js'
import { withProblems } from '../../src/http/schemas.js'

const AlertsReport = Type.Object({
  evaluation_interval_seconds: Type.Integer(),
  alerts: Type.Array(AlertStateSchema, { description: 'Firing first, then pending, then inactive' }),
  notifiers: Type.Record(
    Type.String(),
    Type.Object({ sent: Type.Integer(), failed: Type.Integer(), dropped: Type.Integer(), queued: Type.Integer() }),
    { description: 'By notifier (slack, webhook, email); empty when none is configured' }
  )
})

const alertRoutes: FastifyPluginAsyncTypebox = async function (app) {
  app.get('/v1/admin/alerts', {
    onRequest: app.requireRole('admin', 'analyst'),
    schema: {
      tags: ['admin'],
      summary: 'Alert rules by state (firing, pending, inactive) and notifier delivery counts',
      security: [{ apiKey: [] }],
      response: withProblems({ 200: AlertsReport }, 401, 403)
    }
  }, async () => ({
    evaluation_interval_seconds: app.config.ALERTS_EVAL_INTERVAL,
    alerts: app.alerts.states(),
    notifiers: app.alerts.notifications.stats()
  }))
}

export default alertRoutes
