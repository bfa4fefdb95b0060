// The chat page and the widget in Chromium, against the real server: a conversation with sources,
// feedback by the thumbs, markup in a message shown as text and never run, the content security
// policy sent and nothing refused by it, a turn refused with Retry-After sent again and answered,
// and the widget on another site's page opening the chat in a frame when, and only when, that
// site is in CHAT_WIDGET_ORIGINS.
import { createServer } from 'node:http'
import { once } from 'node:events'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import t from 'tap'
import { createServerDatabase, waitFor } from '../helper.js'
import { startServer } from '../server-process.js'
import { behindProxy } from '../tcp-proxy.js'
import { startScriptedModel } from '../../bench/scripted-model.js'
import { launchBrowser, openPage, SCREENSHOTS } from './browser.js'

const POLICY = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'self'; base-uri 'none'; form-action 'self'"
const directives = (policy: string | undefined): string[] => (policy ?? '').split(';').map(directive => directive.trim())

interface StoredMessage { turn: number, role: string, content: string, kind: string | null, command: string | null }

t.test('the chat page: a conversation with sources, thumbs down recorded, markup shown as text', async t => {
  const server = await startServer(t)
  const browser = await launchBrowser(t)
  const { page, problems } = await openPage(t, browser)

  const response = await page.goto(`${server.base}/chat?user=u-chat`)
  t.equal(response?.status(), 200)
  const headers = response!.headers()
  t.same(directives(headers['content-security-policy']), directives(POLICY), 'the strict policy, framed only by Parley itself')
  t.equal(headers['x-frame-options'], undefined, 'frame-ancestors decides who frames it')
  t.match(headers['content-type'], /^text\/html/)

  // The knowledge base may be the team's own by now: the empty page suggests no question about Parley.
  t.equal(await page.locator('.chat-log .empty').textContent(), 'No messages yet. Type /help to see the commands.')
  const message = page.getByLabel('Message')
  await message.fill('how do I view traces?')
  await message.press('Enter')
  const reply = page.locator('.message.bot').first()
  await reply.waitFor()
  t.match(await reply.locator('.kind').textContent(), 'Answer', 'answered from the knowledge base')
  const sources = await reply.locator('.sources li').allTextContents()
  t.ok(sources.some(source => source.startsWith('Viewing traces, logs and metrics')), `sources name their documents by title: ${sources[0]}`)
  // A customer reads titles; a document's id is the team's name for it.
  t.notOk(sources.some(source => source.includes('tracing-and-logs')), 'and not by id')
  // The reply quotes one document: the others found are related, not its sources.
  t.same(await reply.locator('.sources:not(.related) h2').allTextContents(), ['Source'])
  t.same(await reply.locator('.sources:not(.related) .source-title').allTextContents(), ['Viewing traces, logs and metrics'], 'its source is the one it quotes')
  const related = await reply.locator('.sources.related .source-title').allTextContents()
  t.ok(related.length > 0 && !related.includes('Viewing traces, logs and metrics'), `the others found are listed as related: ${related.join('; ')}`)
  t.equal(await reply.locator('.sources.related h2').textContent(), 'Related')
  t.notMatch(await reply.locator('.text').textContent(), /tracing-and-logs/, 'nor does the reply')
  // The API's reply ends "Source: <title>"; on the page the title is named once, under the reply.
  t.equal((await reply.locator('.bubble').innerText()).split('Viewing traces, logs and metrics').length - 1, 1, 'the source is named once')
  t.notMatch(await reply.locator('.text').textContent(), /Source:/)
  // The reply quotes the passage; under "Sources" it is not shown a second time.
  const replyText = (await reply.locator('.text').textContent() ?? '').replace(/\s+/g, ' ')
  const snippets = await reply.locator('.sources .snippet').allTextContents()
  const repeated = snippets.filter(snippet => snippet.split('\u2026').map(piece => piece.replace(/\s+/g, ' ').trim()).filter(piece => piece !== '').every(piece => replyText.includes(piece)))
  t.same(repeated, [], 'the passage the reply quotes is shown once')
  await reply.locator('.sources a', { hasText: 'Viewing traces, logs and metrics' }).click()
  const dialog = page.getByRole('dialog', { name: 'Viewing traces, logs and metrics' })
  await dialog.locator('.source-text').waitFor()
  const sourceText = await dialog.locator('.source-text').textContent() ?? ''
  t.match(sourceText, /x-trace-id/, 'a source is a link that opens the whole document')
  t.match(sourceText, /^This page says what Parley offers/, 'under its title, which is not repeated as the text\'s heading')
  await dialog.getByRole('button', { name: 'Close' }).click()
  await dialog.waitFor({ state: 'detached' })
  t.equal(await message.inputValue(), '', 'the box is emptied once sent')

  await page.getByRole('button', { name: 'Not helpful' }).click()
  await page.getByText('Thanks for your feedback').waitFor()
  t.equal(await page.getByText('/feedback').count(), 0, 'the rating is not shown as a typed command')
  t.equal(await page.getByRole('button', { name: 'Not helpful' }).count(), 0, 'the thumbs go once rated')
  const sessionId = await page.evaluate('sessionStorage.getItem("parley.chat.session")') as string | null
  t.ok(sessionId, 'the session is kept in sessionStorage')
  const stored = await (await fetch(`${server.base}/v1/sessions/${sessionId}/messages`)).json() as { messages: StoredMessage[] }
  t.match(stored.messages.filter(m => m.turn === 2), [
    { turn: 2, role: 'user', content: '/feedback down' },
    { turn: 2, role: 'bot', kind: 'command', content: /feedback \(down\) on the answer of turn 1 is recorded/ }
  ], 'the thumbs down is recorded on the answer, in the same session')

  const markup = '<img src=x onerror=window.__pwned=1>'
  await message.fill(markup)
  await message.press('Enter')
  await page.locator('.message.bot').nth(1).waitFor()
  t.equal(await page.locator('.message.user .bubble').last().textContent(), markup, 'the message is shown as it was typed')
  t.equal(await page.locator('.chat-log img').count(), 0, 'no element was made from it')
  t.equal(await page.evaluate('window.__pwned'), undefined, 'and nothing ran')

  await page.screenshot({ path: join(SCREENSHOTS, 'chat.png') })

  await page.reload()
  await page.locator('.message.bot').nth(1).waitFor()
  t.equal(await page.locator('.message.user').count(), 2, 'a reload shows the conversation again')
  t.equal(await page.getByText('Thanks for your feedback').count(), 1, 'the rating still reads as thanks')

  // A question the knowledge base does not answer names the nearest topics in its text, and
  // nothing more: their passages under "not in the knowledge base" read as an answer to a trial's user.
  await message.fill('what is the weather in Paris tomorrow?')
  await message.press('Enter')
  const refusal = page.locator('.message.bot').nth(2)
  await refusal.waitFor()
  t.equal(await refusal.locator('.kind').textContent(), 'Not in the knowledge base')
  t.match(await refusal.locator('.text').textContent(), /The nearest topics? I know:\s\S/)
  t.equal(await refusal.locator('.sources').count(), 0, 'no sources, no passage')

  t.same(problems, [], 'no error in the console, no refused or failed request')
  t.equal(await server.stop(), 0)
})

