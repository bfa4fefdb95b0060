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

t.test('/ points a person to the chat page, the console and the API; the pages carry the team\'s name (PAGES_NAME)', async t => {
  const plain = await buildTestApp(t, { KB_SEED_DIR: '' })
  const home = await plain.inject({ url: '/' })
  t.equal(home.statusCode, 200, 'not a JSON 404')
  t.match(home.headers['content-type'], /^text\/html/)
  for (const link of ['/chat', '/console', '/docs']) t.match(home.body, `<a href="${link}">`, `links to ${link}`)
  t.match(home.headers['content-security-policy'], /default-src 'self';script-src 'self';style-src 'self'/, 'under the pages\' strict policy')
  t.match((await plain.inject({ url: '/chat' })).body, '<title>Chat with Parley</title>', 'Parley by default')

  const app = await buildTestApp(t, { KB_SEED_DIR: '', PAGES_NAME: 'Acme <Help> & "Co"' })
  const name = 'Acme &#60;Help&#62; &#38; &#34;Co&#34;'
  t.match((await app.inject({ url: '/chat' })).body, `<title>Chat with ${name}</title>`)
  t.match((await app.inject({ url: '/chat' })).body, `<meta name="application-name" content="${name}">`, 'which the page\'s script shows')
  t.match((await app.inject({ url: '/console' })).body, `<title>${name} console</title>`)
  t.match((await app.inject({ url: '/' })).body, `<h1>${name}</h1>`)
  t.notMatch((await app.inject({ url: '/' })).body, '<Help>', 'written as text, never as markup')
})

t.test('CHAT_WIDGET_ORIGINS takes origins only', async t => {
  const { loadConfig } = await import('../../src/config.js')
  t.throws(() => loadConfig({ CHAT_WIDGET_ORIGINS: 'https://help.example.com/path' }), /CHAT_WIDGET_ORIGINS must match pattern/)
  t.throws(() => loadConfig({ CHAT_WIDGET_ORIGINS: "'unsafe-inline'" }), /CHAT_WIDGET_ORIGINS/)
  t.equal(loadConfig({ CHAT_WIDGET_ORIGINS: 'https://a.example http://b.example:8080' }).CHAT_WIDGET_ORIGINS, 'https://a.example http://b.example:8080')
})
