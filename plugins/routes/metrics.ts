// GET /metrics: Prometheus text, open so that a scraper needs no key (it holds counts and
// durations, never chat text or a user; see the README's route table).
import type { FastifyPluginAsync } from 'fastify'

const metricsRoutes: FastifyPluginAsync = async function (app) {
  app.get('/metrics', {
    schema: {
      tags: ['operations'],
      summary: 'Prometheus metrics (text exposition format)',
      response: { 200: { type: 'string', description: 'Prometheus text format' } }
    }
  }, (request, reply) => {
    reply.hijack()
    app.serveMetrics(request.raw, reply.raw)
  })
}

export default metricsRoutes
