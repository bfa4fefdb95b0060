import t from 'tap'
import { decideReply } from '../../../src/chat/reply-decision.js'
import { SearchEngine } from '../../../src/search/search-engine.js'

const engine = new SearchEngine()
engine.upsert({ id: 'import', title: 'Importing documents', passages: [{ ordinal: 0, text: 'Run the import script to load documents from a folder.' }] })

t.test('small talk is decided before any search', async t => {
  t.same(decideReply(engine, 'thanks!'), { kind: 'smalltalk', hits: [], smallTalk: 'thanks' })
})

t.test('markup tags are not searched for: "<script>" is not a question about scripts', async t => {
  t.equal(decideReply(engine, '<script>alert(1)</script>').kind, 'no_answer')
  t.equal(decideReply(engine, 'how do I run the import script?').kind, 'answer')
})

t.test('the decision carries its evidence and confidence', async t => {
  const decided = decideReply(engine, 'how do I load documents from a folder?')
  t.match(decided, { kind: 'answer', evidence: { coverage: 1 }, decision: { answer: true } })
  t.ok(decided.decision!.confidence > 0.5)
})
