// The console's Accuracy view in Chromium against the real server: an admin turns an unanswered
// question into a test question from its conversation ("Add to test set", picking the document
// that should answer it or none), runs the saved test set from the Accuracy view, and sees the
// run's counts and accuracy, its question-by-question table and the runs before it; an analyst
// sees the same view without the button. An admin who names the document that should have answered
// also adds the user's words to its phrasings, and the same words are answered from it then. No request fails and the browser console shows no error.
import t, { type Test } from 'tap'
import { startServer } from '../server-process.js'
import { launchBrowser, openPage, signIn, signInCheck } from './browser.js'

const ADMIN = 'accuracy-admin-key-0123456789'
const ANALYST = 'accuracy-analyst-key-0123456789'
const OUT_OF_SCOPE = 'What is the best recipe for a chocolate cake with raspberries?'

t.test('the Accuracy view and "Add to test set", on the real API', async t => {
  // A machine busy starting Chromium beside the server can see a second of event-loop delay, which
  // would shed the turns this test needs (load shedding is tested in load-shedding.test.ts).
  const server = await startServer(t, { API_KEYS: `${ADMIN}:admin,${ANALYST}:analyst`, MAX_EVENT_LOOP_DELAY_MS: '0' })
  const api = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${server.base}${path}`, { method, headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) })
    return { status: response.status, body: await response.json() as Record<string, unknown> }
  }
  const chat = async (message: string) => await (await fetch(`${server.base}/v1/chat`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ message, user_id: 'u1' }) })).json() as { session_id: string, kind: string, sources: Array<{ doc_id: string }> }
  const turn = await chat(OUT_OF_SCOPE)
  t.equal(turn.kind, 'no_answer', `the bundled docs do not answer it: ${JSON.stringify(turn)}`)
  // A run before, of the same words expected (wrongly) to be answered: other questions than the saved set's.
  t.equal((await api('POST', '/v1/kb/evaluations', { questions: [{ question: OUT_OF_SCOPE, expected: 'chatting' }] })).status, 201)
  const browser = await launchBrowser(t)
  // The unknown document id the first test saves on purpose: its phrasing cannot be added (404).
  const refusedId = (url: URL, status: number): boolean => url.pathname === '/console/api/kb/documents/no-such-document/questions' && status === 404
  const openConsole = async (t: Test, key: string) => {
    const watched = await openPage(t, browser, (url, status) => signInCheck(url, status) || refusedId(url, status))
    await watched.page.goto(`${server.base}/console`)
    await signIn(watched.page, key)
    await watched.page.getByLabel('Search conversations').waitFor()
    return watched
  }

  await t.test('an admin adds the unanswered question to the test set, runs the set and reads the report', async t => {
    const { page, problems } = await openConsole(t, ADMIN)

    await page.goto(`${server.base}/console#/conversations/${turn.session_id}`)
    await page.getByRole('button', { name: 'Add to test set' }).click()
    const choice = page.getByLabel('Should be answered from')
    const options = await choice.locator('option').allTextContents()
    t.ok(options.length >= 4, `a prompt, the nearest documents, another by id and none: ${options.join(', ')}`)
    t.match(options.at(-1), /^none/)
    const save = page.getByRole('button', { name: 'Save' })
    t.ok(await save.isDisabled(), 'nothing is chosen at first, so Save records no guess')
    await choice.selectOption({ label: 'another document, by its id…' })
    await page.getByLabel('Document id').fill('no-such-document')
    await save.click()
    t.match(await page.getByRole('alert').textContent(), 'no-such-document', 'an id the knowledge base does not hold is named')
    await choice.selectOption('none')
    await page.getByRole('button', { name: 'Save' }).click()
    t.match(await page.getByRole('status').textContent(), 'Added to the test set (expected: none).')
    const saved = await api('GET', '/v1/kb/evaluation-questions')
    t.match(saved.body.questions, [{ question: OUT_OF_SCOPE, expected: [], source: 'console' }])

    await page.getByRole('link', { name: 'Accuracy' }).first().click()
    const run = page.getByRole('button', { name: 'Run the saved test set (1 question)' })
    await run.waitFor()
    t.match(await page.locator('.tiles').textContent(), /Accuracy0\.0 %/, 'the latest run so far: the one made through the API')
    await run.click()
    // The API's run asked for another document: no change is read against it.
    const accuracy = page.locator('.tile', { hasText: 'Accuracy' })
    await accuracy.filter({ hasText: '100.0 %' }).filter({ hasText: 'first run of these questions' }).waitFor()
    t.match(await page.locator('.tile', { hasText: 'Refused, out of scope' }).textContent(), 'Refused, out of scope1')
    const row = page.locator('table.results tbody tr')
    t.equal(await row.count(), 1)
    t.match(await row.textContent(), /refused, out of scope.*chocolate cake.*none.*no_answer/)
    await run.click()
    await accuracy.filter({ hasText: 'same as the last run of these questions' }).waitFor()
    await page.locator('table.runs tbody tr').nth(2).waitFor()
    t.equal(await page.locator('table.runs tbody tr').count(), 3, 'every run, newest first')
    t.match(await page.locator('table.runs tbody tr').first().textContent(), /saved.*100\.0 %/)

    // An earlier run opens by its link.
    await page.locator('table.runs tbody tr').nth(2).getByRole('link').click()
    await page.locator('.tile', { hasText: /^Accuracy0\.0 %/ }).waitFor()
    t.match(await page.locator('table.results').textContent(), 'refused, answerable')
    t.same(problems, [], 'no failed request, no error in the console')
  })

  await t.test('the words of an unanswered question, added to the phrasings of its document, are answered from it', async t => {
    const words = 'how do I wipe everything a customer said?'
    const before = await chat(words)
    t.equal(before.kind, 'no_answer', 'the bundled documents do not say it in these words')
    const { page, problems } = await openConsole(t, ADMIN)
    await page.goto(`${server.base}/console#/conversations/${before.session_id}`)
    await page.getByRole('button', { name: 'Add to test set' }).click()
    t.equal(await page.getByLabel('and add these words to its phrasings').count(), 0, 'nothing to teach while the answer is "none"')
    await page.getByLabel('Should be answered from').selectOption('personal-data')
    t.ok(await page.getByLabel('and add these words to its phrasings').isChecked(), 'with a document, its phrasings learn the words')
    await page.getByRole('button', { name: 'Save' }).click()
    t.match(await page.getByRole('status').textContent(), 'Added to the test set (expected: personal-data) and to personal-data\'s phrasings.')
    t.match((await api('GET', '/v1/kb/documents/personal-data')).body, { metadata: { questions: [words] } })
    t.match(await chat(words), { kind: 'answer', sources: [{ doc_id: 'personal-data' }] })
    t.same(problems, [], 'no failed request, no error in the console')
  })

  await t.test('an analyst reads the runs, without the button', async t => {
    const { page, problems } = await openConsole(t, ANALYST)
    await page.goto(`${server.base}/console#/accuracy`)
    await page.locator('table.runs tbody tr').nth(1).waitFor()
    t.equal(await page.getByRole('button', { name: /Run the saved test set/ }).count(), 0)
    t.same(problems, [])
  })
})
