// A request's JSON body, parsed as Fastify's own parser does (secure-json-parse, refusing keys that
// would reach an object's prototype), but telling the caller what is wrong with it: Fastify's says
// "Body is not valid JSON" whatever the fault, a valid body with a "__proto__" key included.
import { parse } from 'secure-json-parse'
import { ProblemError, fieldErrors } from '../errors.js'

const FORBIDDEN_KEY = /forbidden prototype property/

/** Parses a JSON body; a fault is a 400 problem (`invalid-json`) saying where, or which key is refused. */
export function parseJsonBody (text: string): unknown {
  try {
    return parse(text, { protoAction: 'error', constructorAction: 'error' })
  } catch (error) {
    const fault = describe(error)
    throw new ProblemError({
      status: 400,
      type: 'invalid-json',
      title: 'Bad Request',
      detail: `The body ${fault}.`,
      extensions: fieldErrors('body', fault)
    })
  }
}

/** What is wrong with the body, said of it ("is not valid JSON: …"). */
function describe (error: unknown): string {
  const message = error instanceof Error ? error.message : String(error)
  if (FORBIDDEN_KEY.test(message)) {
    return 'has a "__proto__" key, or a "constructor" key holding "prototype", which is refused: ' +
      'it would change what every object inherits. Remove it'
  }
  // V8 says where ("… in JSON at position 17 (line 1 column 18)"), or quotes the text it could not
  // read, which is left out: the caller has it, and the detail is logged.
  const fault = message.replace(/, (\.\.\.)?".*"(\.\.\.)? is not valid JSON$/s, '').replace(/ in JSON at /, ' at ')
  return `is not valid JSON: ${fault.charAt(0).toLowerCase()}${fault.slice(1)}`
}