t.test('with a model writing answers, the reply streams in as it is written and the stored reply replaces it', async t => {
  const model = await startScriptedModel(t)
  // The model writes a few words and then stalls: the page shows them, and when the total deadline
  // passes the turn falls back to the passage, which the page shows in their place.
  model.script({ kind: 'stall', text: 'Open Jaeger and ' })
  const server = await startServer(t, { LLM_BASE_URL: model.url, LLM_MODEL: 'scripted-model', LLM_TIMEOUT_MS: '2500' })
  const browser = await launchBrowser(t)
  const { page, problems } = await openPage(t, browser)
  await page.goto(`${server.base}/chat`)
  await page.getByLabel('Message').fill('how do I view traces?')
  await page.getByLabel('Message').press('Enter')
  const writing = page.locator('.message.writing')
  await writing.waitFor()
  t.equal(await writing.textContent(), 'Open Jaeger and ', 'the words written so far, before the turn is done')
  const reply = page.locator('.message.bot')
  await reply.waitFor()
  t.equal(await writing.count(), 0, 'the text being written is gone once the reply is in')
  t.match(await reply.locator('.kind').textContent(), 'Answer')
  t.notMatch(await reply.locator('.text').textContent(), 'Open Jaeger and', 'the reply is the one stored: the passage, as the model did not finish')
  t.ok(model.requests.length === 1, 'one call to the model')
  t.same(problems, [], 'no error in the console, no refused or failed request')
  t.equal(await server.stop(), 0)
})

const serverUrl = process.env.TEST_DATABASE_URL ?? ''

