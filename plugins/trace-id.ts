// Every response names its trace (x-trace-id), so a user's report or a failed call can be
// pasted straight into Jaeger; without telemetry there is no trace and no header.
import fp from 'fastify-plugin'
import { currentTraceId } from '../src/telemetry/spans.js'

export default fp(async function traceIdPlugin (app) {
  app.addHook('onRequest', async (_request, reply) => {
    const traceId = currentTraceId()
    if (traceId !== undefined) reply.header('x-trace-id', traceId)
  })
}, { name: 'trace-id' })
