// The Swagger UI at /docs renders in a real browser under the content security policy the app
// sends (Debian's Chromium, headless, through playwright-core; .ci/run installs it): a policy that
// refused its own scripts would leave an empty page that no inject() test notices, and one that
// refused a style fills every visitor's console with an error.
import t from 'tap'
import { startServer } from '../server-process.js'
import { launchBrowser, openPage } from '../web/browser.js'

t.test('/docs shows every route in Chromium, with nothing refused by the content security policy', async t => {
  const server = await startServer(t, { KB_SEED_DIR: '' })
  const browser = await launchBrowser(t)
  const { page, problems } = await openPage(t, browser)
  await page.goto(`${server.base}/docs/`)
  await page.locator('.opblock-summary-path').first().waitFor()
  // The logo's SVG, and its <style>, come with the top bar.
  await page.locator('.topbar svg').first().waitFor()
  const paths = new Set(await page.locator('.opblock-summary-path').evaluateAll(elements => elements.map(element => element.getAttribute('data-path'))))
  for (const path of ['/v1/chat', '/v1/sessions/{id}/messages', '/health', '/status']) t.ok(paths.has(path), `${path} is listed`)
  t.same(problems, [], 'no error in the console: the policy refused nothing')
  t.equal(await server.stop(), 0)
})
