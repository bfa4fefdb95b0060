import t from 'tap'
import { decideFromSearch, decideReply, warmUpReplyDecision, withoutMarkup, withoutPersonalData } from '../../../src/chat/reply-decision.js'
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

t.test('the warm-up decides nothing for later: the questions after it are decided as without it', async t => {
  const questions = ['how do I load documents from a folder?', 'what colour is the import script?', 'hi', 'refunds']
  const cold = questions.map(question => decideReply(engine, question))
  const warmed = new SearchEngine()
  warmed.upsert({ id: 'import', title: 'Importing documents', passages: [{ ordinal: 0, text: 'Run the import script to load documents from a folder.' }] })
  warmUpReplyDecision(warmed)
  t.same(questions.map(question => decideReply(warmed, question)), cold)
  t.doesNotThrow(() => { warmUpReplyDecision(new SearchEngine()) }, 'nor does it fail on an empty knowledge base')
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
  t.equal(withoutPersonalData('open on mondays? My email is jane.doe@example.com and my phone number is 07700 900123'), 'open on mondays?   and  ',
    'the words that hand a detail over go with it')
  t.equal(withoutPersonalData('Hi, I\'m Maria Gonzalez. Email: maria@example.com, or you can call me on +44 7700 900123.'), 'Hi,  .  , or  .')
  t.equal(withoutPersonalData('how do I update my email maria@example.com?'), 'how do I update my email  ?', 'a detail named without "is" or a colon is the question')
  t.equal(withoutPersonalData('my email is [EXTERNAL] when I write to maria@example.com'), 'my email is [EXTERNAL] when I write to  ', 'and so is what the user typed')
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
  const bare = 'how do I cancel my subscription?'
  const given = `${bare} My email is anna.smith@example.com and my phone number is 07700 900123`
  const [withData, without] = [decideFromSearch(faq, given), decideFromSearch(faq, bare)]
  t.same([withData.decision, withData.evidence.coverage, withData.evidence.unseen], [without.decision, without.evidence.coverage, without.evidence.unseen],
    'with the words that hand them over gone, the same confidence on the same words')
})
