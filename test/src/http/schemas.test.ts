// A pattern a request must match is said in words: a 400 that quoted the regex
// ("must match pattern \"^c_[A-Za-z0-9_-]{59}$\"") tells a caller nothing they can act on.
import t from 'tap'
import { buildTestApp } from '../../helper.js'
import { patternMessage } from '../../../src/http/schemas.js'

function patternsIn (value: unknown, found = new Set<string>()): Set<string> {
  if (Array.isArray(value)) {
    for (const item of value) patternsIn(item, found)
  } else if (typeof value === 'object' && value !== null) {
    for (const [key, inner] of Object.entries(value)) {
      if (key === 'pattern' && typeof inner === 'string') found.add(inner)
      else patternsIn(inner, found)
    }
  }
  return found
}

t.test('every pattern of a route\'s parameters or body has its message', async t => {
  const app = await buildTestApp(t)
  const spec = (await app.inject({ url: '/docs/json' })).json() as {
    paths: Record<string, Record<string, { parameters?: unknown, requestBody?: unknown }>>
  }
  const requests = Object.values(spec.paths).flatMap(methods => Object.values(methods))
    .map(operation => [operation.parameters, operation.requestBody])
  const patterns = [...patternsIn(requests)]
  t.ok(patterns.length >= 3, `the routes take ${patterns.length} patterns`)
  t.same(patterns.filter(pattern => patternMessage(pattern) === undefined), [], 'none is said as a regex')
})

t.test('a conversation id or reference, and a document id, in words', async t => {
  const app = await buildTestApp(t, { API_KEYS: 'admin-key-0123456789abcdef:admin' })
  const headers = { authorization: 'Bearer admin-key-0123456789abcdef' }
  const conversation = await app.inject({ url: '/console/api/conversations/xyz', headers: { ...headers, 'x-requested-with': 'parley-console' } })
  t.match(conversation.json(), {
    status: 400,
    errors: [{ field: 'params/session_id', message: /^must be a session id \(a UUID\) or a conversation reference/ }]
  })
  const document = await app.inject({
    method: 'POST', url: '/v1/kb/documents', headers, payload: { documents: [{ id: '-draft', title: 'A', text: 'B' }] }
  })
  t.match(document.json(), {
    status: 400,
    errors: [{ field: 'body/documents/0/id', message: /^must be 1 to 200 letters, digits, dots, underscores, colons or hyphens/ }]
  })
})
