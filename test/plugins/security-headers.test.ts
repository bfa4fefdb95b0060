// Answers are data to a browser and are not cached: nosniff everywhere, no framing by other sites
// but the widget's origins on the chat page, a content security policy on /docs and the pages, and
// no-store on transcripts, analytics and the status report; only the pages' versioned assets are cached.
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

t.test('the pages: a strict policy each, the chat page framed only by the widget\'s origins, assets cached by their versioned URL', async t => {
  const app = await buildTestApp(t, { KB_SEED_DIR: '', CHAT_WIDGET_ORIGINS: 'https://help.example.com http://localhost:8080' })
  const strict = "default-src 'self';script-src 'self';style-src 'self';img-src 'self' data:;connect-src 'self'"
  const consolePage = await app.inject({ url: '/console' })
  t.equal(consolePage.statusCode, 200)
  t.match(consolePage.headers['content-security-policy'], `${strict};frame-ancestors 'none';base-uri 'none';form-action 'self'`)
  t.equal(consolePage.headers['x-frame-options'], 'DENY')
  t.equal(consolePage.headers['cache-control'], 'no-store')
  const chat = await app.inject({ url: '/chat?embed=1&user=u1' })
  t.match(chat.headers['content-security-policy'], 'frame-ancestors \'self\' https://help.example.com http://localhost:8080;')
  t.equal(chat.headers['x-frame-options'], undefined, 'X-Frame-Options cannot name other sites: frame-ancestors decides')
  const widget = await app.inject({ url: '/widget.js' })
  t.equal(widget.headers['cross-origin-resource-policy'], 'cross-origin', 'other sites may load the widget')
  t.equal(widget.headers['cache-control'], 'public, max-age=300')
  const asset = /\/assets\/chat\.js\?v=[0-9a-f]+/.exec(chat.body)?.[0]
  t.ok(asset, 'the page names its script with a version')
  const script = await app.inject({ url: asset! })
  t.equal(script.statusCode, 200)
  t.match(script.headers['cache-control'], /max-age=31536000.*immutable/, 'kept a year: a new build changes its URL')
  t.match(script.headers['content-security-policy'], /frame-ancestors 'none'/)
  t.equal((await app.inject({ url: '/assets/nothing.js' })).headers['cache-control'], 'no-store', 'a missing asset is not cached')
})

t.test('CHAT_WIDGET_ORIGINS takes origins only', async t => {
  const { loadConfig } = await import('../../src/config.js')
  t.throws(() => loadConfig({ CHAT_WIDGET_ORIGINS: 'https://help.example.com/path' }), /CHAT_WIDGET_ORIGINS must match pattern/)
  t.throws(() => loadConfig({ CHAT_WIDGET_ORIGINS: "'unsafe-inline'" }), /CHAT_WIDGET_ORIGINS/)
  t.equal(loadConfig({ CHAT_WIDGET_ORIGINS: 'https://a.example http://b.example:8080' }).CHAT_WIDGET_ORIGINS, 'https://a.example http://b.example:8080')
})
