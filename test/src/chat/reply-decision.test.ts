import t from 'tap'
import { decideFromSearch, decideReply, withoutMarkup, withoutPersonalData } from '../../../src/chat/reply-decision.js'
import { SearchEngine } from '../../../src/search/search-engine.js'

const engine = new SearchEngine()
engine.upsert({ id: 'import', title: 'Importing documents', passages: [{ ordinal: 0, text: 'Run the import script to load documents from a folder.' }] })

t.test('small talk is decided before any search', async t => {
  t.same(decideReply(engine, 'thanks!'), { kind: 'smalltalk', hits: [], smallTalk: 'thanks' })
})

t.test('markup is not searched for: "<script>" is not a question about scripts, nor its code one about alerts', async t => {
  t.equal(withoutMarkup('<script>alert(1)</script> and <b>bold</b> words'), '  and  bold  words')
  t.equal(withoutMarkup('<SCRIPT type="x">run()</Script >after'), ' after')
  t.equal(withoutMarkup('before <style>p { color: red }'), 'before  ', 'an element left open ends the text')
  t.equal(decideReply(engine, '<script>alert(1)</script>').kind, 'no_answer')
  t.equal(decideReply(engine, 'how do I run the import script?').kind, 'answer')
  // Each opener is read once: with backtracking, 100,000 of them would not end within the test's
  // timeout. The first opens an element left open, which ends the text.
  t.equal(withoutMarkup(`ask ${'<script'.repeat(100_000)}`), 'ask  ', 'crafted openers cost no backtracking')
})

t.test('the decision carries its evidence and confidence', async t => {
  const decided = decideFromSearch(engine, 'how do I load documents from a folder?')
  t.match(decided, { kind: 'answer', evidence: { coverage: 1 }, decision: { answer: true }, quote: 'Run the import script to load documents from a folder.' })
  t.ok(decided.decision.confidence > 0.5)
})

t.test('personal data is not searched for: a question that gives it is answered as one that does not', async t => {
  const faq = new SearchEngine()
  const entry = (id: string, title: string, text: string) => faq.upsert({ id, title, passages: [{ ordinal: 0, text }] })
  entry('reset', 'How do I reset my password?', 'Open the sign-in page, choose Forgot password and follow the link we email you.')
  entry('refunds', 'How do I get a refund?', 'You can request a refund within 30 days of purchase. Refunds are paid to the original card.')
  entry('delivery', 'When will my order arrive?', 'Orders ship within two working days. Tracking numbers are sent by email.')
  entry('cancel', 'How do I cancel my subscription?', 'Go to Account, then Subscription, and choose Cancel.')
  t.equal(withoutPersonalData('mail anna.smith@example.com or call +44 7700 900123'), 'mail   or call  ')
  t.equal(withoutPersonalData('how do I reset my password'), 'how do I reset my password', 'a question without any is left as it is')
  t.equal(withoutPersonalData('why do emails from maria@example.com say [EXTERNAL]?'), 'why do emails from   say [EXTERNAL]?', 'what the user typed in brackets stays')
  const asked = [
    ['I am John Miller, call me on +44 7700 900123, I want a refund', 'refunds'],
    ['order 55123 to 12 Baker Street London NW1 6XE, when will it arrive', 'delivery'],
    ['my email is anna.smith@example.com, how do I reset my password?', 'reset']
  ] as const
  for (const [question, docId] of asked) {
    const raw = faq.searchWithEvidence(question).evidence
    const decided = decideFromSearch(faq, question)
    t.match(decided, { kind: 'answer', hits: [{ docId }] }, question)
    t.ok(decided.evidence.unseen < raw.unseen || decided.evidence.coverage > raw.coverage,
      `its words no passage holds were the personal data (unseen ${raw.unseen.toFixed(2)} -> ${decided.evidence.unseen.toFixed(2)})`)
  }
})
