// Headers that make browsers treat the API's answers as data (helmet: nosniff, no framing, a
// content security policy; the Swagger UI at /docs sends one that admits its own inline code), and
// keep answers out of caches: transcripts, analytics and the status report are conversations and
// internals, and every API answer is of the moment. /docs's assets may be cached, and so may what
// a route says how to cache (the pages' scripts and styles, plugins/routes/pages.ts). A route's
// headers are worked out once, when it is added (src/http/security-headers.ts).
import fp from 'fastify-plugin'
import type { HelmetOptions } from 'helmet'
import { securityHeaders, type SecurityHeaders } from '../src/http/security-headers.js'

declare module 'fastify' {
  interface FastifyContextConfig {
    /** helmet's options for this route's responses, in place of its defaults (the pages' policies). */
    securityHeaders?: HelmetOptions
  }
}

// No API answer is cached (a route may say otherwise for its own, as the pages' assets do).
const NOT_CACHED = { 'cache-control': 'no-store' }

export default fp(async function securityHeadersPlugin (app) {
  const defaults = securityHeaders()
  // The refusal door guards only API routes: their headers are the defaults, never cached.
  app.refusalDoor.addHeaders({ ...defaults, ...NOT_CACHED })
  const byRoute = new WeakMap<HelmetOptions, SecurityHeaders>()
  app.addHook('onRoute', route => {
    const options = route.config?.securityHeaders
    if (options !== undefined) byRoute.set(options, securityHeaders(options))
  })
  app.addHook('onRequest', (request, reply, done) => {
    const options = request.routeOptions.config.securityHeaders
    reply.headers(options === undefined ? defaults : byRoute.get(options)!)
    done()
  })
  app.addHook('onSend', async (request, reply, payload) => {
    if (!request.url.startsWith('/docs') && !reply.hasHeader('cache-control')) reply.headers(NOT_CACHED)
    return payload
  })
}, { name: 'security-headers', dependencies: ['refusal-door'] })
