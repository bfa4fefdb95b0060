// Headers that make browsers treat the API's answers as data (@fastify/helmet: nosniff, no
// framing, a content security policy; the Swagger UI at /docs sends one that admits its own
// inline code), and keep answers out of caches: transcripts, analytics and the status report are
// conversations and internals, and every API answer is of the moment. /docs's assets may be cached,
// and so may what a route says how to cache (the pages' scripts and styles, plugins/routes/pages.ts).
import fp from 'fastify-plugin'
import helmet from '@fastify/helmet'

export default fp(async function securityHeadersPlugin (app) {
  await app.register(helmet, { global: true })
  app.addHook('onSend', async (request, reply, payload) => {
    if (!request.url.startsWith('/docs') && !reply.hasHeader('cache-control')) reply.header('cache-control', 'no-store')
    return payload
  })
}, { name: 'security-headers' })
