// Everything an analyst may read, walked: every GET route of the OpenAPI document, called with the
// analyst's key and with the ids the analyst was shown, after real conversations that hold a raw
// user id, an e-mail address, a card number, a name, a street address, a follow-up, a reset and a
// rating. No answer may carry a session id, the raw user id or the unscrubbed words, whatever
// LOG_USER_ID writes in the log files. A route added later fails this test until it is walked here too.
import t from 'tap'
import { Writable } from 'node:stream'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { DestinationStream } from 'pino'
import { createLogger } from '../../../src/logging/logger.js'
import { errorLogFields } from '../../../src/logging/error-fingerprint.js'
import { buildTestApp, openTestPGlite, tempDir } from '../../helper.js'

const ADMIN = 'admin-key-0123456789abcdef'
const ANALYST = 'analyst-key-0123456789abcdef'
const USER_ID = 'customer-7f3a91'
const EMAIL = 'jane.doe@example.com'
const CARD = '4111 1111 1111 1111'
const NAME = 'Ottoline Quibble'
const STREET = '1428 Elm Street'

for (const logUserId of ['hashed', 'plain']) {
  t.test(`an analyst's every answer names no session, no raw user id and no unscrubbed words (LOG_USER_ID=${logUserId})`, async t => {
    const db = await openTestPGlite(t)
    // The turn traces keep the log lines the app writes at info.
    const destination = new Writable({ write (_chunk, _encoding, done) { done() } }) as unknown as DestinationStream
    const logger = createLogger({ level: 'info', service: 'parley', version: 'test', env: 'test', destination })
    const logDir = await tempDir(t)
    const app = await buildTestApp(t, { API_KEYS: `${ADMIN}:admin,${ANALYST}:analyst`, LOG_ID_SECRET: 'pseudonym-secret', LOG_DIR: logDir, LOG_LEVEL: 'info', LOG_USER_ID: logUserId }, { logger, database: db })
    const admin = { authorization: `Bearer ${ADMIN}` }
    const analyst = { authorization: `Bearer ${ANALYST}` }

    const sessionIds: string[] = []
    const chat = async (message: string, sessionId?: string): Promise<string> => {
      const response = await app.inject({ method: 'POST', url: '/v1/chat', payload: { message, user_id: USER_ID, ...(sessionId === undefined ? {} : { session_id: sessionId }) } })
      t.equal(response.statusCode, 200, message)
      const id = response.json<{ session_id: string }>().session_id
      if (!sessionIds.includes(id)) sessionIds.push(id)
      return id
    }
    const first = await chat(`my card is ${CARD} and my mail ${EMAIL}: how do sessions expire?`)
    await chat('and what is the default?', first)
    await chat(`/feedback down wrong, write to ${EMAIL}`, first)
    await chat('do you sell bicycles?', first)
    await chat('/history 5', first)
    await chat('/reset', first)
    await chat(`is my card ${CARD} stored?`)
    await chat(`hello, my name is ${NAME} and I moved to ${STREET}: where do I change my address?`)
    await app.turnTraces.flush()
    // The error report reads error.log: one error as the logger writes it, naming a session.
    const errorLine = { level: 'error', time: new Date().toISOString(), msg: 'chat.turn_failed', module: 'chat', session_id: first, ...errorLogFields(new Error(`no reply for ${EMAIL}`)) }
    await writeFile(join(logDir, `error.${new Date().toISOString().slice(0, 10)}.1.log`), JSON.stringify(errorLine) + '\n')
    await app.inject({ method: 'POST', url: '/console/api/evaluation-questions', headers: admin, payload: { questions: [{ question: `do you keep ${EMAIL}?`, expected: null }] } })
    t.equal((await app.inject({ method: 'POST', url: '/v1/kb/evaluations', headers: admin, payload: {} })).statusCode, 201)
    t.ok(sessionIds.length >= 3, `${sessionIds.length} sessions`)

    const forbidden = [...sessionIds, ...sessionIds.map(id => id.toUpperCase()), USER_ID, EMAIL, CARD, CARD.replaceAll(' ', ''), ...NAME.split(' '), STREET]
    const read = async (url: string): Promise<{ status: number, body: string }> => {
      const response = await app.inject({ url, headers: analyst })
      return { status: response.statusCode, body: response.body }
    }
    const shown: Array<{ url: string, status: number, body: string }> = []
    const visit = async (url: string) => {
      const answer = await read(url)
      shown.push({ url, ...answer })
      return answer
    }

    // What the analyst is shown first gives the ids the other routes are opened with.
    const list = JSON.parse((await visit('/console/api/conversations')).body) as { turns: Array<{ session_id: string | null, trace_id: string | null }> }
    const refs = [...new Set(list.turns.map(turn => turn.session_id).filter(ref => ref !== null))]
    const traceIds = list.turns.map(turn => turn.trace_id).filter(id => id !== null)
    t.ok(refs.length >= 2 && traceIds.length >= 5, `conversations and traces to open (${refs.length}, ${traceIds.length})`)
    for (const query of ['kind=no_answer', 'feedback=down', 'errors=true', 'q=card', `user=${USER_ID}`, 'min_latency_ms=0', 'q=Quibble']) await visit(`/console/api/conversations?${query}`)
    const conversations = []
    for (const ref of refs) conversations.push(JSON.parse((await visit(`/console/api/conversations/${ref}`)).body) as { turns: Array<{ sources: Array<{ doc_id: string }> }> })
    for (const id of traceIds) await visit(`/console/api/traces/${id}`)
    const runs = JSON.parse((await visit('/v1/kb/evaluations')).body) as { runs: Array<{ id: string }> }
    const docIds = [...new Set(conversations.flatMap(c => c.turns.flatMap(turn => turn.sources.map(source => source.doc_id))))]

    const opened: Record<string, string[]> = {
      '/v1/sessions/{id}': refs,
      '/v1/sessions/{id}/messages': refs,
      '/v1/sources/{id}': docIds,
      '/v1/kb/documents/{id}': docIds,
      '/v1/kb/evaluations/{id}': runs.runs.map(run => run.id),
      '/console/api/evaluations/{id}': runs.runs.map(run => run.id),
      '/console/api/conversations/{session_id}': refs,
      '/console/api/traces/{trace_id}': traceIds
    }
    const spec = (await app.inject({ url: '/docs/json' })).json<{ paths: Record<string, Record<string, unknown>> }>()
    const paths = Object.entries(spec.paths).filter(([, methods]) => 'get' in methods).map(([path]) => path)
    for (const path of paths) {
      if (!path.includes('{')) {
        await visit(path)
        continue
      }
      const ids = opened[path]
      if (ids === undefined) {
        t.fail(`${path}: a route with an id that this test does not open yet`)
        continue
      }
      t.ok(ids.length > 0, `${path} is opened with what the analyst was shown`)
      for (const id of ids) await visit(path.replace(/\{[^}]+\}/, encodeURIComponent(id)))
    }
    for (const page of ['/', '/console', '/chat', '/widget.js']) await visit(page)

    const read200 = shown.filter(answer => answer.status === 200)
    const errors = read200.find(answer => answer.url === '/v1/analytics/errors')
    t.match(JSON.parse(errors?.body ?? '{}'), { patterns: [{ sample_session_ids: [/^c_/] }] }, 'the error report is read, with its samples')
    t.ok(read200.some(answer => answer.url.startsWith('/console/api/traces/') && answer.body.includes('chat.message_received')), 'traces are read, with their log lines')
    t.ok(read200.some(answer => answer.url.startsWith('/console/api/conversations/') && answer.body.includes('[CARD]')), 'conversations are read, scrubbed')
    t.notOk(shown.some(answer => /^\/v1\/sessions\//.test(answer.url) && answer.status === 200), 'a reference opens no session through the chat API')
    t.ok(read200.some(answer => answer.url.startsWith('/console/api/traces/') && /"user_id":"u_[0-9a-f]{16}"/.test(answer.body)), 'a trace\'s log lines name the user by pseudonym')
    t.ok(read200.some(answer => answer.url.startsWith('/console/api/conversations/') && answer.body.includes('my name is [NAME]')), 'a name is scrubbed from what the analyst reads')
    for (const answer of shown) {
      const leaked = forbidden.filter(text => answer.body.includes(text))
      t.same(leaked, [], `${answer.url} (${answer.status})`)
    }
  })
}
