// The console in Chromium against the real server, with the OpenTelemetry SDK preloaded as
// `npm start` does (no collector), so turns keep their spans. What a team does with it: sign in,
// find a conversation by a word typed in it, open it and see the turn's message, its span
// waterfall and its log lines; find a turn made slow for real (a statement that sleeps in the
// database) by the latency filter and see where its time went; find a thumbs down given on the chat
// page; see markup as text; an analyst sees scrubbed words and pseudonyms only. No request fails,
// the browser console shows no error, and every call carries the CSRF header. It also takes the
// README's screenshots of the console.
import { join } from 'node:path'
import pg from 'pg'
import t from 'tap'
import type { Request } from 'playwright-core'
import { projectRoot } from '../../src/project.js'
import { createServerDatabase, waitFor } from '../helper.js'
import { startServer } from '../server-process.js'
import { durationMs, launchBrowser, openPage, SCREENSHOTS, signIn, signInCheck } from './browser.js'

const ADMIN = 'console-admin-key-0123456789'
const ANALYST = 'console-analyst-key-0123456789'
const MARKUP = '<img src=x onerror=window.__pwned=1>'

t.test('the console, on the real API', async t => {
  // On the PostgreSQL server when there is one (CI), so that the test can slow a statement down for real.
  const serverUrl = process.env.TEST_DATABASE_URL ?? ''
  const database = serverUrl === '' ? undefined : await createServerDatabase(serverUrl)
  const server = await startServer(t, {
    API_KEYS: `${ADMIN}:admin,${ANALYST}:analyst`,
    ALERTS_TRACE_URL: 'http://localhost:16686/trace/',
    OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9',
    ...(database === undefined ? {} : { DATABASE_URL: database.url })
  }, ['--import', join(projectRoot, 'dist/otel/instrumentation.js')])
  t.teardown(async () => { await server.stop(); await database?.drop() })

  const chat = async (message: string, sessionId?: string) => {
    const response = await fetch(`${server.base}/v1/chat`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ message, user_id: 'jane-raw-id', session_id: sessionId }) })
    return await response.json() as { session_id: string, turn: number }
  }
  // A turn's trace is written off the request, in batches within a second or two of its reply: the
  // test waits for it as a person would wait for a page to show it, rather than racing the writer.
  const tracesKept = async (count: number) => {
    const kept = await waitFor(async () => {
      const status = await (await fetch(`${server.base}/status`, { headers: { authorization: `Bearer ${ADMIN}` } })).json() as { turn_traces: { kept: number, queued: number } }
      return status.turn_traces.kept >= count && status.turn_traces.queued === 0
    }, 20_000, 100)
    if (!kept) throw new Error(`fewer than ${count} turn traces were kept within 20 s`)
  }
  const { session_id: sessionId } = await chat('how do I view traces? write to jane.doe@example.com')
  await chat('and where do the log lines go?', sessionId)
  await chat(MARKUP, sessionId)
  await tracesKept(3)
  const browser = await launchBrowser(t)

  await t.test('an admin signs in, finds a conversation by a word typed in it, and sees inside its turn', async t => {
    const { page, problems } = await openPage(t, browser, signInCheck)
    const calls: Request[] = []
    page.on('request', request => { if (new URL(request.url()).pathname.startsWith('/console/api/')) calls.push(request) })
    const response = await page.goto(`${server.base}/console`)
    t.match(response?.headers()['content-security-policy'], /script-src 'self';\s*style-src 'self';.*frame-ancestors 'none'/, 'a strict policy, and no site may frame the console')
    const key = page.getByLabel('API key')
    t.equal(await key.getAttribute('type'), 'password')
    await page.screenshot({ path: join(SCREENSHOTS, 'console-sign-in.png') })

    await key.fill('not-a-key-of-anyone-here')
    await page.getByRole('button', { name: 'Sign in' }).click()
    t.match(await page.getByRole('alert').textContent(), 'The API key is not valid.', 'a refused key shows the problem\'s detail')
    await key.fill(ADMIN)
    await page.getByRole('button', { name: 'Sign in' }).click()
    await page.getByLabel('Search conversations').waitFor()
    const stored = await page.evaluate('JSON.stringify([Object.entries(localStorage), Object.entries(sessionStorage), document.cookie, location.href])') as string
    t.notMatch(stored, ADMIN, 'the key is in no storage, script-readable cookie or URL')

    await page.getByLabel('Search conversations').fill('traces')
    await page.getByLabel('Search conversations').press('Enter')
    // The table names the filters its rows were fetched for: wait for the search's, not the list before it.
    const row = page.locator('table.turns[data-filters="q=traces"] tbody tr', { hasText: 'how do I view traces?' })
    await row.first().waitFor()
    t.notMatch(await page.locator('table.turns').textContent(), 'onerror', 'turns without the word are not listed')
    await page.screenshot({ path: join(SCREENSHOTS, 'console-conversations.png') })
    await row.first().click()
    await page.locator('#turn-1').waitFor()
    t.match(await page.locator('#turn-1 .user-said').textContent(), 'jane.doe@example.com', 'the turn\'s message, as written, for an admin')
    t.equal(await page.locator('#turn-3 .user-said').textContent(), `User${MARKUP}`, 'markup in a message reads as text')
    // The reply's lines, its "Source: …" one too, start right of "Bot", not under it.
    const textLefts = await page.evaluate(`(() => {
      const range = document.createRange()
      const said = document.querySelector('#turn-1 .bot-said')
      range.selectNodeContents([...said.childNodes].find(node => node.nodeType === Node.TEXT_NODE))
      return [...range.getClientRects()].map(rect => Math.round(rect.left))
    })()`) as number[]
    const label = (await page.locator('#turn-1 .bot-said .who-said').boundingBox())!
    t.ok(textLefts.length > 1 && Math.min(...textLefts) >= label.x + label.width,
      `every line of the reply starts right of its label (${Math.min(...textLefts)} ≥ ${label.x + label.width})`)
    t.equal(await page.locator('.conversation img').count(), 0, 'no element was made from it')
    t.equal(await page.evaluate('window.__pwned'), undefined, 'and nothing ran')
    t.match(await page.locator('#turn-3 .decision-verdict').textContent(), 'Refused before the model was read: no word of the question is in the passage found',
      'markup is no question: the rule that refused it is named, not a confidence of 0')

    // The row opened its turn's trace.
    await page.locator('.waterfall-span').first().waitFor()
    const spans = await page.locator('.waterfall-span .span-name').allTextContents()
    t.equal(spans[0], 'POST /v1/chat', 'the request\'s span first')
    t.ok(spans.includes('chat.turn') && spans.includes('retrieval knowledge-base'), `the turn's spans: ${spans.join(', ')}`)
    await page.locator('table.logs tbody tr').first().waitFor()
    const logs = await page.locator('table.logs').textContent() ?? ''
    for (const message of ['chat.message_received', 'chat.reply_sent', 'request completed']) t.match(logs, message, `the log line ${message}`)
    t.equal(await page.getByRole('link', { name: 'Open in Jaeger' }).getAttribute('href') !== null, true, 'a link to Jaeger, as ALERTS_TRACE_URL is set')
    await page.screenshot({ path: join(SCREENSHOTS, 'console-conversation.png') })

    await page.getByRole('link', { name: 'Overview' }).click()
    await page.locator('.tile').first().waitFor()
    await page.locator('.chart canvas').nth(1).waitFor()
    t.match(await page.locator('.tiles').textContent(), /Turns\s*3/, 'the turns, counted from the transcript')
    await page.screenshot({ path: join(SCREENSHOTS, 'console-overview.png') })

    await page.getByRole('button', { name: 'Sign out' }).click()
    await page.getByLabel('API key').waitFor()
    t.ok(calls.some(call => call.method() === 'DELETE'), 'signing out asks the server to clear the cookie')
    const withoutHeader = await Promise.all(calls.map(async call => [call.url(), await call.headerValue('x-requested-with')] as const))
    t.same(withoutHeader.filter(([, header]) => header !== 'parley-console'), [], 'every call carries X-Requested-With')
    t.same(problems, [], 'no failing request, no error in the browser console')
  })

  await t.test('a turn made slow in the database is found by the latency filter, and its waterfall shows where the time went', { skip: database === undefined ? 'needs the PostgreSQL server (TEST_DATABASE_URL; .ci/run sets it) to slow a statement down' : false }, async t => {
    const client = new pg.Client({ connectionString: database!.url })
    await client.connect()
    t.teardown(async () => { await client.end() })
    // A real slow statement: storing this one message sleeps 1.5 s inside PostgreSQL.
    await client.query(`CREATE FUNCTION parley_test_slow() RETURNS trigger AS $$
      BEGIN IF NEW.content LIKE '%take your time%' THEN PERFORM pg_sleep(1.5); END IF; RETURN NEW; END $$ LANGUAGE plpgsql`)
    await client.query('CREATE TRIGGER parley_test_slow BEFORE INSERT ON messages FOR EACH ROW EXECUTE FUNCTION parley_test_slow()')
    await chat('take your time: how do sessions expire?')
    // Until its trace is written, a turn's latency is the one stored with its reply, which cannot hold the time spent storing it.
    await tracesKept(4)
    const { page, problems } = await openPage(t, browser, signInCheck)
    await page.goto(`${server.base}/console`)
    await signIn(page, ADMIN)
    await page.getByLabel('Slower than (ms)').fill('1000')
    await page.getByLabel('Slower than (ms)').press('Enter')
    await page.waitForFunction('location.hash.includes("min_latency_ms=1000")')
    const rows = page.locator('table.turns[data-filters*="min_latency_ms=1000"] tbody tr')
    await rows.first().waitFor()
    t.same(await rows.locator('.message-cell').allTextContents(), ['take your time: how do sessions expire?'], 'only the slow turn')
    await rows.first().click()
    await page.locator('.waterfall-span').first().waitFor()
    const names = await page.locator('.waterfall-span .span-name').allTextContents()
    const durations = (await page.locator('.waterfall-span .waterfall-row > .number').allTextContents()).map(durationMs)
    // The request, the turn and the span around the statements hold the time their children take: the slowest leaf says where it went.
    const leaves = names.map((name, i) => ({ name, ms: durations[i]! })).filter(({ name }) => !['POST /v1/chat', 'chat.turn', 'reply.persist'].includes(name))
    const slowest = leaves.sort((a, b) => b.ms - a.ms)[0]
    // Only a statement over DB_QUERY_SPAN_MS is a span: this one, the turn's write.
    t.match(slowest, { name: 'WITH sessions' }, `a database statement: ${JSON.stringify(slowest)}`)
    t.ok(slowest!.ms >= 1400, 'and its time')
    t.same(problems, [], 'no failing request, no error in the browser console')
  })

  await t.test('a thumbs down on the chat page appears in the console', async t => {
    const { page, problems } = await openPage(t, browser, signInCheck)
    await page.goto(`${server.base}/chat?user=thumbs-user`)
    await page.getByLabel('Message').fill('how do I delete a session?')
    // The answer streams: leaving before its last event would abort the request (a loaded machine is slow to end it).
    const answered = page.waitForResponse(response => response.url().endsWith('/v1/chat') && response.request().method() === 'POST')
    await page.getByLabel('Message').press('Enter')
    await (await answered).finished()
    await page.getByRole('button', { name: 'Not helpful' }).click()
    await page.getByText('Thanks for your feedback').waitFor()
    await page.goto(`${server.base}/console#/conversations?feedback=down`)
    await signIn(page, ADMIN)
    const rows = page.locator('table.turns tbody tr')
    await rows.first().waitFor()
    t.same(await rows.locator('.message-cell').allTextContents(), ['how do I delete a session?'], 'the rated answer, under "Feedback down"')
    t.match(await rows.first().textContent(), 'down')
    t.same(problems, [], 'no failing request, no error in the browser console')
  })

  await t.test('an analyst sees words scrubbed and users by pseudonym, and no more', async t => {
    const { page, problems } = await openPage(t, browser, signInCheck)
    await page.goto(`${server.base}/console#/conversations?q=traces`)
    await signIn(page, ANALYST)
    const row = page.locator('table.turns tbody tr', { hasText: 'how do I view traces?' })
    await row.first().waitFor()
    t.match(await page.locator('.who').textContent(), "You see users' words scrubbed, and pseudonyms")
    const text = await page.locator('table.turns').textContent() ?? ''
    t.match(text, '[EMAIL]', 'the e-mail address as the scrubber\'s placeholder')
    t.match(text, /u_[0-9a-f]{16}/, 'the user as a pseudonym')
    t.notMatch(text, /jane\.doe@example\.com|jane-raw-id/, 'neither the address nor the raw user id')
    await row.first().click()
    await page.locator('table.logs tbody tr').first().waitFor()
    t.notMatch(await page.locator('.conversation').textContent() ?? '', /jane\.doe@example\.com|jane-raw-id/, 'nor in the conversation or its log lines')
    t.same(problems, [], 'no failing request, no error in the browser console')
  })

  await t.test('a link with filters a view cannot apply says which, and a long user id is shown whole', async t => {
    const longUser = 'customer-account-7f3e9c21-5b8d-4e6a-9f10-2c4b7d8e1a36@tenant.example'
    await fetch(`${server.base}/v1/chat`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ message: 'how do sessions expire?', user_id: longUser }) })
    const { page, problems } = await openPage(t, browser, signInCheck)
    await page.goto(`${server.base}/console#/conversations?min_latency_ms=abc&kind=answered&q=sessions`)
    await signIn(page, ADMIN)
    const notice = page.getByRole('status')
    await notice.waitFor()
    t.match(await notice.textContent(), /kind=answered \(one of answer, .*\); min_latency_ms=abc \(a whole number of milliseconds\)/, 'both, with what they take')
    const cell = page.locator('table.turns tbody tr', { hasText: 'how do sessions expire?' }).locator('td.user')
    await cell.first().waitFor()
    t.equal(await cell.first().textContent(), longUser)
    const cut = await cell.first().evaluate(element => element.scrollWidth > element.clientWidth)
    t.equal(cut, false, 'wrapped in its column, not cut')

    await page.goto(`${server.base}/console#/overview?period=year`)
    await page.locator('.tile').first().waitFor()
    t.match(await page.getByRole('status').textContent(), /period=year \(one of hour, day, week\)\.\s*It shows the last day\./, 'the overview says so too')
    t.same(problems, [], 'no failing request, no error in the browser console')
  })
})
