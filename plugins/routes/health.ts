// Liveness for orchestrators and the Docker healthcheck: 200 while the process can serve.
// Probes are logged at debug and not traced, so they never drown the lines people read.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import Type from 'typebox'

const healthRoutes: FastifyPluginAsyncTypebox = async function (app) {
  app.get('/health', {
    schema: { tags: ['operations'], summary: 'Liveness: 200 while the process can serve', response: { 200: Type.Object({ status: Type.Literal('ok') }) } }
  }, async () => ({ status: 'ok' as const }))
}

export default healthRoutes
