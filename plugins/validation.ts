// Request validation with one Ajv per part of the request. Query strings and path parameters
// arrive as text and must be coerced ("?limit=5" → 5); a JSON body must not be: {"message": 123}
// is the caller's mistake, answered with 400, not quietly turned into "123".
import fp from 'fastify-plugin'
import { errorCodes } from 'fastify'
import { Ajv, type Options } from 'ajv'
import addFormats from 'ajv-formats'
import { parseJsonBody } from '../src/http/json-body.js'

// Unknown body fields are refused (400 naming the field) rather than silently dropped.
const common: Options = { removeAdditional: false, useDefaults: true, allErrors: false, strict: false }

function ajv (options: Options): Ajv {
  const instance = new Ajv({ ...common, ...options })
  addFormats.default(instance)
  return instance
}

export default fp(async function validationPlugin (app) {
  const byPart: Record<string, Ajv> = {
    body: ajv({ coerceTypes: false }),
    // Every issue of a query string at once: a misspelt required parameter is both missing and
    // unknown (?usr_id=: "user_id is required; usr_id is not an allowed field"). A URL is short,
    // and the answer names at most MAX_ISSUES of them.
    // verbose: each issue carries its value, so a parameter given twice is told as such.
    querystring: ajv({ coerceTypes: 'array', allErrors: true, verbose: true }),
    params: ajv({ coerceTypes: true }),
    headers: ajv({ coerceTypes: true })
  }
  app.setValidatorCompiler(({ schema, httpPart }) => byPart[httpPart ?? 'body']!.compile(schema))
  // A body that is not JSON is told where it fails, and a "__proto__" key by name
  // (src/http/json-body.ts); the route's body limit holds as for Fastify's own parser.
  app.removeContentTypeParser('application/json')
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
    if (body === '') {
      done(new errorCodes.FST_ERR_CTP_EMPTY_JSON_BODY(), undefined)
      return
    }
    try {
      done(null, parseJsonBody(body as string))
    } catch (error) {
      done(error as Error, undefined)
    }
  })
  // An API route that takes no query parameter refuses one by name, as a route with parameters
  // refuses an unknown one: ignored, DELETE /v1/sessions/:id?dryrun=1 deleted the session. The
  // pages, the probes and /metrics keep theirs lenient: links and scrapers add their own.
  app.addHook('onRoute', route => {
    if (route.schema?.querystring !== undefined || !takesApiRequests(route.url)) return
    route.schema = { ...route.schema, querystring: NO_QUERY }
  })
}, { name: 'validation' })

const NO_QUERY = { type: 'object', properties: {}, additionalProperties: false }

function takesApiRequests (url: string): boolean {
  return url.startsWith('/v1/') || url.startsWith('/console/api/') || url === '/status'
}
