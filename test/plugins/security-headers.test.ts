// Answers are data to a browser and are not cached: nosniff and frame protection everywhere, a
// content security policy on /docs, and no-store on transcripts, analytics and the status report.
import t from 'tap'
import { buildTestApp } from '../helper.js'

t.test('every answer is nosniff, not framed elsewhere, and API answers are not stored by caches', async t => {
  const analyst = 'headers-analyst-key-0123456789'
  const app = await buildTestApp(t, { API_KEYS: `${analyst}:analyst`, KB_SEED_DIR: '' })
  const auth = { authorization: `Bearer ${analyst}` }
  const turn = await app.inject({ method: 'POST', url: '/v1/chat', payload: { message: '/help' } })
  const sessionId = turn.json().session_id as string
  for (const [url, headers] of [
    ['/v1/chat', {}],
    [`/v1/sessions/${sessionId}/messages`, {}],
    [`/v1/sessions/${sessionId}`, {}],
    ['/status', auth],
    ['/v1/analytics/usage', auth],
    ['/v1/nothing-here', {}]
  ] as const) {
    const response = url === '/v1/chat' ? turn : await app.inject({ url, headers })
    t.equal(response.headers['x-content-type-options'], 'nosniff', `${url}: nosniff`)
    t.equal(response.headers['x-frame-options'], 'SAMEORIGIN', `${url}: no framing by other sites`)
    t.equal(response.headers['cache-control'], 'no-store', `${url}: not cached`)
  }
  const docs = await app.inject({ url: '/docs/' })
  t.equal(docs.statusCode, 200)
  t.match(docs.headers['content-security-policy'], /default-src 'self'.*frame-ancestors 'self'/, '/docs has a content security policy')
  t.equal(docs.headers['x-content-type-options'], 'nosniff')
})
