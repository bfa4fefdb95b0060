// Request validation with one Ajv per part of the request. Query strings and path parameters
// arrive as text and must be coerced ("?limit=5" → 5); a JSON body must not be: {"message": 123}
// is the caller's mistake, answered with 400, not quietly turned into "123".
import fp from 'fastify-plugin'
import { Ajv, type Options } from 'ajv'
import addFormats from 'ajv-formats'

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
    querystring: ajv({ coerceTypes: 'array' }),
    params: ajv({ coerceTypes: true }),
    headers: ajv({ coerceTypes: true })
  }
  app.setValidatorCompiler(({ schema, httpPart }) => byPart[httpPart ?? 'body']!.compile(schema))
}, { name: 'validation' })
