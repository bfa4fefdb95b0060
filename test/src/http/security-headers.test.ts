// The headers worked out once are those helmet's middleware sets on a response, for the defaults
// and for the pages' options; a policy that changes per request is refused rather than frozen.
import t from 'tap'
import { IncomingMessage, ServerResponse } from 'node:http'
import { Socket } from 'node:net'
import helmet, { type HelmetOptions } from 'helmet'
import { securityHeaders } from '../../../src/http/security-headers.js'
import { pagePolicy } from '../../../plugins/routes/pages.js'

function setByMiddleware (options: HelmetOptions): Record<string, unknown> {
  const response = new ServerResponse(new IncomingMessage(new Socket()))
  response.setHeader('x-powered-by', 'a framework')
  helmet(options)(response.req, response, () => {})
  return { ...response.getHeaders() }
}

t.test('the same headers as helmet\'s middleware sets, X-Powered-By aside', async t => {
  for (const options of [
    {},
    { contentSecurityPolicy: { useDefaults: false, directives: pagePolicy(["'none'"]) }, frameguard: { action: 'deny' } },
    { contentSecurityPolicy: { useDefaults: false, directives: pagePolicy(["'self'", 'https://help.example.com']) }, frameguard: false },
    { crossOriginResourcePolicy: { policy: 'cross-origin' } }
  ] satisfies HelmetOptions[]) {
    t.same(securityHeaders(options), setByMiddleware(options), JSON.stringify(options))
  }
  const defaults = securityHeaders()
  t.equal(defaults['x-content-type-options'], 'nosniff')
  t.equal(defaults['x-frame-options'], 'SAMEORIGIN')
  t.match(defaults['content-security-policy'], /^default-src 'self'/)
  t.equal(securityHeaders({ frameguard: false })['x-frame-options'], undefined)
})

t.test('a directive computed per request (a nonce) cannot be worked out once', async t => {
  t.throws(() => securityHeaders({ contentSecurityPolicy: { directives: { scriptSrc: ["'self'", () => "'nonce-abc'"] } } }),
    /function of the request/)
  t.throws(() => securityHeaders({ contentSecurityPolicy: { directives: { 'script-src': ['https://ok.example', 'not a source;'] } } }),
    /script-src/, 'helmet\'s own checks still apply')
})
