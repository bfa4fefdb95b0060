// The headers helmet sets for a set of options, worked out once. helmet builds its middleware
// from the options, parsing the content security policy, each time it is asked, and
// @fastify/helmet asked it on every request: over a quarter of the main thread's CPU of a turn
// refused past capacity (DEVELOPING.md, "The security headers"). The headers of fixed options never
// change, so a route's are computed when it is added and each response only copies them.
import type { IncomingMessage, ServerResponse } from 'node:http'
import helmet, { type HelmetOptions } from 'helmet'

/** Header names (lower case) and values, as a response carries them. */
export type SecurityHeaders = Readonly<Record<string, string>>

/**
 * What helmet(options) sets on every response. A policy directive that is a function of the
 * request (a nonce, say) cannot be worked out once, and is refused.
 */
export function securityHeaders (options: Readonly<HelmetOptions> = {}): SecurityHeaders {
  const policy = options.contentSecurityPolicy
  const directives = typeof policy === 'object' ? Object.values(policy.directives ?? {}) : []
  const perRequest = directives.some(values =>
    values !== null && typeof values === 'object' && [...values].some(value => typeof value === 'function'))
  if (perRequest) throw new TypeError('A policy directive is a function of the request: it cannot be worked out once')
  const headers: Record<string, string> = {}
  // helmet writes through setHeader, and removes X-Powered-By, which Fastify never sets.
  const response = {
    setHeader: (name: string, value: string) => { headers[name.toLowerCase()] = value },
    removeHeader: () => {}
  }
  // helmet throws a bad option's error itself, and calls next() once every header is set.
  helmet(options)({} as IncomingMessage, response as unknown as ServerResponse, () => {})
  return headers
}
