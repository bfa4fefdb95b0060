// Replies through the chat route: small talk, follow-up questions, the user's own documents ahead
// of the bundled ones, and why each question was answered or refused, in its log line.
import t, { type Test } from 'tap'
import { createLogger } from '../../../src/logging/logger.js'
import { buildTestApp } from '../../helper.js'

const ADMIN = 'admin-key-0123456789abcdef'
const headers = { authorization: `Bearer ${ADMIN}` }

const refunds = {
  id: 'refunds',
  title: 'Refunds',
  text: '# Refunds\n\nYou can request a refund within 30 days of purchase. Refunds are paid to the card you paid with, within five working days.\n\n## Refund method\n\nThe default refund method is the original card. You can change it to store credit in your account settings.'
}

async function appWithLines (t: Test, env: Record<string, string> = {}) {
  const lines: Array<Record<string, unknown>> = []
  const logger = createLogger({ level: 'info', service: 'parley', version: 'test', env: 'test', destination: { write: (line: string) => { lines.push(JSON.parse(line)) } } })
  const app = await buildTestApp(t, { API_KEYS: `${ADMIN}:admin`, ...env }, { logger })
  return { app, lines }
}

t.test('greetings, thanks and goodbyes get a short reply of kind smalltalk, not a passage', async t => {
  const { app } = await appWithLines(t)
  for (const message of ['hi', 'Thanks!', 'bye']) {
    const reply = (await app.inject({ method: 'POST', url: '/v1/chat', payload: { message } })).json()
    t.match(reply, { kind: 'smalltalk', sources: [] }, message)
    t.ok(reply.reply.length < 120, `a short reply: ${reply.reply}`)
  }
})

t.test('the bundled docs answer until a team imports its own documents; then the team\'s answer', async t => {
  const { app } = await appWithLines(t)
  const ask = async (message: string) => (await app.inject({ method: 'POST', url: '/v1/chat', payload: { message } })).json()
  t.match(await ask('how do I view traces?'), { kind: 'answer' }, 'a fresh install answers about Parley from its bundled docs')
  t.equal((await app.inject({ method: 'POST', url: '/v1/kb/documents', headers, payload: { documents: [refunds] } })).statusCode, 201)
  const refund = await ask('How long do I have to request a refund?')
  t.match(refund, { kind: 'answer', sources: [{ doc_id: 'refunds' }] }, 'answered from the team\'s refunds document')
  t.match(refund.reply, /within 30 days[\s\S]*Source: Refunds$/, 'quoting its sentences and naming its source')
  t.equal((await ask('how do I view traces?')).kind, 'no_answer', 'Parley\'s own manual no longer answers the team\'s users')
  t.same((await app.inject({ url: '/v1/kb/search?q=traces', headers })).json().results, [], 'an admin\'s search looks where the chat answers from')
  const scoped = (await app.inject({ url: '/v1/kb/search?q=traces&collection=parley', headers })).json()
  t.ok(scoped.results.length > 0, 'the bundled docs are still searchable, scoped by collection')
  t.same((await app.inject({ url: '/v1/kb/search?q=refund&collection=parley', headers })).json().results.filter((hit: { doc_id: string }) => hit.doc_id === 'refunds'), [], 'and the scope keeps other collections out')
  t.equal((await app.inject({ url: '/v1/kb/documents/refunds', headers })).json().collection, 'default')
  t.match((await ask('/search traces')).reply, /No documents match/, '/search looks where questions are answered from')
  t.match(await ask('/search traces --in parley'), { kind: 'command_error', reply: 'No collection "parley" to search: the collections are default.' },
    'nor does --in parley show the bundled docs, no more than GET /v1/sources/:id')
  t.match((await ask('/search refund --in default')).reply, /Refunds/, '--in narrows to a collection that answers')
})

t.test('KB_BUNDLED_DOCS=always keeps the bundled docs answering beside the team\'s', async t => {
  const { app } = await appWithLines(t, { KB_BUNDLED_DOCS: 'always' })
  await app.inject({ method: 'POST', url: '/v1/kb/documents', headers, payload: { documents: [refunds] } })
  t.equal((await app.inject({ method: 'POST', url: '/v1/chat', payload: { message: 'how do I view traces?' } })).json().kind, 'answer')
  t.match((await app.inject({ method: 'POST', url: '/v1/chat', payload: { message: '/search traces --in parley' } })).json().reply, /Viewing traces/, 'and /search --in parley finds them')
})