t.test('a turn refused while the database is away is sent again after Retry-After, and answered once it is back', { skip: serverUrl === '' && 'needs TEST_DATABASE_URL' }, async t => {
  // The database is taken away for real: a TCP proxy between the server and PostgreSQL, cut and restored.
  const database = await createServerDatabase(serverUrl)
  t.teardown(() => database.drop())
  const { proxy, url } = await behindProxy(t, database.url)
  const server = await startServer(t, { DATABASE_URL: url, SHED_RETRY_AFTER: '1' })
  const ready = async (): Promise<number> => (await fetch(`${server.base}/ready`)).status
  const browser = await launchBrowser(t)
  const refusedTurn = (address: URL, status: number): boolean => address.pathname === '/v1/chat' && status === 503
  const { page, problems } = await openPage(t, browser, refusedTurn)
  const retryAfters: Array<string | undefined> = []
  page.on('response', response => {
    if (refusedTurn(new URL(response.url()), response.status())) retryAfters.push(response.headers()['retry-after'])
  })
  await page.goto(`${server.base}/chat?user=u-retry`)

  await proxy.cut()
  t.ok(await waitFor(async () => await ready() === 503), '/ready: the database is away')
  const message = page.getByLabel('Message')
  await message.fill('how do I view traces?')
  await message.press('Enter')
  const waiting = page.locator('.typing[role=status]')
  await waiting.waitFor()
  t.match(await waiting.textContent(), /^Parley is busy; trying again in [12] s…$/, 'the user is told the page will try again')
  t.equal(await page.locator('.error').count(), 0, 'and shown no error')

  await proxy.restore()
  const reply = page.locator('.message.bot')
  await reply.waitFor({ timeout: 30_000 })
  t.match(await reply.locator('.kind').textContent(), 'Answer', 'answered once the database is back')
  t.equal(await page.locator('.error').count(), 0, 'no error shown')
  t.equal(await waiting.count(), 0, 'nor the wait any longer')
  t.ok(retryAfters.length >= 1, `refused ${retryAfters.length} time(s) meanwhile`)
  t.ok(retryAfters.every(value => value === '1'), 'each refusal said when to come back')
  const sessionId = await page.evaluate('sessionStorage.getItem("parley.chat.session")') as string
  const stored = await (await fetch(`${server.base}/v1/sessions/${sessionId}/messages`)).json() as { messages: StoredMessage[] }
  t.match(stored.messages, [{ turn: 1, role: 'user', content: 'how do I view traces?' }, { turn: 1, role: 'bot', kind: 'answer' }], 'the turn is kept once')
  t.equal(stored.messages.length, 2)
  t.same(problems, [], 'nothing failed but the refusals')
  t.equal(await server.stop(), 0)
})

t.test('the widget on another site opens the chat in a frame when the site is allowed, and only then', async t => {
  // Two sites of our own: one listed in CHAT_WIDGET_ORIGINS, one not.
  const site = async () => {
    let parley = ''
    const server = createServer((_request, response) => {
      response.setHeader('content-type', 'text/html; charset=utf-8')
      response.end(`<!doctype html><title>A team's help centre</title><h1>Help centre</h1>
        <script src="${parley}/widget.js" data-parley-user="u-widget" defer></script>`)
    })
    server.listen(0, '127.0.0.1')
    await once(server, 'listening')
    t.teardown(() => { server.close() })
    return { origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, serve: (base: string) => { parley = base } }
  }
  const allowed = await site()
  const other = await site()
  const server = await startServer(t, { KB_SEED_DIR: '', CHAT_WIDGET_ORIGINS: allowed.origin })
  allowed.serve(server.base)
  other.serve(server.base)
  const browser = await launchBrowser(t)

  await t.test('an allowed site', async t => {
    const { page, problems } = await openPage(t, browser)
    await page.goto(allowed.origin)
    await page.getByRole('button', { name: 'Open the chat' }).click()
    const frame = page.frameLocator('iframe[title="Chat with Parley"]')
    await frame.getByLabel('Message').fill('hello')
    await frame.getByLabel('Message').press('Enter')
    await frame.locator('.message.bot').waitFor()
    const address = new URL(await page.locator('iframe').getAttribute('src') ?? '')
    t.equal(address.origin, server.base, 'the frame loads from the Parley that served the script')
    t.equal(address.searchParams.get('user'), 'u-widget', 'with the user named on the script')
    const sessionId = await page.frames()[1]!.evaluate('sessionStorage.getItem("parley.chat.session")') as string | null
    const session = await (await fetch(`${server.base}/v1/sessions/${sessionId}`)).json() as { user_id: string }
    t.equal(session.user_id, 'u-widget', 'the conversation is the user\'s')
    await page.getByRole('button', { name: 'Close the chat' }).click()
    t.equal(await page.locator('iframe').isVisible(), false, 'the button closes it again')
    t.same(problems, [], 'nothing failed or was refused')
  })

  await t.test('a site not in CHAT_WIDGET_ORIGINS', async t => {
    const { page, problems } = await openPage(t, browser)
    await page.goto(other.origin)
    const refused = page.waitForEvent('console', message => message.text().includes('frame-ancestors'))
    await page.getByRole('button', { name: 'Open the chat' }).click()
    t.match((await refused).text(), /Framing .* violates .*"frame-ancestors 'self' http:\/\/127\.0\.0\.1:\d+".* blocked/, 'the browser refuses to frame the chat')
    // The refusal is reported twice: in the console, and as the frame's request blocked by the response.
    t.same(problems.filter(problem => !problem.includes('frame-ancestors') && !problem.includes('ERR_BLOCKED_BY_RESPONSE')), [], 'and nothing else went wrong')
  })
  t.equal(await server.stop(), 0)
})
