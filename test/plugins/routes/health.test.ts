import t from 'tap'
import { buildTestApp } from '../../helper.js'

t.test('GET /health answers 200 while the process can serve, with no key', async t => {
  const app = await buildTestApp(t, { API_KEYS: 'admin-key-0123456789:admin', CHAT_REQUIRE_KEY: 'true' })
  const response = await app.inject({ method: 'GET', url: '/health' })
  t.equal(response.statusCode, 200)
  t.same(response.json(), { status: 'ok' })
})