t.test('a follow-up is searched with the question before it, and the transcript says so', async t => {
  const { app } = await appWithLines(t)
  await app.inject({ method: 'POST', url: '/v1/kb/documents', headers, payload: { documents: [refunds] } })
  const first = (await app.inject({ method: 'POST', url: '/v1/chat', payload: { message: 'How do I get a refund?' } })).json()
  t.equal(first.kind, 'answer')
  const followUp = (await app.inject({ method: 'POST', url: '/v1/chat', payload: { message: 'and what is the default?', session_id: first.session_id } })).json()
  t.match(followUp, { kind: 'answer', sources: [{ doc_id: 'refunds' }] }, 'answered from the topic of the question before')
  t.match(followUp.reply, /default refund method/)
  const alone = (await app.inject({ method: 'POST', url: '/v1/chat', payload: { message: 'and what is the default?' } })).json()
  const aloneReply = (await app.inject({ url: `/v1/sessions/${alone.session_id}/messages` })).json().messages.find((m: { role: string }) => m.role === 'bot')
  t.equal(aloneReply.context_turn, null, 'the same words in a new session have no question to lean on')
  const messages = (await app.inject({ url: `/v1/sessions/${first.session_id}/messages` })).json().messages
  t.match(messages.find((m: { turn: number, role: string }) => m.turn === 2 && m.role === 'bot'), { context_turn: 1 }, 'the reply records the turn that gave it context')
  t.match(messages.find((m: { turn: number, role: string }) => m.turn === 1 && m.role === 'bot'), { context_turn: null })
})

t.test('a follow-up that names what no passage holds is not answered from the topic before', async t => {
  const { app } = await appWithLines(t)
  const ferry = [
    { id: 'cancellation', title: 'What is your cancellation and refund policy?', text: 'Reservations cancelled more than 48 hours before departure are refunded in full, less a fee of £5.' },
    { id: 'bicycles', title: 'Can bicycles be carried on board?', text: 'Bicycles travel free and are stowed on the vehicle deck.' },
    { id: 'wifi', title: 'Is there Wi-Fi on board?', text: 'Free Wi-Fi is available in all passenger lounges.' }
  ]
  await app.inject({ method: 'POST', url: '/v1/kb/documents', headers, payload: { documents: ferry } })
  const first = (await app.inject({ method: 'POST', url: '/v1/chat', payload: { message: 'refund please' } })).json()
  t.match(first, { kind: 'answer', sources: [{ doc_id: 'cancellation' }] })
  const ask = async (message: string) => (await app.inject({ method: 'POST', url: '/v1/chat', payload: { message, session_id: first.session_id } })).json()
  const botTurn = async (turn: number) => (await app.inject({ url: `/v1/sessions/${first.session_id}/messages` })).json().messages
    .find((m: { turn: number, role: string }) => m.turn === turn && m.role === 'bot')
  t.match(await ask('and how much is the fee for that?'), { kind: 'answer', sources: [{ doc_id: 'cancellation' }] },
    'one word no passage holds ("much") among others is no new subject')
  t.match(await botTurn(2), { context_turn: 1 })
  t.match(await ask('what about bikes'), { kind: 'no_answer' }, 'bikes are no part of the refund policy, whatever the words of the two together')
  t.match(await botTurn(3), { context_turn: null })
  const again = (await app.inject({ method: 'POST', url: '/v1/chat', payload: { message: 'can i get a refund if i cancel my reservation' } })).json()
  const bikes = (await app.inject({ method: 'POST', url: '/v1/chat', payload: { message: 'and bikes?', session_id: again.session_id } })).json()
  t.match(bikes, { kind: 'no_answer' }, 'nor is a follow-up whose words find no passage at all')
})

t.test('a follow-up asks its own question about the topic before it', async t => {
  const { app } = await appWithLines(t)
  const shipping = { id: 'shipping', title: 'Shipping FAQ', text: '# Shipping FAQ\n\n## Where do you ship?\n\nWe ship to every country in the European Union.\n\n## How long does shipping take?\n\nStandard shipping takes 3 to 5 business days.\n\n## How much does shipping cost?\n\nStandard shipping is free on orders over 50 euros; below that it costs 4.90 euros.' }
  await app.inject({ method: 'POST', url: '/v1/kb/documents', headers, payload: { documents: [shipping, refunds] } })
  const first = (await app.inject({ method: 'POST', url: '/v1/chat', payload: { message: 'How long does shipping take?' } })).json()
  t.match(first.reply, /3 to 5 business days/)
  const cost = (await app.inject({ method: 'POST', url: '/v1/chat', payload: { message: 'and how much does it cost?', session_id: first.session_id } })).json()
  t.match(cost.reply, /4\.90 euros/, 'the cost of shipping, not its time again')
})

