// The Swagger UI at /docs renders in a real browser under the content security policy the app
// sends (Debian's Chromium, headless; .ci/run installs it): a policy that refused its own scripts
// would leave an empty page that no inject() test notices.
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import t from 'tap'
import { startServer } from '../server-process.js'

t.test('/docs shows every route in Chromium, with nothing refused by the content security policy', async t => {
  const server = await startServer(t, { KB_SEED_DIR: '' })
  const { stdout: dom, stderr } = await promisify(execFile)('/usr/bin/chromium', [
    '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--virtual-time-budget=8000', '--dump-dom', `${server.base}/docs/`
  ], { timeout: 60_000, maxBuffer: 16 * 1024 * 1024 })
  const paths = new Set([...dom.matchAll(/opblock-summary-path" data-path="([^"]+)"/g)].map(match => match[1]))
  for (const path of ['/v1/chat', '/v1/sessions/{id}/messages', '/health', '/status']) t.ok(paths.has(path), `${path} is listed`)
  t.notMatch(stderr, /Refused to (execute|load|apply)/, 'the policy refused nothing')
  t.equal(await server.stop(), 0)
})