t.test('other phrasings of a document\'s question, in metadata.questions, answer the users who ask that way', async t => {
  const { app } = await appWithLines(t)
  const ask = async (message: string) => (await app.inject({ method: 'POST', url: '/v1/chat', payload: { message } })).json()
  const shipping = { title: 'Shipping', text: 'Orders leave within two working days. Tracking numbers are sent by email.' }
  t.equal((await app.inject({ method: 'POST', url: '/v1/kb/documents', headers, payload: { documents: [refunds, { id: 'shipping', ...shipping }] } })).statusCode, 201)
  t.equal((await ask('where is my parcel?')).kind, 'no_answer', 'the users\' word is not the FAQ\'s')
  const phrased = { ...shipping, metadata: { questions: ['Where is my parcel?'] } }
  t.equal((await app.inject({ method: 'PUT', url: '/v1/kb/documents/shipping', headers, payload: phrased })).statusCode, 200)
  t.match(await ask('where is my parcel?'), { kind: 'answer', sources: [{ doc_id: 'shipping' }] }, 'a phrasing the team gave')
  const bad = await app.inject({ method: 'PUT', url: '/v1/kb/documents/shipping', headers, payload: { ...shipping, metadata: { questions: ['ok', 7] } } })
  t.equal(bad.statusCode, 400)
  t.match(bad.json(), {
    detail: 'body/metadata/questions must be an array of at most 50 questions, each a string of 1 to 500 characters',
    errors: [{ field: 'body/metadata/questions', message: /^must be an array of at most 50 questions/ }]
  }, 'a bad phrasing names the field and the limits')
  const fifty = Array.from({ length: 50 }, (_, n) => `Where is parcel ${n}?`)
  t.equal((await app.inject({ method: 'PUT', url: '/v1/kb/documents/shipping', headers, payload: { ...shipping, metadata: { questions: fifty } } })).statusCode, 200)
  const oneMore = await app.inject({ method: 'POST', url: '/v1/kb/documents/shipping/questions', headers, payload: { question: 'Has my order left?' } })
  t.equal(oneMore.statusCode, 400, 'a phrasing past the limit is refused')
  t.match(oneMore.json(), {
    errors: [{ field: 'body/question', message: /^cannot be added to document shipping: its metadata\.questions must be an array of at most 50/ }]
  }, 'naming the field and the limit')
})

t.test('a refused question names the nearest topics; the log line says why it was refused or answered', async t => {
  const { app, lines } = await appWithLines(t)
  await app.inject({ method: 'POST', url: '/v1/kb/documents', headers, payload: { documents: [refunds] } })
  const refused = (await app.inject({ method: 'POST', url: '/v1/chat', payload: { message: 'Can you write me a poem about refunds, cats and dogs?' } })).json()
  t.equal(refused.kind, 'no_answer')
  t.match(refused.reply, /The nearest topic I know: Refunds\. Could you ask it in other words\?$/)
  t.notMatch(refused.reply, /\//, 'and tells a customer of no command to type')
  const faq = { id: 'wifi', title: 'Is there Wi-Fi on board?', text: 'Yes: free Wi-Fi on every crossing.' }
  const bikes = { id: 'bikes', title: 'Can I take a bike on board?', text: 'Yes: bikes travel free on every crossing.' }
  await app.inject({ method: 'POST', url: '/v1/kb/documents', headers, payload: { documents: [faq, bikes] } })
  const nearQuestion = (await app.inject({ method: 'POST', url: '/v1/chat', payload: { message: 'Which airline has cancelled flights on board to Tokyo?' } })).json()
  t.equal(nearQuestion.kind, 'no_answer')
  const listed = /The nearest topics I know:\n((?:- .+\n)+)Could you ask it in other words\?$/.exec(nearQuestion.reply)
  t.ok(listed, `several topics are a list, a line each, before the question: ${JSON.stringify(nearQuestion.reply)}`)
  t.same(listed?.[1]!.trim().split('\n').sort(), ['- Can I take a bike on board?', '- Is there Wi-Fi on board?'],
    'each title as written, its own question mark kept and nothing added')
  const turns = lines.filter(line => line.msg === 'chat.reply_sent')
  t.match(turns.at(-1), { kind: 'no_answer', decision: 'no_answer', confidence: Number, threshold: 0.5, coverage: Number, relative_score: Number, lead: Number, terms: Number, question_recall: Number, unseen: Number, mutual: Number, corrected: 0, everyday: Number })
  t.notOk('refused_by' in turns.at(-1)!, 'refused by the model, not by a rule')
  await app.inject({ method: 'POST', url: '/v1/chat', payload: { message: 'what time is it in Lisbon?' } })
  t.match(lines.filter(line => line.msg === 'chat.reply_sent').at(-1), { decision: 'no_answer', confidence: 0, refused_by: 'no_shared_word', coverage: 0 },
    'a rule that refused it is named')
  const stored = await app.db.query<{ decision: Record<string, unknown> }>("SELECT decision FROM messages WHERE role = 'bot' AND kind = 'no_answer' ORDER BY created_at DESC, turn DESC LIMIT 1")
  t.match(stored.rows[0]?.decision, { refused_by: 'no_shared_word', confidence: 0 }, 'and kept with the turn, for the console')
  await app.inject({ method: 'POST', url: '/v1/chat', payload: { message: 'How do I request a refund?' } })
  t.match(lines.filter(line => line.msg === 'chat.reply_sent').at(-1), { kind: 'answer', decision: 'answer', coverage: 1 })
  await app.inject({ method: 'POST', url: '/v1/chat', payload: { message: 'How do I request a refnd?' } })
  t.match(lines.filter(line => line.msg === 'chat.reply_sent').at(-1), { kind: 'answer', coverage: 1, corrected: 1 }, 'a misspelt word read as meant, and said so')
})
